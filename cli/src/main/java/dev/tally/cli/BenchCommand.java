package dev.tally.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tally.node.config.NodeConfig;
import dev.tally.node.config.NodeConfigJson;
import dev.tally.testbed.loadtest.Bench;
import dev.tally.testbed.loadtest.InProcessCluster;
import dev.tally.testbed.loadtest.LatencyStats;
import dev.tally.testbed.loadtest.Machine;
import dev.tally.testbed.loadtest.ProcessCluster;
import dev.tally.testbed.localnet.Localnet;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code tally bench}: the end-to-end benchmark (see the command's description). */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {"End-to-end benchmark: starts a local network (validator processes on 127.0.0.1 as `tally localnet` "
                + "runs them, or --in-process), pushes client transactions through push_tx spread over the nodes, reads "
                + "node0's final blocks and reports transaction finality latency, proposal-to-final latency, blocks/s, "
                + "tx/s, payload MB/s, node CPU per block and peak memory per node.",
            "Figures cover the measurement window only: --duration seconds after --warmup seconds of load. Progress goes "
                    + "to stderr, the table to stdout."},
        exitCodeListHeading = "%nExit status:%n",
        exitCodeList = {"0:success", "1:internal error", "2:bad input, or the network failed to start or run",
                "3:--smoke: a check failed (the message says which)"})
public final class BenchCommand implements Callable<Integer> {
    /** In-process networks too large for a full gossip mesh: each node gossips with this many successors only. */
    private static final int GOSSIP_RING = 2;
    /**
     * File descriptors per node besides its peers' sockets: in this JVM (its server; the rest is slack), and in a
     * bench-host JVM (also RPC, metrics and debug page, each with its selector).
     */
    private static final int LISTENERS_IN_PROCESS = 2;
    private static final int LISTENERS_HOSTED = 12;
    /**
     * Default heap of a bench-host JVM per node it runs: a base (more with RocksDB, whose reads copy onto the heap),
     * and per socket the node holds (the Noise stream keeps five 64 KiB buffers; 0.6 MB leaves the collector room).
     */
    private static final double HOST_HEAP_MB_BASE_MEMORY = 32;
    private static final double HOST_HEAP_MB_BASE_ROCKSDB = 48;
    private static final double HOST_HEAP_MB_PER_SOCKET = 0.6;
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    @Spec
    CommandSpec spec;

    @Option(names = "--validators", defaultValue = "6", paramLabel = "N", description = "Validators (default: ${DEFAULT-VALUE}).")
    int validators;

    @Option(names = "--in-process", description = "Run every node in this JVM (for large networks) instead of one process each.")
    boolean inProcess;

    @Option(names = "--jvms", defaultValue = "1", paramLabel = "K", description = "With --in-process: spread the validators "
            + "over K child JVMs, each running its share (n/K) in-process with its own RPC ports, when the sockets of all "
            + "of them do not fit one process's open-file limit (default: ${DEFAULT-VALUE}, every node in this JVM). A JVM's "
            + "heap is 64 MB + per node it runs " + (int) HOST_HEAP_MB_BASE_MEMORY + " MB (" + (int) HOST_HEAP_MB_BASE_ROCKSDB
            + " with RocksDB) + " + HOST_HEAP_MB_PER_SOCKET + " MB per socket (2 per consensus and gossip peer), unless "
            + "--node-jvm-opt=-Xmx... says otherwise.")
    int jvms;

    @Option(names = "--storage", defaultValue = "rocksdb", paramLabel = "rocksdb|memory",
            description = "Node storage (default: ${DEFAULT-VALUE}); memory only with --in-process.")
    String storage;

    @Option(names = "--payload-limit", defaultValue = "" + NodeConfigJson.DEFAULT_MAX_PAYLOAD_SIZE, paramLabel = "BYTES",
            description = "max_payload_size of every node (default: ${DEFAULT-VALUE}).")
    int payloadLimit;

    @Option(names = "--tx-size", defaultValue = "256", paramLabel = "BYTES", description = "Transaction size, at least 24 (default: ${DEFAULT-VALUE}).")
    int txSize;

    @Option(names = "--rate", defaultValue = "1000", paramLabel = "TX/S", description = "Transactions per second in all; 0 sends none (default: ${DEFAULT-VALUE}).")
    long rate;

    @Option(names = "--open-loop", description = "Send as fast as the nodes take transactions (instead of --rate).")
    boolean openLoop;

    @Option(names = "--duration", defaultValue = "30", paramLabel = "S", description = "Measurement window in seconds (default: ${DEFAULT-VALUE}).")
    int duration;

    @Option(names = "--warmup", defaultValue = "10", paramLabel = "S", description = "Load before the window, in seconds (default: ${DEFAULT-VALUE}).")
    int warmup;

    @Option(names = "--view-timeout-ms", defaultValue = "2000", paramLabel = "MS", description = "View timeout (default: ${DEFAULT-VALUE}).")
    long viewTimeoutMs;

    @Option(names = "--start-timeout", paramLabel = "S", description = "How long the network may take to finalize its "
            + "first block (default: 120, or 4 s per validator if more).")
    Long startTimeout;

    @Option(names = "--senders", paramLabel = "N", description = "Client threads (default: one per node, at most 6).")
    Integer senders;

    @Option(names = "--node-jvm-opt", paramLabel = "OPT", description = "An extra JVM option of each node process (with "
            + "--jvms K > 1: of each child JVM), repeatable; {node} stands for the node's name (jvm0, jvm1, ... with --jvms), "
            + "e.g. -XX:StartFlightRecording=filename=/tmp/{node}.jfr")
    List<String> nodeJvmOptions = new ArrayList<>();

    @Option(names = "--json", paramLabel = "FILE", description = "Also write the report as JSON to FILE.")
    Path json;

    @Option(names = "--dir", paramLabel = "DIR", description = "Where the network's keys, configs, data and logs go "
            + "(default: a temporary directory, deleted afterwards unless --keep).")
    Path dir;

    @Option(names = "--keep", description = "Keep the network's directory (logs, data) after the run.")
    boolean keep;

    @Option(names = "--smoke", description = "A 10-second run (2 s warm-up, 8 s window, stretched up to 60 s more until 3 "
            + "blocks are final in it on a starved machine) that checks the harness: blocks finalize, transactions are "
            + "matched, every report field is present; exits 3 otherwise.")
    boolean smoke;

    /** Whether the nodes gossip with {@link #GOSSIP_RING} successors only, instead of with every other node. */
    private boolean gossipRing;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (!storage.equals("rocksdb") && !storage.equals("memory")) {
            throw new ParameterException(spec.commandLine(), "--storage must be rocksdb or memory, not " + storage);
        }
        if (storage.equals("memory") && !inProcess) {
            throw new ParameterException(spec.commandLine(), "--storage memory needs --in-process (node processes use RocksDB)");
        }
        if (validators < 1 || txSize < Bench.TX_HEADER || duration < 1 || warmup < 0 || rate < 0 || viewTimeoutMs < 1
                || jvms < 1 || jvms > validators) {
            throw new ParameterException(spec.commandLine(), "need --validators >= 1, --tx-size >= " + Bench.TX_HEADER
                    + ", --duration >= 1, --warmup >= 0, --rate >= 0, --view-timeout-ms >= 1, 1 <= --jvms <= --validators");
        }
        if (jvms > 1 && !inProcess) {
            throw new ParameterException(spec.commandLine(), "--jvms needs --in-process (without it every node is a process)");
        }
        gossipRing = false;
        if (inProcess) {
            long limit = InProcessCluster.openFileLimit();
            // A full gossip mesh on top of the consensus mesh doubles the sockets: a ring of successors when it would not
            // fit one process. Decided for one process whatever --jvms is, so that --jvms moves the nodes without
            // changing the network they form.
            gossipRing = fileDescriptorsNeeded(1, false) > limit;
            long needed = fileDescriptorsNeeded(jvms, gossipRing);
            if (needed > limit) {
                err.println("bench: " + tooManySockets(needed, limit));
                err.flush();
                return 2;
            }
        }
        if (smoke) {
            warmup = 2;
            duration = 8;
        }
        int senderCount = senders != null ? Math.max(1, senders) : Math.min(validators, 6);
        Bench.Plan plan = new Bench.Plan(txSize, rate, openLoop, TimeUnit.SECONDS.toNanos(warmup),
                TimeUnit.SECONDS.toNanos(duration), TimeUnit.SECONDS.toNanos(smoke ? 30 : 10),
                TimeUnit.SECONDS.toNanos(startTimeout != null ? startTimeout : Math.max(120, 4L * validators)), senderCount, inProcess ? 200 : 500,
                TimeUnit.MICROSECONDS.toNanos(inProcess ? 500 : 1000), 32, smoke ? 3 : 0, TimeUnit.SECONDS.toNanos(smoke ? 60 : 0));

        boolean temporary = dir == null;
        Path root = temporary ? Files.createTempDirectory("tally-bench") : dir;
        String loadBefore = Machine.loadAverage();
        try {
            Bench.Result result = null;
            String memoryMeasure = null;
            for (int attempt = 1; result == null; attempt++) {
                // Ports are picked free, but another program may take one before a node binds it: then start afresh.
                Path netDir = attempt == 1 ? root : root.resolve("retry" + attempt);
                List<Localnet.Member> members = configure(netDir);
                err.printf("bench: %d validators %s, %s storage, %s, in %s%n", validators, !inProcess ? "as processes"
                        : jvms == 1 ? "in this JVM" : "in " + jvms + " JVMs (heap " + hostHeap() + " each)", storage,
                        gossipRing ? "gossip in a ring" : "full gossip mesh", netDir);
                err.flush();
                try {
                    if (inProcess && jvms > 1) {
                        long perNode = hostHeapMbPerNode();
                        try (ProcessCluster cluster = ProcessCluster.grouped(members, groups(members), storage.equals("rocksdb"),
                                perNode, nodeJvmOptions, netDir)) {
                            result = new Bench(cluster, plan, err, () -> {}).run();
                            memoryMeasure = cluster.memoryMeasure();
                        }
                    } else if (inProcess) {
                        quietLogs();
                        try (InProcessCluster cluster = new InProcessCluster(members, storage.equals("rocksdb"))) {
                            result = new Bench(cluster, plan, err, cluster::harnessThread).run();
                            memoryMeasure = cluster.memoryMeasure();
                        }
                    } else {
                        try (ProcessCluster cluster = ProcessCluster.perNode(members, nodeJvmOptions)) {
                            result = new Bench(cluster, plan, err, () -> {}).run();
                            memoryMeasure = cluster.memoryMeasure();
                        }
                    }
                } catch (IOException e) {
                    boolean portTaken = e.getMessage() != null && e.getMessage().contains("Address already in use");
                    if (!portTaken || attempt == 3) {
                        throw e;
                    }
                    err.println("bench: a port was taken before a node could bind it; starting a new network");
                }
            }
            ObjectNode report = report(result, memoryMeasure, loadBefore, Machine.loadAverage());
            out.print(table(report));
            out.flush();
            if (json != null) {
                Files.writeString(json, JSON.writeValueAsString(report) + "\n");
            }
            if (smoke) {
                List<String> problems = smokeProblems(result, report);
                if (!problems.isEmpty()) {
                    err.println("bench --smoke failed: " + String.join("; ", problems));
                    return 3;
                }
                err.println("bench --smoke: ok");
            }
            return 0;
        } catch (IOException e) {
            err.println("bench: " + e.getMessage() + (keep || !temporary ? "" : " (rerun with --keep to see the node logs)"));
            return 2;
        } finally {
            err.flush();
            if (temporary && !keep) {
                deleteTree(root);
            } else {
                err.println("bench: the network's files are in " + root);
            }
        }
    }

    /**
     * File descriptors the largest process needs when the validators run in-process in {@code k} JVMs (this one when
     * {@code k} is 1), gossiping in a ring or a full mesh.
     */
    private long fileDescriptorsNeeded(int k, boolean ring) {
        int largest = (validators + k - 1) / k;
        return InProcessCluster.fileDescriptorsNeeded(validators, largest, ring ? Math.min(GOSSIP_RING, validators - 1) : validators - 1,
                k == 1 ? LISTENERS_IN_PROCESS : LISTENERS_HOSTED);
    }

    /** The heap of the largest bench-host JVM, as its option gives it. */
    private String hostHeap() {
        return nodeJvmOptions.stream().filter(o -> o.startsWith("-Xmx")).reduce((a, b) -> b).map(o -> o.substring(4))
                .orElse(ProcessCluster.hostHeapMb((validators + jvms - 1) / jvms, hostHeapMbPerNode()) + "m");
    }

    /** The default heap of a bench-host JVM per node it runs (see --jvms). */
    private long hostHeapMbPerNode() {
        long sockets = 2L * (validators - 1) + 2L * (gossipRing ? Math.min(GOSSIP_RING, validators - 1) : validators - 1);
        double base = storage.equals("rocksdb") ? HOST_HEAP_MB_BASE_ROCKSDB : HOST_HEAP_MB_BASE_MEMORY;
        return (long) Math.ceil(base + HOST_HEAP_MB_PER_SOCKET * sockets);
    }

    /** Why the network does not fit, and the smallest --jvms that would. */
    private String tooManySockets(long needed, long limit) {
        int fits = jvms + 1;
        while (fits < validators && fileDescriptorsNeeded(fits, true) > limit) {
            fits++;
        }
        String where = jvms == 1 ? validators + " validators in one process need" : validators + " validators over " + jvms
                + " JVMs need, in a JVM running " + (validators + jvms - 1) / jvms + " of them,";
        return where + " about " + needed + " file descriptors (every validator keeps a connection to every other one: "
                + "two sockets per ordered pair in one process, plus gossip and storage), above this process's limit of "
                + limit + "; use --jvms " + fits + " (or more) to spread them over child JVMs, raise `ulimit -n`, or use fewer validators";
    }

    /** The members split into --jvms contiguous groups, balanced: the first n mod K groups have one node more. */
    private List<List<Localnet.Member>> groups(List<Localnet.Member> members) {
        List<List<Localnet.Member>> groups = new ArrayList<>();
        int from = 0;
        for (int k = 0; k < jvms; k++) {
            int size = members.size() / jvms + (k < members.size() % jvms ? 1 : 0);
            groups.add(members.subList(from, from + size));
            from += size;
        }
        return groups;
    }

    /** Keys, genesis and configs (payload limit, view timeout) of the network; with {@link #gossipRing}, a sparser gossip mesh. */
    private List<Localnet.Member> configure(Path root) throws IOException {
        List<Localnet.Member> generated = Localnet.generate(root, validators, 0, Duration.ofMillis(viewTimeoutMs));
        List<Localnet.Member> members = new ArrayList<>();
        for (int i = 0; i < generated.size(); i++) {
            Localnet.Member m = generated.get(i);
            NodeConfig c = m.config();
            var gossip = c.gossipStaticOutbound();
            if (gossipRing) {
                // Every validator already dials every other one for consensus; in one process, a full gossip mesh on
                // top would double the sockets, past the open-file limit. A ring of successors keeps gossip connected.
                Map<dev.tally.crypto.NodePublicKey, java.net.InetSocketAddress> ring = new LinkedHashMap<>();
                for (int k = 1; k <= GOSSIP_RING; k++) {
                    NodeConfig peer = generated.get((i + k) % generated.size()).config();
                    ring.put(peer.nodeKey().publicKey(), peer.serverAddr());
                }
                gossip = ring;
            }
            NodeConfig cfg = new NodeConfig(c.serverAddr(), c.publicAddr(), c.rpcAddr(), c.metricsAddr(), c.debugPageAddr(),
                    c.genesis(), payloadLimit, Math.max(c.maxTxSize(), txSize), c.viewTimeout(), c.validatorKey(), c.nodeKey(),
                    c.gossipDynamicInboundLimit(), c.gossipStaticInbound(), gossip, c.fetchScheduleInterval(), c.blockRetention());
            Files.writeString(m.configFile(), NodeConfigJson.toJson(cfg));
            try {
                Files.setPosixFilePermissions(m.configFile(), PosixFilePermissions.fromString("rw-------"));
            } catch (UnsupportedOperationException e) {
                // not a POSIX file system
            }
            members.add(new Localnet.Member(m.name(), m.dir(), cfg));
        }
        return members;
    }

    /** Nodes in this JVM log to its stdout: warnings only, so that the table stays readable. */
    private static void quietLogs() {
        if (LoggerFactory.getILoggerFactory() instanceof ch.qos.logback.classic.LoggerContext ctx) {
            ctx.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).setLevel(ch.qos.logback.classic.Level.WARN);
        }
    }

    private ObjectNode report(Bench.Result r, String memoryMeasure, String loadBefore, String loadAfter) {
        ObjectNode o = JSON.createObjectNode();
        ObjectNode s = o.putObject("settings");
        s.put("mode", !inProcess ? "processes" : jvms == 1 ? "in-process" : "in-process in " + jvms + " JVMs")
                .put("jvms", inProcess ? jvms : validators).put("validators", validators).put("storage", storage)
                .put("gossip", gossipRing ? "ring of " + GOSSIP_RING + " successors" : "full mesh")
                .put("jvm_heap", inProcess && jvms > 1 ? hostHeap() : null)
                .put("payload_limit", payloadLimit).put("tx_size", txSize).put("rate", openLoop ? null : rate)
                .put("open_loop", openLoop).put("warmup_s", warmup).put("duration_s", duration)
                .put("window_s", round(r.seconds(), 1))
                .put("view_timeout_ms", viewTimeoutMs).put("senders", senders != null ? senders : Math.min(validators, 6));
        ObjectNode m = o.putObject("machine");
        m.put("nproc", Runtime.getRuntime().availableProcessors()).put("cpu", Machine.cpuModel())
                .put("memory_gb", Machine.memoryGb()).put("jdk", Runtime.version() + " (" + System.getProperty("java.vm.name") + ")")
                .put("load_average_before", loadBefore).put("load_average_after", loadAfter);
        ObjectNode res = o.putObject("results");
        double secs = r.seconds();
        res.put("seconds_to_first_block", round(r.startSeconds(), 2));
        res.put("final_blocks", r.blocks()).put("blocks_per_s", round(r.blocks() / secs, 1));
        res.put("transactions_final", r.txs()).put("tx_per_s", round(r.txs() / secs, 1));
        res.put("payload_mb_per_s", round(r.payloadBytes() / secs / 1e6, 3));
        latency(res.putObject("tx_finality_ms"), r.txLatency());
        ObjectNode p2f = latency(res.putObject("proposal_to_final_ms"), r.proposalToFinal());
        p2f.put("blocks_without_figure", r.blocksWithoutLatency());
        res.put("node_cpu_ms_per_block", r.blocks() == 0 ? null : round(r.nodeCpuNanos() / 1e6 / r.blocks(), 3));
        res.put("node_cpu_cores", round(r.nodeCpuNanos() / 1e9 / secs, 2));
        res.put("harness_cpu_cores", round(r.harnessCpuNanos() / 1e9 / secs, 2));
        ObjectNode mem = res.putObject("peak_memory_mb");
        mem.put("max", round(r.peakMemory().stream().max(Comparator.naturalOrder()).orElse(0L) / 1e6, 1));
        mem.put("mean", round(r.peakMemory().stream().mapToLong(Long::longValue).average().orElse(0) / 1e6, 1));
        mem.put("measure", memoryMeasure);
        ObjectNode c = res.putObject("client");
        c.put("sent", r.windowSent()).put("send_rate", round(r.windowSent() / secs, 1)).put("accepted", r.windowAccepted())
                .put("duplicate", r.windowDuplicate()).put("rejected", r.windowRejected())
                .put("first_rejection", r.firstRejection())
                .put("final", r.windowTxsFinalized()).put("not_final_after_drain", r.windowAccepted() - r.windowTxsFinalized())
                .put("included_twice", r.duplicateInclusions()).put("foreign", r.foreignTxs());
        return o;
    }

    private static ObjectNode latency(ObjectNode o, LatencyStats.Summary s) {
        o.put("count", s.count());
        o.put("p50", num(s.p50())).put("p90", num(s.p90())).put("p99", num(s.p99())).put("max", num(s.max()));
        return o;
    }

    private static Double num(double v) {
        return Double.isFinite(v) ? round(v, 2) : null;
    }

    private static double round(double v, int digits) {
        double f = Math.pow(10, digits);
        return Math.round(v * f) / f;
    }

    private static String table(ObjectNode report) {
        var s = report.get("settings");
        var m = report.get("machine");
        var r = report.get("results");
        StringBuilder b = new StringBuilder();
        b.append(String.format("tally bench: %d validators (%s, %s), payload limit %d B, tx %d B, %s, %.0f s window after %d s warm-up%n",
                s.get("validators").asInt(), s.get("mode").asText(), s.get("storage").asText(), s.get("payload_limit").asInt(),
                s.get("tx_size").asInt(), s.get("open_loop").asBoolean() ? "open loop" : s.get("rate").asLong() + " tx/s offered",
                s.get("window_s").asDouble(), s.get("warmup_s").asInt()));
        b.append(String.format("machine: %d cores, %s, %s GB, JDK %s; load average %s -> %s%n", m.get("nproc").asInt(),
                m.get("cpu").asText(), m.get("memory_gb").asText(), m.get("jdk").asText(),
                m.get("load_average_before").asText(), m.get("load_average_after").asText()));
        String row = "%-28s %s%n";
        b.append(String.format(row, "final blocks/s", r.get("blocks_per_s").asText() + "  (" + r.get("final_blocks").asText() + " blocks)"));
        b.append(String.format(row, "transactions/s", r.get("tx_per_s").asText() + "  (" + r.get("transactions_final").asText() + " final)"));
        b.append(String.format(row, "payload MB/s", r.get("payload_mb_per_s").asText()));
        b.append(String.format("%-28s %9s %9s %9s %9s %9s%n", "latency (ms)", "p50", "p90", "p99", "max", "count"));
        for (String k : List.of("tx_finality_ms", "proposal_to_final_ms")) {
            var l = r.get(k);
            b.append(String.format("%-28s %9s %9s %9s %9s %9s%n", k.equals("tx_finality_ms") ? "  tx submitted -> final" : "  proposal -> final (node0)",
                    l.get("p50").asText(), l.get("p90").asText(), l.get("p99").asText(), l.get("max").asText(), l.get("count").asText()));
        }
        b.append(String.format(row, "node CPU per final block", r.get("node_cpu_ms_per_block").asText() + " ms  (nodes used "
                + r.get("node_cpu_cores").asText() + " cores, harness " + r.get("harness_cpu_cores").asText() + ")"));
        b.append(String.format(row, "peak memory per node", "max " + r.get("peak_memory_mb").get("max").asText() + " MB, mean "
                + r.get("peak_memory_mb").get("mean").asText() + " MB  (" + r.get("peak_memory_mb").get("measure").asText() + ")"));
        var c = r.get("client");
        b.append(String.format(row, "client", "sent " + c.get("sent").asText() + " (" + c.get("send_rate").asText() + "/s), accepted "
                + c.get("accepted").asText() + ", rejected " + c.get("rejected").asText() + ", not final after drain "
                + c.get("not_final_after_drain").asText() + ", included twice " + c.get("included_twice").asText()
                + (c.get("first_rejection").isNull() ? "" : "; first rejection: " + c.get("first_rejection").asText())));
        return b.toString();
    }

    /** What --smoke requires: progress, matched transactions, and no empty field in the report. */
    private List<String> smokeProblems(Bench.Result r, ObjectNode report) {
        List<String> problems = new ArrayList<>();
        if (r.blocks() == 0) {
            problems.add("no block was finalized in the window");
        }
        if (rate > 0 || openLoop) {
            if (!r.txLatency().complete()) {
                problems.add("no transaction sent in the window was matched in a final block");
            }
        }
        if (!r.proposalToFinal().complete()) {
            problems.add("no proposal-to-final figure from node0");
        }
        if (r.nodeCpuNanos() <= 0) {
            problems.add("no node CPU time measured");
        }
        if (r.peakMemory().isEmpty() || r.peakMemory().stream().anyMatch(b -> b <= 0)) {
            problems.add("no peak memory measured");
        }
        for (String path : List.of("blocks_per_s", "tx_per_s", "payload_mb_per_s", "node_cpu_ms_per_block", "node_cpu_cores",
                "tx_finality_ms/p50", "tx_finality_ms/p90", "tx_finality_ms/p99", "tx_finality_ms/max",
                "proposal_to_final_ms/p50", "proposal_to_final_ms/p90", "proposal_to_final_ms/p99", "proposal_to_final_ms/max",
                "peak_memory_mb/max", "peak_memory_mb/mean")) {
            var node = report.get("results").at("/" + path);
            if (node.isMissingNode() || node.isNull()) {
                problems.add("report field results." + path.replace('/', '.') + " is missing");
            }
        }
        return problems;
    }

    private static void deleteTree(Path root) {
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
