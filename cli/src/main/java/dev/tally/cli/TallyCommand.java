package dev.tally.cli;

import dev.tally.protocol.Genesis;
import java.io.InputStream;
import java.util.Objects;
import picocli.CommandLine.Command;
import picocli.CommandLine.HelpCommand;
import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** The top command, {@code tally}. It holds stdin so that tests can run commands in-process. */
@Command(
        name = "tally",
        mixinStandardHelpOptions = true,
        versionProvider = TallyCommand.Version.class,
        description = "Tally: a ChonkyBFT consensus node.",
        subcommands = {
            KeysCommand.class,
            GenesisCommand.class,
            NodeCommand.class,
            BenchHostCommand.class,
            LocalnetCommand.class,
            DeployCommand.class,
            VerifyBlockCommand.class,
            DbCommand.class,
            ConformanceCommand.class,
            BenchCommand.class,
            ChaosCommand.class,
            WanCommand.class,
            SimCommand.class,
            HelpCommand.class
        },
        exitCodeListHeading = "%nExit status:%n",
        exitCodeList = {
            "0:success",
            "1:internal error (a bug: please report it with the stack trace);"
                    + " conformance: a replica did not do what the model did",
            "2:bad input or usage (the message says what to fix)",
            "3:verify-block: the block does not verify",
            "4:db check: the data directory has bad records"
        })
public final class TallyCommand implements Runnable {
    @Spec
    private CommandSpec spec;

    private final InputStream stdin;

    public TallyCommand(InputStream stdin) {
        this.stdin = Objects.requireNonNull(stdin);
    }

    /** The stdin of the command line that {@code spec} belongs to. */
    static InputStream stdin(CommandSpec spec) {
        return ((TallyCommand) spec.root().userObject()).stdin;
    }

    @Override
    public void run() {
        throw missingSubcommand(spec);
    }

    /** Picocli has no required-subcommand setting: a group command run on its own says so and shows its usage. */
    static ParameterException missingSubcommand(CommandSpec spec) {
        String visible = String.join(
                ", ",
                spec.subcommands().entrySet().stream()
                        .filter(e ->
                                !e.getValue().getCommandSpec().usageMessage().hidden())
                        .map(java.util.Map.Entry::getKey)
                        .toList());
        return new ParameterException(spec.commandLine(), "Missing subcommand: " + visible);
    }

    static final class Version implements IVersionProvider {
        @Override
        public String[] getVersion() {
            String version = Objects.requireNonNullElse(
                    TallyCommand.class.getPackage().getImplementationVersion(), "(development build)");
            return new String[] {
                "tally " + version,
                "ChonkyBFT protocol version " + Genesis.PROTOCOL_VERSION,
                "Java " + Runtime.version() + " (" + System.getProperty("java.vm.name") + ")",
            };
        }
    }
}
