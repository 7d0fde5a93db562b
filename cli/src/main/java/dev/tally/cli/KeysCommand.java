package dev.tally.cli;

import dev.tally.crypto.BlsSecretKey;
import dev.tally.crypto.InvalidEncodingException;
import dev.tally.crypto.NodeSecretKey;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

@Command(
        name = "keys",
        mixinStandardHelpOptions = true,
        description = "Validator (BLS12-381) and node (Ed25519) keys.",
        subcommands = {KeysCommand.Generate.class, KeysCommand.Recover.class})
final class KeysCommand implements Runnable {
    @Spec
    private CommandSpec spec;

    @Override
    public void run() {
        throw TallyCommand.missingSubcommand(spec);
    }

    @Command(
            name = "generate",
            mixinStandardHelpOptions = true,
            description = {
                "Prints a new validator secret key with its public key and proof of possession, then a new node "
                        + "secret key with its public key, one per line in text form.",
                "The secret keys are printed in the clear: send them to a file only their owner can read."
            })
    static final class Generate implements Runnable {
        @Spec
        private CommandSpec spec;

        @Override
        public void run() {
            BlsSecretKey validator = BlsSecretKey.generate();
            NodeSecretKey node = NodeSecretKey.generate();
            PrintWriter out = spec.commandLine().getOut();
            out.println(validator.toText());
            out.println(validator.publicKey().toText());
            out.println(validator.proofOfPossession().toText());
            out.println(node.toText());
            out.println(node.publicKey().toText());
            out.flush();
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
