package dev.tally.testbed.loadtest;

import dev.tally.node.config.NodeConfig;
import dev.tally.testbed.localnet.Localnet;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The end-to-end load test ({@code tally bench}): sets up a local network of the {@link LoadTestSettings}' shape
 * (validator processes, or in-process nodes in this JVM or in child JVMs), runs a {@link Bench} against it and
 * returns what it measured, which {@link LoadTestReport} turns into the report.
 */
public final class LoadTest {
    /** In-process networks too large for a full gossip mesh: each node gossips with this many successors only. */
    static final int GOSSIP_RING = 2;
    /**
     * File descriptors per node besides its peers' sockets: in this JVM (its server; the rest is slack), and in a
     * bench-host JVM (also RPC, metrics and debug page, each with its selector).
     */
    private static final int LISTENERS_IN_PROCESS = 2;

    private static final int LISTENERS_HOSTED = 12;
    /**
     * Default heap of a bench-host JVM per node it runs: a base (more with RocksDB, whose reads copy onto the heap),
     * and per socket the node holds (a Noise stream's buffers start at 8 KiB and grow to the largest message, up to
     * five of 64 KiB; 0.6 MB leaves the collector room).
     */
    public static final double HOST_HEAP_MB_BASE_MEMORY = 32;

    public static final double HOST_HEAP_MB_BASE_ROCKSDB = 48;
    public static final double HOST_HEAP_MB_PER_SOCKET = 0.6;

    /** What one run measured, with what the report says about where it ran. */
    public record Outcome(Bench.Result result, String memoryMeasure, String loadBefore, String loadAfter) {}

    private final LoadTestSettings settings;
    private final PrintWriter progress;
    /** Whether the nodes gossip with {@link #GOSSIP_RING} successors only, instead of with every other node. */
    private final boolean gossipRing;

    /** {@code progress} gets what the run does, line by line (the command's stderr). */
    public LoadTest(LoadTestSettings settings, PrintWriter progress) {
        this.settings = settings;
        this.progress = progress;
        // A full gossip mesh on top of the consensus mesh doubles the sockets: a ring of successors when it would not
        // fit one process. Decided for one process whatever --jvms is, so that --jvms moves the nodes without
        // changing the network they form.
        this.gossipRing = settings.inProcess() && fileDescriptorsNeeded(1, false) > InProcessCluster.openFileLimit();
    }

    public LoadTestSettings settings() {
        return settings;
    }

    /**
     * Why the network does not fit this machine's open-file limit, and the smallest --jvms that would; empty when it
     * fits (always for validator processes, each of which has its own limit).
     */
    public Optional<String> tooManySockets() {
        if (!settings.inProcess()) {
            return Optional.empty();
        }
        long limit = InProcessCluster.openFileLimit();
        long needed = fileDescriptorsNeeded(settings.jvms(), gossipRing);
        if (needed <= limit) {
            return Optional.empty();
        }
        int validators = settings.validators();
        int jvms = settings.jvms();
        int fits = jvms + 1;
        while (fits < validators && fileDescriptorsNeeded(fits, true) > limit) {
            fits++;
        }
        String where = jvms == 1
                ? validators + " validators in one process need"
                : validators + " validators over " + jvms + " JVMs need, in a JVM running "
                        + (validators + jvms - 1) / jvms + " of them,";
        return Optional.of(where + " about " + needed
                + " file descriptors (every validator keeps a connection to every other one: "
                + "two sockets per ordered pair in one process, plus gossip and storage), above this process's limit of "
                + limit + "; use --jvms " + fits
                + " (or more) to spread them over child JVMs, raise `ulimit -n`, or use fewer validators");
    }

    /**
     * Sets up the network under {@code root} and runs the load against it. A port another program takes before a
     * node binds it starts a new network (in {@code root}/retryK), twice at most.
     */
    public Outcome run(Path root) throws IOException, InterruptedException {
        String loadBefore = Machine.loadAverage();
        for (int attempt = 1; ; attempt++) {
            Path netDir = attempt == 1 ? root : root.resolve("retry" + attempt);
            List<Localnet.Member> members = configure(netDir);
            progress.printf(
                    "bench: %d validators %s, %s storage, %s, in %s%n",
                    settings.validators(),
                    placement(),
                    settings.storage().cliName(),
                    gossipRing ? "gossip in a ring" : "full gossip mesh",
                    netDir);
            progress.flush();
            try {
                Measured m = runOn(members, netDir);
                return new Outcome(m.result(), m.memoryMeasure(), loadBefore, Machine.loadAverage());
            } catch (IOException e) {
                boolean portTaken = e.getMessage() != null && e.getMessage().contains("Address already in use");
                if (!portTaken || attempt == 3) {
                    throw e;
                }
                progress.println("bench: a port was taken before a node could bind it; starting a new network");
            }
        }
    }

    /** The report of {@code outcome}, a run of this load test. */
    public LoadTestReport report(Outcome outcome) {
        return LoadTestReport.of(this, outcome);
    }

    private String placement() {
        return !settings.inProcess()
                ? "as processes"
                : settings.jvms() == 1
                        ? "in this JVM"
                        : "in " + settings.jvms() + " JVMs (heap " + hostHeap() + " each)";
    }

    /** A run's figures and how its peak memory was measured, before the machine's load is added. */
    private record Measured(Bench.Result result, String memoryMeasure) {}

    private Measured runOn(List<Localnet.Member> members, Path netDir) throws IOException, InterruptedException {
        boolean rocksdb = settings.storage() == LoadTestSettings.Storage.ROCKSDB;
        BenchPlan plan = plan();
        if (settings.inProcess() && settings.jvms() > 1) {
            try (ProcessCluster cluster = ProcessCluster.grouped(
                    members,
                    groups(members),
                    rocksdb,
                    hostHeapMbPerNode(),
                    settings.nodeJvmOptions(),
                    netDir,
                    settings.client())) {
                return new Measured(new Bench(cluster, plan, progress, () -> {}).run(), cluster.memoryMeasure());
            }
        } else if (settings.inProcess()) {
            try (InProcessCluster cluster = new InProcessCluster(members, rocksdb)) {
                return new Measured(
                        new Bench(cluster, plan, progress, cluster::harnessThread).run(), cluster.memoryMeasure());
            }
        } else {
            try (ProcessCluster cluster =
                    ProcessCluster.perNode(members, settings.nodeJvmOptions(), settings.client())) {
                return new Measured(new Bench(cluster, plan, progress, () -> {}).run(), cluster.memoryMeasure());
            }
        }
    }

    /** The run's timing and sending, from the settings; a smoke run stretches its window until a few blocks are in it. */
    private BenchPlan plan() {
        boolean smoke = settings.smoke();
        int validators = settings.validators();
        return BenchPlan.builder()
                .txSize(settings.txSize())
                .rate(settings.rate())
                .openLoop(settings.openLoop())
                .unloaded(Duration.ofSeconds(settings.unloadedSeconds()))
                .warmup(Duration.ofSeconds(settings.warmupSeconds()))
                .duration(Duration.ofSeconds(settings.durationSeconds()))
                .drain(Duration.ofSeconds(smoke ? 30 : settings.drainSeconds()))
                .startTimeout(Duration.ofSeconds(settings.startTimeoutSeconds().orElse(Math.max(120, 4L * validators))))
                .senders(
                        settings.senders().isPresent()
                                ? Math.max(1, settings.senders().getAsInt())
                                : Math.min(validators, 6))
                .maxBatch(settings.inProcess() ? 200 : 500)
                .batchInterval(Duration.ofMillis(settings.batchIntervalMs()))
                .followWait(Duration.ofMillis(500))
                .readChunk(32)
                .minWindowBlocks(smoke ? 3 : 0)
                .maxExtension(Duration.ofSeconds(smoke ? 60 : 0))
                .build();
    }

    /**
     * File descriptors the largest process needs when the validators run in-process in {@code k} JVMs (this one when
     * {@code k} is 1), gossiping in a ring or a full mesh.
     */
    private long fileDescriptorsNeeded(int k, boolean ring) {
        int validators = settings.validators();
        int largest = (validators + k - 1) / k;
        return InProcessCluster.fileDescriptorsNeeded(
                validators,
                largest,
                ring ? Math.min(GOSSIP_RING, validators - 1) : validators - 1,
                k == 1 ? LISTENERS_IN_PROCESS : LISTENERS_HOSTED);
    }

    boolean gossipRing() {
        return gossipRing;
    }

    /** The heap of the largest bench-host JVM, as its option gives it. */
    String hostHeap() {
        int jvms = settings.jvms();
        return settings.nodeJvmOptions().stream()
                .filter(o -> o.startsWith("-Xmx"))
                .reduce((a, b) -> b)
                .map(o -> o.substring(4))
                .orElse(ProcessCluster.hostHeapMb((settings.validators() + jvms - 1) / jvms, hostHeapMbPerNode())
                        + "m");
    }

    /** The default heap of a bench-host JVM per node it runs (see --jvms). */
    private long hostHeapMbPerNode() {
        int validators = settings.validators();
        long sockets =
                2L * (validators - 1) + 2L * (gossipRing ? Math.min(GOSSIP_RING, validators - 1) : validators - 1);
        double base = settings.storage() == LoadTestSettings.Storage.ROCKSDB
                ? HOST_HEAP_MB_BASE_ROCKSDB
                : HOST_HEAP_MB_BASE_MEMORY;
        return (long) Math.ceil(base + HOST_HEAP_MB_PER_SOCKET * sockets);
    }

    /** The members split into --jvms contiguous groups, balanced: the first n mod K groups have one node more. */
    private List<List<Localnet.Member>> groups(List<Localnet.Member> members) {
        int jvms = settings.jvms();
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
        List<Localnet.Member> generated =
                Localnet.generate(root, settings.validators(), 0, Duration.ofMillis(settings.viewTimeoutMs()));
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
            NodeConfig cfg = c.toBuilder()
                    .maxPayloadSize(settings.payloadLimit())
                    .maxTxSize(Math.max(c.maxTxSize(), settings.txSize()))
                    .gossipStaticOutbound(gossip)
                    .emptyBlockInterval(Duration.ofMillis(settings.emptyBlockIntervalMs()
                            .orElse(c.emptyBlockInterval().toMillis())))
                    .build();
            Localnet.Member rewritten = new Localnet.Member(m.name(), m.dir(), cfg);
            Localnet.writeConfig(rewritten);
            members.add(rewritten);
        }
        return members;
    }
}
