package dev.tally.cli;

import dev.tally.node.config.NodeConfigJson;
import dev.tally.testbed.loadtest.Bench;
import dev.tally.testbed.loadtest.LoadTest;
import dev.tally.testbed.loadtest.LoadTestReport;
import dev.tally.testbed.loadtest.LoadTestSettings;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code tally bench}: the end-to-end benchmark (see the command's description). */
@Command(
        name = "bench",
        mixinStandardHelpOptions = true,
        description = {
            "End-to-end benchmark: starts a local network (validator processes on 127.0.0.1 as `tally localnet` "
                    + "runs them, or --in-process), pushes client transactions in batches (POST /txs, or --client json-rpc) spread over the nodes, reads "
                    + "node0's final blocks and reports transaction finality latency, proposal-to-final latency, blocks/s, "
                    + "tx/s, payload MB/s, node CPU per block and peak memory per node.",
            "Figures cover the measurement window only: --duration seconds after --warmup seconds of load; but the "
                    + "requests (answered, refused as overloaded, failed or unanswered), the drain after the load and the "
                    + "harness's polls of node0 cover the whole run. Progress goes to stderr, the table to stdout."
        },
        exitCodeListHeading = "%nExit status:%n",
        exitCodeList = {
            "0:success",
            "1:internal error",
            "2:bad input, or the network failed to start or run",
            "3:--smoke: a check failed (the message says which)"
        })
public final class BenchCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(
            names = "--validators",
            defaultValue = "6",
            paramLabel = "N",
            description = "Validators (default: ${DEFAULT-VALUE}).")
    int validators;

    @Option(
            names = "--in-process",
            description = "Run every node in this JVM (for large networks) instead of one process each.")
    boolean inProcess;

    @Option(
            names = "--jvms",
            defaultValue = "1",
            paramLabel = "K",
            description = "With --in-process: spread the validators "
                    + "over K child JVMs, each running its share (n/K) in-process with its own RPC ports, when the sockets of all "
                    + "of them do not fit one process's open-file limit (default: ${DEFAULT-VALUE}, every node in this JVM). A JVM's "
                    + "heap is 64 MB + per node it runs " + (int) LoadTest.HOST_HEAP_MB_BASE_MEMORY + " MB ("
                    + (int) LoadTest.HOST_HEAP_MB_BASE_ROCKSDB
                    + " with RocksDB) + " + LoadTest.HOST_HEAP_MB_PER_SOCKET
                    + " MB per socket (2 per consensus and gossip peer), unless "
                    + "--node-jvm-opt=-Xmx... says otherwise.")
    int jvms;

    @Option(
            names = "--storage",
            defaultValue = "rocksdb",
            paramLabel = "rocksdb|memory",
            description = "Node storage (default: ${DEFAULT-VALUE}); memory only with --in-process.")
    String storage;

    @Option(
            names = "--payload-limit",
            defaultValue = "" + NodeConfigJson.DEFAULT_MAX_PAYLOAD_SIZE,
            paramLabel = "BYTES",
            description = "max_payload_size of every node (default: ${DEFAULT-VALUE}); a leader proposes at most its"
                    + " proposal_payload_size, by default 1 MB or this if less.")
    int payloadLimit;

    @Option(
            names = "--tx-size",
            defaultValue = "256",
            paramLabel = "BYTES",
            description = "Transaction size, at least 24 (default: ${DEFAULT-VALUE}).")
    int txSize;

    @Option(
            names = "--rate",
            defaultValue = "1000",
            paramLabel = "TX/S",
            description = "Transactions per second in all; 0 sends none (default: ${DEFAULT-VALUE}).")
    long rate;

    @Option(
            names = "--client",
            defaultValue = "binary",
            paramLabel = "binary|json-rpc",
            description = "How senders hand transactions to node processes: binary (POST /txs, length-prefixed "
                    + "batches, as TallyClient does) or json-rpc (a JSON-RPC batch of push_tx in hex) "
                    + "(default: ${DEFAULT-VALUE}).")
    String client;

    @Option(
            names = "--batch-interval-ms",
            defaultValue = "10",
            paramLabel = "MS",
            description = "How long a sender holds a batch open for more transactions, at most, as a client batching "
                    + "by time would; a transaction's finality counts from the time it fell due, its wait in the client "
                    + "included. 0 sends each transaction as soon as it is due (default: ${DEFAULT-VALUE}).")
    long batchIntervalMs;

    @Option(names = "--open-loop", description = "Send as fast as the nodes take transactions (instead of --rate).")
    boolean openLoop;

    @Option(
            names = "--unloaded",
            defaultValue = "0",
            paramLabel = "S",
            description = "Seconds without load after the first block, before the senders start: the blocks/s an "
                    + "overload run's are compared with (default: ${DEFAULT-VALUE}). An overload run: --rate <2x what "
                    + "the nodes sustain> (or --open-loop) --unloaded 15 --warmup 240 --duration 60 --drain 120: the "
                    + "overload lasts 300 s, and the window comes after the JIT compilers have settled.")
    int unloaded;

    @Option(
            names = "--drain",
            defaultValue = "10",
            paramLabel = "S",
            description = "After the load, how long to wait for every accepted transaction to be final; the report "
                    + "says how long it took (default: ${DEFAULT-VALUE}).")
    int drain;

    @Option(
            names = "--duration",
            defaultValue = "30",
            paramLabel = "S",
            description = "Measurement window in seconds (default: ${DEFAULT-VALUE}).")
    int duration;

    @Option(
            names = "--warmup",
            defaultValue = "10",
            paramLabel = "S",
            description =
                    "Load before the window, in seconds (default: ${DEFAULT-VALUE}). The report says how much of the "
                            + "nodes' CPU their JIT compilers still took in the window; six node JVMs sharing 2 cores compile for "
                            + "about 4 minutes before they reach their steady state.")
    int warmup;

    @Option(
            names = "--view-timeout-ms",
            defaultValue = "2000",
            paramLabel = "MS",
            description = "View timeout (default: ${DEFAULT-VALUE}).")
    long viewTimeoutMs;

    @Option(
            names = "--empty-block-interval-ms",
            paramLabel = "MS",
            description = "The nodes' empty_block_interval_ms: how long a leader with an empty mempool waits for a "
                    + "transaction before proposing an empty block (default: the node's, 500 or a quarter of the view "
                    + "timeout if less; 0 to measure the empty-block rate).")
    Long emptyBlockIntervalMs;

    @Option(
            names = "--start-timeout",
            paramLabel = "S",
            description = "How long the network may take to finalize its "
                    + "first block (default: 120, or 4 s per validator if more).")
    Long startTimeout;

    @Option(names = "--senders", paramLabel = "N", description = "Client threads (default: one per node, at most 6).")
    Integer senders;

    @Option(
            names = "--node-jvm-opt",
            paramLabel = "OPT",
            description = "An extra JVM option of each node process (with "
                    + "--jvms K > 1: of each child JVM), repeatable; {node} stands for the node's name (jvm0, jvm1, ... with --jvms), "
                    + "e.g. -XX:StartFlightRecording=filename=/tmp/{node}.jfr")
    List<String> nodeJvmOptions = new ArrayList<>();

    @Option(names = "--json", paramLabel = "FILE", description = "Also write the report as JSON to FILE.")
    Path json;

    @Mixin
    NetworkDirOptions network = new NetworkDirOptions();

    @Option(
            names = "--smoke",
            description = "A 10-second run (2 s warm-up, 8 s window, stretched up to 60 s more until 3 "
                    + "blocks are final in it on a starved machine) that checks the harness: blocks finalize, transactions are "
                    + "matched, every report field is present; exits 3 otherwise.")
    boolean smoke;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        LoadTest test = new LoadTest(settings(), err);
        Optional<String> misfit = test.tooManySockets();
        if (misfit.isPresent()) {
            err.println("bench: " + misfit.get());
            err.flush();
            return 2;
        }
        if (inProcess && jvms == 1) {
            quietLogs();
        }
        boolean temporary = network.dir == null;
        Path root = temporary ? Files.createTempDirectory("tally-bench") : network.dir;
        try {
            return report(test.report(test.run(root)), out, err);
        } catch (IOException e) {
            err.println("bench: " + e.getMessage()
                    + (network.keep || !temporary ? "" : " (rerun with --keep to see the node logs)"));
            return 2;
        } finally {
            err.flush();
            if (temporary && !network.keep) {
                deleteTree(root);
            } else {
                err.println("bench: the network's files are in " + root);
            }
        }
    }

    /** The options as the load test's settings, or the usage error that says which option is wrong. */
    private LoadTestSettings settings() {
        if (!storage.equals("rocksdb") && !storage.equals("memory")) {
            throw new ParameterException(spec.commandLine(), "--storage must be rocksdb or memory, not " + storage);
        }
        if (storage.equals("memory") && !inProcess) {
            throw new ParameterException(
                    spec.commandLine(), "--storage memory needs --in-process (node processes use RocksDB)");
        }
        if (emptyBlockIntervalMs != null) {
            try {
                dev.tally.node.config.NodeConfig.checkEmptyBlockInterval(
                        java.time.Duration.ofMillis(emptyBlockIntervalMs), java.time.Duration.ofMillis(viewTimeoutMs));
            } catch (IllegalArgumentException e) {
                throw new ParameterException(spec.commandLine(), "--empty-block-interval-ms: " + e.getMessage());
            }
        }
        if (validators < 1
                || txSize < Bench.TX_HEADER
                || duration < 1
                || warmup < 0
                || unloaded < 0
                || drain < 0
                || rate < 0
                || batchIntervalMs < 0
                || viewTimeoutMs < 1
                || jvms < 1
                || jvms > validators) {
            throw new ParameterException(
                    spec.commandLine(),
                    "need --validators >= 1, --tx-size >= " + Bench.TX_HEADER
                            + ", --duration >= 1, --warmup >= 0, --unloaded >= 0, --drain >= 0, --rate >= 0, --batch-interval-ms >= 0, --view-timeout-ms >= 1, 1 <= --jvms <= --validators");
        }
        if (!client.equals("binary") && !client.equals("json-rpc")) {
            throw new ParameterException(spec.commandLine(), "--client is binary or json-rpc, not " + client);
        }
        if (jvms > 1 && !inProcess) {
            throw new ParameterException(
                    spec.commandLine(), "--jvms needs --in-process (without it every node is a process)");
        }
        return LoadTestSettings.builder()
                .validators(validators)
                .inProcess(inProcess)
                .jvms(jvms)
                .storage(storage.equals("memory") ? LoadTestSettings.Storage.MEMORY : LoadTestSettings.Storage.ROCKSDB)
                .payloadLimit(payloadLimit)
                .txSize(txSize)
                .rate(rate)
                .openLoop(openLoop)
                .durationSeconds(duration)
                .warmupSeconds(warmup)
                .unloadedSeconds(unloaded)
                .drainSeconds(drain)
                .viewTimeoutMs(viewTimeoutMs)
                .startTimeoutSeconds(startTimeout != null ? OptionalLong.of(startTimeout) : OptionalLong.empty())
                .emptyBlockIntervalMs(
                        emptyBlockIntervalMs != null ? OptionalLong.of(emptyBlockIntervalMs) : OptionalLong.empty())
                .senders(senders != null ? OptionalInt.of(senders) : OptionalInt.empty())
                .nodeJvmOptions(nodeJvmOptions)
                .smoke(smoke)
                .batchIntervalMs(batchIntervalMs)
                .client(client.equals("json-rpc") ? LoadTestSettings.Client.JSON_RPC : LoadTestSettings.Client.BINARY)
                .build();
    }

    /** Prints the table, writes the JSON if asked, and with --smoke checks the report: the exit status. */
    private int report(LoadTestReport report, PrintWriter out, PrintWriter err) throws IOException {
        out.print(report.table());
        out.flush();
        if (json != null) {
            Files.writeString(json, report.json() + "\n");
        }
        if (smoke) {
            List<String> problems = report.smokeProblems();
            if (!problems.isEmpty()) {
                err.println("bench --smoke failed: " + String.join("; ", problems));
                return 3;
            }
            err.println("bench --smoke: ok");
        }
        return 0;
    }

    /** Nodes in this JVM log to its stdout: warnings only, so that the table stays readable. */
    private static void quietLogs() {
        if (LoggerFactory.getILoggerFactory() instanceof ch.qos.logback.classic.LoggerContext ctx) {
            ctx.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).setLevel(ch.qos.logback.classic.Level.WARN);
        }
    }

    static void deleteTree(Path root) {
        try (Stream<Path> paths = Files.walk(root)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    // best effort: a temporary directory
                }
            });
        } catch (IOException e) {
            // best effort
        }
    }
}
