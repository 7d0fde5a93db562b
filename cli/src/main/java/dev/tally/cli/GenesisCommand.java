package dev.tally.cli;

import dev.tally.node.config.ConfigException;
import dev.tally.node.config.GenesisJson;
import dev.tally.protocol.Genesis;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(
        name = "genesis",
        mixinStandardHelpOptions = true,
        description = "The genesis: what a chain is.",
        subcommands = {GenesisCommand.Hash.class})
final class GenesisCommand extends CommandGroup {

    @Command(
            name = "hash",
            mixinStandardHelpOptions = true,
            description = "Prints the hash that names a chain, genesis_hash:keccak256:<hex>, from a genesis JSON file.",
            footerHeading = "%nThe genesis file (every field is required; mode is \"round_robin\" or \"weighted\"):%n",
            footer = {
                "  {\"chain_id\": 1337, \"fork_number\": 42, \"first_block\": 2834,",
                "   \"protocol_version\": 2,",
                "   \"validators\": [",
                "     {\"key\": \"validator:public:bls12_381:<hex>\", \"weight\": 10, \"leader\": true}],",
                "   \"leader_selection\": {\"frequency\": 1, \"mode\": \"weighted\"}}"
            })
    static final class Hash implements Callable<Integer> {
        @Spec
        private CommandSpec spec;

        @Parameters(paramLabel = "FILE", description = "the genesis JSON file, or - for stdin")
        private String file;

        @Override
        public Integer call() throws BadInputException {
            String name = file.equals("-") ? "stdin" : file;
            Genesis genesis;
            try {
                genesis = GenesisJson.parse(readUtf8(file, name, spec));
            } catch (ConfigException e) {
                throw new BadInputException(name + ": " + e.getMessage());
            }
            PrintWriter out = spec.commandLine().getOut();
            out.println(genesis.hash().toText());
            out.flush();
            return 0;
        }
    }

    /** The text of a file (or of stdin for "-"), which must be UTF-8; errors call it {@code name}. */
    static String readUtf8(String file, String name, CommandSpec spec) throws BadInputException {
        byte[] bytes;
        try {
            bytes = file.equals("-") ? TallyCommand.stdin(spec).readAllBytes() : Files.readAllBytes(Path.of(file));
        } catch (NoSuchFileException e) {
            throw new BadInputException(name + ": no such file");
        } catch (AccessDeniedException e) {
            throw new BadInputException(name + ": permission denied");
        } catch (FileSystemException e) {
            throw new BadInputException(name + ": " + (e.getReason() != null ? e.getReason() : "cannot be read"));
        } catch (IOException e) { // e.g. a directory
            throw new BadInputException(name + ": " + e.getMessage());
        }
        try {
            return StandardCharsets.UTF_8
                    .newDecoder()
                    .decode(ByteBuffer.wrap(bytes))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new BadInputException(name + ": not UTF-8 text");
        }
    }
}
