package dev.tally.cli;

import java.io.InputStream;
import picocli.CommandLine;

/** The entry point of {@code bin/tally}. */
public final class Main {
    private Main() {}

    public static void main(String[] args) {
        System.exit(commandLine(System.in).execute(args));
    }

    /**
     * The {@code tally} command line. Bad input is reported as "command: problem" lines on stderr with exit status 2;
     * any other exception is a bug, so picocli prints its stack trace and exits with 1.
     */
    public static CommandLine commandLine(InputStream stdin) {
        CommandLine cli = new CommandLine(new TallyCommand(stdin));
        cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
            if (!(e instanceof BadInputException bad)) {
                throw e;
            }
            String command = cmd.getCommandSpec().qualifiedName();
            bad.problems().forEach(problem -> cmd.getErr().println(command + ": " + problem));
            cmd.getErr().flush();
            return CommandLine.ExitCode.USAGE;
        });
        return cli;
    }
}
