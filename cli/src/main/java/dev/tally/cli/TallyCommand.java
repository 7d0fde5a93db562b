package dev.tally.cli;

import dev.tally.protocol.Genesis;
import java.io.InputStream;
import java.util.Objects;
import picocli.CommandLine.Command;
import picocli.CommandLine.HelpCommand;
import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.Model.CommandSpec;

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
public final class TallyCommand extends CommandGroup {
    private final InputStream stdin;

    public TallyCommand(InputStream stdin) {
        this.stdin = Objects.requireNonNull(stdin);
    }

    /** The stdin of the command line that {@code spec} belongs to. */
    static InputStream stdin(CommandSpec spec) {
        return ((TallyCommand) spec.root().userObject()).stdin;
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
