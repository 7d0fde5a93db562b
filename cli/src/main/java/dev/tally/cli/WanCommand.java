package dev.tally.cli;

import dev.tally.node.config.NodeConfig;
import dev.tally.testbed.loadtest.Machine;
import dev.tally.testbed.wan.Partition;
import dev.tally.testbed.wan.ShapingMode;
import dev.tally.testbed.wan.Wan;
import dev.tally.testbed.wan.WanResult;
import dev.tally.testbed.wan.WanTopology;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code tally wan}: a wide-area network emulated on this host (see the command's description). */
@Command(
        name = "wan",
        mixinStandardHelpOptions = true,
        description = {
            "Runs validators as processes each in its own Linux network namespace, with its own address on a virtual "
                    + "bridge, over links with per-region round-trip times, jitter and loss (tc netem; a relay on the "
                    + "bridge where the kernel has no netem), and cuts a region off for a while with --partition. "
                    + "Prints what the chain did: blocks/s, proposal-to-final latency, blocks around each partition.",
            "Needs root and the ip and tc commands (Debian: iproute2). The namespaces and the bridge are removed on "
                    + "exit, also on Ctrl-C; those of an earlier run that crashed are removed at start."
        },
        exitCodeListHeading = "%nExit status:%n",
        exitCodeList = {"0:success", "1:internal error", "2:bad input, no root or iproute2, or a node failed"})
final class WanCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(
            names = "--validators",
            defaultValue = "6",
            paramLabel = "N",
            description = "Validators, spread over the regions in order (default: ${DEFAULT-VALUE}).")
    int validators;

    @Option(
            names = "--regions",
            defaultValue = "eu,us,asia",
            split = ",",
            paramLabel = "NAME",
            description = "Region names (default: ${DEFAULT-VALUE}).")
    List<String> regions;

    @Option(
            names = "--region-rtt-ms",
            defaultValue = "10,80,150",
            split = ",",
            paramLabel = "MS",
            description = "Round trip between each pair of regions: (1st,2nd), (1st,3rd), ..., (2nd,3rd), ... "
                    + "(default: ${DEFAULT-VALUE}).")
    List<Double> regionRtt;

    @Option(
            names = "--intra-rtt-ms",
            defaultValue = "1",
            paramLabel = "MS",
            description = "Round trip inside a region (default: ${DEFAULT-VALUE}).")
    double intraRtt;

    @Option(
            names = "--rtt-ms",
            paramLabel = "MS",
            description = "One round trip on every link instead of regions (for benchmarks).")
    Double uniformRtt;

    @Option(
            names = "--jitter-ms",
            defaultValue = "0",
            paramLabel = "MS",
            description = "Jitter of every link, each way (default: ${DEFAULT-VALUE}).")
    double jitter;

    @Option(
            names = "--loss-percent",
            defaultValue = "0",
            paramLabel = "P",
            description = "Packet loss of every link, each way (default: ${DEFAULT-VALUE}).")
    double loss;

    @Option(
            names = "--partition",
            paramLabel = "REGION:START:END",
            description = "Cut REGION off from the others from START to END seconds after the first final block; "
                    + "repeatable.")
    List<String> partitions = new ArrayList<>();

    @Option(
            names = "--duration",
            defaultValue = "60",
            paramLabel = "S",
            description = "Seconds to run after the first final block (default: ${DEFAULT-VALUE}).")
    int duration;

    @Option(
            names = "--start-timeout",
            defaultValue = "120",
            paramLabel = "S",
            description = "Seconds the chain may take to finalize its first block (default: ${DEFAULT-VALUE}).")
    int startTimeout;

    @Option(
            names = "--warmup",
            defaultValue = "10",
            paramLabel = "S",
            description =
                    "Seconds at the start of the run left out of blocks/s and latency (default: ${DEFAULT-VALUE}).")
    int warmup;

    @Option(
            names = "--view-timeout-ms",
            defaultValue = "2000",
            paramLabel = "MS",
            description = "The validators' view timeout (default: ${DEFAULT-VALUE}).")
    long viewTimeoutMs;

    @Option(
            names = "--empty-block-interval-ms",
            paramLabel = "MS",
            description = "The validators' empty_block_interval_ms (default: the node's; 0 to propose at once, "
                    + "for the protocol's own pace).")
    Long emptyBlockIntervalMs;

    @Option(
            names = "--shaping",
            defaultValue = "auto",
            paramLabel = "auto|netem|relay",
            description = "How links get their delay: netem when the kernel has it (auto), or the one named "
                    + "(default: ${DEFAULT-VALUE}).")
    String shaping;

    @Mixin
    NetworkDirOptions network = new NetworkDirOptions();

    @Override
    public Integer call() throws BadInputException, IOException, InterruptedException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Optional<String> problem = Wan.hostProblem();
        if (problem.isPresent()) {
            throw new BadInputException(problem.get());
        }
        boolean temporary = network.dir == null;
        Path root = temporary ? Files.createTempDirectory("tally-wan") : network.dir;
        Wan.Settings settings;
        try {
            settings = settings(root);
        } catch (BadInputException e) {
            if (temporary) {
                BenchCommand.deleteTree(root);
            }
            throw e;
        }
        String loadBefore = Machine.loadAverage();
        boolean failed = true; // a failed run keeps its directory: the nodes' logs say why
        try (Wan wan = start(settings, err)) {
            Thread hook = new Thread(wan::close, "wan-stop");
            Runtime.getRuntime().addShutdownHook(hook); // Ctrl-C: stop the nodes, remove the namespaces
            WanResult result;
            try {
                wan.awaitFirstBlock(Duration.ofSeconds(startTimeout));
                result = wan.run(Duration.ofSeconds(duration));
            } catch (IOException e) {
                throw new BadInputException(e.getMessage()); // a node exited, or the chain did not start
            }
            result.report(Duration.ofSeconds(warmup)).forEach(out::println);
            out.printf("load average before %s, after %s%n", loadBefore, Machine.loadAverage());
            out.flush();
            Runtime.getRuntime().removeShutdownHook(hook);
            failed = false;
            return 0;
        } finally {
            if (temporary && !network.keep && !failed) {
                BenchCommand.deleteTree(root);
            } else {
                err.println("wan: the network's files are in " + root);
                err.flush();
            }
        }
    }

    private static Wan start(Wan.Settings settings, PrintWriter err) throws BadInputException {
        try {
            return Wan.start(settings, err);
        } catch (IOException e) {
            throw new BadInputException("cannot set up the network: " + e.getMessage());
        }
    }

    /** The options as the run's settings, or the problem with them. */
    private Wan.Settings settings(Path root) throws BadInputException {
        if (duration < 1 || warmup < 0 || warmup >= duration || viewTimeoutMs < 1 || startTimeout < 1) {
            throw new BadInputException("need --duration >= 1, 0 <= --warmup < --duration, --view-timeout-ms >= 1 "
                    + "and --start-timeout >= 1");
        }
        if (Files.exists(root.resolve("genesis.json"))) {
            throw new BadInputException(root + " already holds a network; remove it or choose another --dir");
        }
        try {
            if (emptyBlockIntervalMs != null) {
                NodeConfig.checkEmptyBlockInterval(
                        Duration.ofMillis(emptyBlockIntervalMs), Duration.ofMillis(viewTimeoutMs));
            }
            WanTopology topology = uniformRtt != null
                    ? WanTopology.uniform(validators, uniformRtt, jitter, loss)
                    : WanTopology.regions(validators, regions, intraRtt, regionRtt, jitter, loss);
            return new Wan.Settings(
                    topology,
                    partitions.stream().map(Partition::parse).toList(),
                    Duration.ofMillis(viewTimeoutMs),
                    Optional.ofNullable(emptyBlockIntervalMs).map(Duration::ofMillis),
                    ShapingMode.parse(shaping),
                    root);
        } catch (IllegalArgumentException e) {
            throw new BadInputException(e.getMessage());
        }
    }
}
