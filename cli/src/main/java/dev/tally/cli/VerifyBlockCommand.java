package dev.tally.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tally.execution.EpochSchedule;
import dev.tally.execution.ScheduledCommittee;
import dev.tally.node.config.ConfigException;
import dev.tally.node.config.GenesisJson;
import dev.tally.node.config.NodeConfig;
import dev.tally.node.config.NodeConfigJson;
import dev.tally.protocol.Codec;
import dev.tally.protocol.DecodeException;
import dev.tally.protocol.Epoch;
import dev.tally.protocol.FinalBlock;
import dev.tally.protocol.Genesis;
import dev.tally.protocol.InvalidMessageException;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code tally verify-block}: checks a final block, as the {@code block} RPC returns it, against a genesis file,
 * offline: a final block is self-verifying for anyone who holds the genesis (and the committee schedule).
 */
@Command(
        name = "verify-block",
        mixinStandardHelpOptions = true,
        description = {
            "Checks a final block fetched from a node's `block` RPC against a genesis file, with no node",
            "running: its commit QC must carry a quorum of the committee's signatures over the block's payload hash.",
            "Exit status 0: the block verifies; 3: it does not; 2: bad input."
        })
final class VerifyBlockCommand implements Callable<Integer> {
    static final int DOES_NOT_VERIFY = 3;

    @Spec
    private CommandSpec spec;

    @Option(names = "--genesis", required = true, paramLabel = "FILE", description = "The chain's genesis JSON file.")
    private String genesisFile;

    @Option(
            names = "--config",
            paramLabel = "FILE",
            description =
                    "A node config whose \"schedule\" names the committees after the genesis one (for blocks of later epochs).")
    private Path configFile;

    @Parameters(
            paramLabel = "BLOCK",
            defaultValue = "-",
            description =
                    "The block: the `block` RPC's JSON answer (JSON-RPC envelope or bare result), or the hex of its "
                            + "\"encoded\" field; - (the default) reads stdin.")
    private String blockFile;

    @Override
    public Integer call() throws BadInputException {
        Genesis genesis;
        try {
            genesis = GenesisJson.parse(
                    GenesisCommand.readUtf8(genesisFile, genesisFile.equals("-") ? "stdin" : genesisFile, spec));
        } catch (ConfigException e) {
            throw new BadInputException(genesisFile + ": " + e.getMessage());
        }
        EpochSchedule epochs = epochs(genesis);
        String name = blockFile.equals("-") ? "stdin" : blockFile;
        FinalBlock block =
                parseBlock(GenesisCommand.readUtf8(blockFile, name, spec).strip(), name);
        PrintWriter out = spec.commandLine().getOut();
        Epoch epoch;
        try {
            epoch = epochs.at(block.number());
        } catch (IllegalArgumentException e) {
            out.println("block " + block.number() + " does NOT verify: " + e.getMessage());
            return DOES_NOT_VERIFY;
        }
        try {
            block.verify(epoch);
        } catch (InvalidMessageException e) {
            out.println("block " + block.number() + " does NOT verify against "
                    + genesis.hash().toText() + " (epoch " + epoch.number() + "): " + e.getMessage());
            return DOES_NOT_VERIFY;
        }
        var committee = epoch.committee();
        out.printf(
                "block %d verifies: view %d of epoch %d, payload %s (%d bytes), signed by %d validators of weight %d"
                        + " (quorum %d of %d), chain %s%n",
                block.number(),
                block.justification().view().number(),
                epoch.number(),
                block.header().payload().toText(),
                block.payload().size(),
                block.justification().signers().count(),
                committee.weight(block.justification().signers()),
                committee.quorumThreshold(),
                committee.totalWeight(),
                genesis.hash().toText());
        return 0;
    }

    private EpochSchedule epochs(Genesis genesis) throws BadInputException {
        List<ScheduledCommittee> schedule = List.of();
        if (configFile != null) {
            try {
                NodeConfig config = NodeConfigJson.read(configFile, System.getenv());
                if (!config.genesis().equals(genesis)) {
                    throw new BadInputException(configFile + ": its genesis is not the one in " + genesisFile);
                }
                schedule = config.schedule();
            } catch (ConfigException e) {
                throw new BadInputException(configFile + ": " + e.getMessage());
            }
        }
        try {
            return EpochSchedule.of(genesis, schedule);
        } catch (IllegalArgumentException e) {
            throw new BadInputException(genesisFile + ": " + e.getMessage());
        }
    }

    /** The block from the RPC's JSON (checking its loose fields agree with the encoding) or from bare hex. */
    static FinalBlock parseBlock(String text, String name) throws BadInputException {
        String encoded = text;
        JsonNode result = null;
        if (text.startsWith("{")) {
            try {
                JsonNode json = new ObjectMapper().readTree(text);
                if (json.has("error")) {
                    throw new BadInputException(name + ": the RPC answered with an error: " + json.get("error"));
                }
                result = json.has("result") ? json.get("result") : json;
            } catch (IOException e) {
                throw new BadInputException(name + ": not JSON: " + e.getMessage());
            }
            if (result == null || result.isNull()) {
                throw new BadInputException(name + ": no block (the node does not have it)");
            }
            if (!result.hasNonNull("encoded")) {
                throw new BadInputException(
                        name + ": missing field \"encoded\" (the block's canonical encoding in hex)");
            }
            encoded = result.get("encoded").asText();
        }
        FinalBlock block;
        try {
            block = Codec.decodeFinalBlock(HexFormat.of().parseHex(encoded));
        } catch (IllegalArgumentException e) {
            throw new BadInputException(name + ": \"encoded\" is not hex: " + e.getMessage());
        } catch (DecodeException e) {
            throw new BadInputException(name + ": not a final block: " + e.getMessage());
        }
        if (result != null) {
            requireSame(result, "number", String.valueOf(block.number()), name);
            requireSame(
                    result,
                    "payload",
                    HexFormat.of().formatHex(block.payload().bytes().toByteArray()),
                    name);
            requireSame(result, "commit_qc", HexFormat.of().formatHex(Codec.encode(block.justification())), name);
        }
        return block;
    }

    /** The RPC's convenience fields must say what the encoding says: a reader may trust either. */
    private static void requireSame(JsonNode result, String field, String expected, String name)
            throws BadInputException {
        if (result.has(field) && !result.get(field).asText().equalsIgnoreCase(expected)) {
            throw new BadInputException(name + ": field \"" + field + "\" disagrees with the block's encoding");
        }
    }
}
