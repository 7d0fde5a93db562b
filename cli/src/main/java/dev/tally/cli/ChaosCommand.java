package dev.tally.cli;

import dev.tally.testbed.chaos.Chaos;
import dev.tally.testbed.chaos.ChaosOptions;
import dev.tally.testbed.chaos.ChaosSummary;
import dev.tally.testbed.chaos.Fault;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(
        name = "chaos",
        mixinStandardHelpOptions = true,
        description = {
            "Runs a local network of real node processes behind loopback proxies and injects faults on a seeded "
                    + "schedule: SIGKILL and restart (up to f at a time, and f + 1 at once), SIGSTOP/SIGCONT, partitions, delay, "
                    + "dropped connections, a wiped data directory, a read-only data directory and a full disk.",
            "Every node's chain is checked against every other's over RPC throughout; at the end it prints a summary and "
                    + "exits 1 on any disagreement, lost block, advance without a quorum, or failure to recover."
        },
        exitCodeListHeading = "%nExit status:%n",
        exitCodeList = {"0:every check passed", "1:a check failed (the summary says which)", "2:bad input or usage"})
public final class ChaosCommand implements Callable<Integer> {
    @Spec
    private CommandSpec spec;

    @Option(
            names = "--validators",
            defaultValue = "6",
            paramLabel = "N",
            description = "Validators (default: ${DEFAULT-VALUE}).")
    int validators;

    @Option(
            names = "--duration",
            defaultValue = "300",
            paramLabel = "SECONDS",
            description = "How long to inject faults (default: ${DEFAULT-VALUE}).")
    long durationSeconds;

    @Option(names = "--seed", paramLabel = "N", description = "Seed of the fault schedule (default: the time).")
    Long seed;

    @Option(
            names = "--dir",
            paramLabel = "DIR",
            description =
                    "Where the network lives; must not hold one (default: a new directory under the system's temp directory, kept for its logs).")
    Path dir;

    @Option(
            names = "--view-timeout-ms",
            defaultValue = "2000",
            paramLabel = "MS",
            description = "The network's view timeout (default: ${DEFAULT-VALUE}).")
    long viewTimeoutMs;

    @Option(
            names = "--recovery-timeout",
            defaultValue = "90",
            paramLabel = "SECONDS",
            description =
                    "How long the network may take to finalize again after the faults stop or a halt ends (default: ${DEFAULT-VALUE}).")
    long recoverySeconds;

    @Option(
            names = "--faults",
            split = ",",
            paramLabel = "KIND",
            description = "Kinds of fault to inject (default: all): ${COMPLETION-CANDIDATES}.")
    List<Fault> faults;

    @Override
    public Integer call() throws IOException, InterruptedException, BadInputException {
        PrintWriter out = spec.commandLine().getOut();
        if (validators < 1 || durationSeconds < 0 || viewTimeoutMs < 1 || recoverySeconds < 1) {
            throw new picocli.CommandLine.ParameterException(
                    spec.commandLine(),
                    "need --validators >= 1, --duration >= 0, --view-timeout-ms >= 1 and --recovery-timeout >= 1");
        }
        Path where = dir != null ? dir : Files.createTempDirectory("tally-chaos");
        long s = seed != null ? seed : System.currentTimeMillis();
        Chaos chaos = new Chaos(
                ChaosOptions.builder(where)
                        .validators(validators)
                        .duration(Duration.ofSeconds(durationSeconds))
                        .seed(s)
                        .viewTimeout(Duration.ofMillis(viewTimeoutMs))
                        .recoveryTimeout(Duration.ofSeconds(recoverySeconds))
                        .faults(faults == null ? EnumSet.allOf(Fault.class) : EnumSet.copyOf(faults))
                        .build(),
                out);
        Thread hook = new Thread(chaos::close, "chaos-stop");
        Runtime.getRuntime().addShutdownHook(hook);
        ChaosSummary summary;
        try {
            summary = chaos.run();
        } catch (IllegalArgumentException e) {
            throw new BadInputException(e.getMessage()); // e.g. --dir already holds a network
        } catch (IOException e) {
            out.println("chaos: " + e.getMessage());
            out.flush();
            return 1;
        } finally {
            chaos.close();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException e) {
                // shutting down
            }
        }
        out.print(summary.text());
        out.println("  network and logs: " + where);
        out.flush();
        return summary.ok() ? 0 : 1;
    }
}
