package dev.tally.cli;

import dev.tally.crypto.BlsSecretKey;
import dev.tally.crypto.InvalidEncodingException;
import dev.tally.crypto.NodeSecretKey;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(
        name = "keys",
        mixinStandardHelpOptions = true,
        description = "Validator (BLS12-381) and node (Ed25519) keys.",
        subcommands = {KeysCommand.Generate.class, KeysCommand.Recover.class})
final class KeysCommand extends CommandGroup {

    @Command(
            name = "generate",
            mixinStandardHelpOptions = true,
            description = {
                "Prints a new validator secret key with its public key and proof of possession, then a new node "
                        + "secret key with its public key, one per line in text form.",
                "The secret keys are printed in the clear: send them to a file only their owner can read, or use "
                        + "--out."
            })
    static final class Generate implements Callable<Integer> {
        // The files --out writes, in the order of the printed lines; the secret ones (*.key) are owner-only.
        static final String VALIDATOR_KEY = "validator.key";
        static final String VALIDATOR_PUBLIC = "validator.pub";
        static final String VALIDATOR_POP = "validator.pop";
        static final String NODE_KEY = "node.key";
        static final String NODE_PUBLIC = "node.pub";

        private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");

        @Spec
        private CommandSpec spec;

        @Option(
                names = "--out",
                paramLabel = "DIR",
                description = "Write the keys into files in DIR (created if missing) instead: " + VALIDATOR_KEY
                        + " and " + NODE_KEY + " (mode 0600, for node_key_file and validator_key_file), "
                        + VALIDATOR_PUBLIC + ", " + VALIDATOR_POP + " and " + NODE_PUBLIC
                        + " (printed too); existing key files are never overwritten.")
        Path out;

        @Override
        public Integer call() throws IOException, BadInputException {
            BlsSecretKey validator = BlsSecretKey.generate();
            NodeSecretKey node = NodeSecretKey.generate();
            Map<String, String> files = new LinkedHashMap<>();
            files.put(VALIDATOR_KEY, validator.toText());
            files.put(VALIDATOR_PUBLIC, validator.publicKey().toText());
            files.put(VALIDATOR_POP, validator.proofOfPossession().toText());
            files.put(NODE_KEY, node.toText());
            files.put(NODE_PUBLIC, node.publicKey().toText());
            PrintWriter printed = spec.commandLine().getOut();
            if (out == null) {
                files.values().forEach(printed::println);
            } else {
                try {
                    writeFiles(files);
                } catch (FileSystemException e) {
                    String reason = e instanceof AccessDeniedException ? "permission denied" : e.getReason();
                    throw new BadInputException("cannot write " + e.getFile() + (reason == null ? "" : ": " + reason));
                }
                files.forEach((name, text) -> {
                    if (!isSecret(name)) {
                        printed.println(text);
                    }
                });
            }
            printed.flush();
            return 0;
        }

        private static boolean isSecret(String name) {
            return name.endsWith(".key");
        }

        /** Checks that none of the files exists before writing any, so a refusal leaves DIR as it was. */
        private void writeFiles(Map<String, String> files) throws IOException, BadInputException {
            if (Files.exists(out) && !Files.isDirectory(out)) {
                throw new BadInputException("--out " + out + " is not a directory");
            }
            List<String> existing = files.keySet().stream()
                    .map(out::resolve)
                    .filter(Files::exists)
                    .map(Path::toString)
                    .toList();
            if (!existing.isEmpty()) {
                throw new BadInputException("not overwriting existing key files: " + String.join(", ", existing)
                        + " (move them away, or choose another --out directory)");
            }
            Files.createDirectories(out);
            for (var file : files.entrySet()) {
                Path path = out.resolve(file.getKey());
                if (isSecret(file.getKey())) {
                    // Owner-only before the secret goes in; fails if the file appeared since the check.
                    Files.createFile(path, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
                }
                Files.writeString(path, file.getValue() + "\n", StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            }
        }
    }

    @Command(
            name = "recover",
            mixinStandardHelpOptions = true,
            description = {
                "Reads secret keys in text form from stdin, one per line (blank lines are skipped), and prints for "
                        + "each its public key, and for a validator key also its proof of possession.",
                "Nothing is printed unless every line is a valid secret key."
            })
    static final class Recover implements Callable<Integer> {
        /** The type tag of a text form, e.g. "validator:public:bls12_381:", which is safe to echo. */
        private static final Pattern TAG = Pattern.compile("^[a-z0-9_]+(:[a-z0-9_]+)*:");

        @Spec
        private CommandSpec spec;

        @Override
        public Integer call() throws IOException, BadInputException {
            List<String> output = new ArrayList<>();
            List<String> problems = new ArrayList<>();
            int lineNumber = 0;
            try (BufferedReader in =
                    new BufferedReader(new InputStreamReader(TallyCommand.stdin(spec), StandardCharsets.UTF_8))) {
                for (String line; (line = in.readLine()) != null; ) {
                    lineNumber++;
                    if (line.isBlank()) {
                        continue;
                    }
                    try {
                        output.addAll(recover(line.strip()));
                    } catch (InvalidEncodingException e) {
                        problems.add("line " + lineNumber + ": " + e.getMessage());
                    }
                }
            }
            if (!problems.isEmpty()) {
                throw new BadInputException(problems);
            }
            if (output.isEmpty()) {
                throw new BadInputException("no secret keys on stdin (expected one per line)");
            }
            PrintWriter out = spec.commandLine().getOut();
            output.forEach(out::println);
            out.flush();
            return 0;
        }

        private static List<String> recover(String text) {
            if (text.startsWith(BlsSecretKey.TEXT_PREFIX)) {
                BlsSecretKey key = BlsSecretKey.fromText(text);
                return List.of(key.publicKey().toText(), key.proofOfPossession().toText());
            }
            if (text.startsWith(NodeSecretKey.TEXT_PREFIX)) {
                return List.of(NodeSecretKey.fromText(text).publicKey().toText());
            }
            // Only the type tag is echoed: the rest of the line may be a secret in some other form.
            var tag = TAG.matcher(text);
            String got = tag.find() ? "a '" + tag.group() + "' value" : "text that is not in prefix:hex form";
            throw new InvalidEncodingException("expected a secret key (" + BlsSecretKey.TEXT_PREFIX + "<hex> or "
                    + NodeSecretKey.TEXT_PREFIX + "<hex>), got " + got);
        }
    }
}
