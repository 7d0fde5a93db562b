package dev.tally.testbed.chaos;

import dev.tally.node.config.ConfigException;
import dev.tally.node.config.NodeConfig;
import dev.tally.protocol.Epoch;
import dev.tally.testbed.localnet.Localnet;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A chaos run: a local network of real node processes (RocksDB each) behind {@link ChaosProxy loopback proxies},
 * with faults injected on a seeded schedule for a while, every node's chain checked over RPC against every other
 * throughout, then a bounded wait for the network to finalize again. See {@code RELIABILITY.md}.
 *
 * <p>Checks: at every height every node holds a block with the same payload hash, and each block verifies offline
 * against the genesis (its commit QC included); a node never serves fewer blocks after a restart than it reported
 * before (except after its data was wiped on purpose); with more than f validators down or the committee split,
 * the chain does not advance (beyond a block already in flight) and resumes once they return; at the end every
 * node finalizes new blocks within the recovery timeout.
 *
 * <p>The parts: {@link NodeProcesses} (the validators' processes), {@link Links} (the proxies between them),
 * {@link ChainAudit} (the checks of every node's chain), {@link DiskFaults} and the {@link FaultSchedule}; they share
 * the {@link RunLog}.
 */
public final class Chaos implements AutoCloseable {
    /** Per start stage. Generous: six JVMs and their RocksDBs start at once, on a machine that may be busy. */
    private static final Duration START_TIMEOUT = Duration.ofSeconds(180);

    private final ChaosOptions options;
    private final RunLog log;
    private final Map<Long, Integer> pids = new ConcurrentHashMap<>();
    private Links links;
    private NodeProcesses nodes;
    private ChainAudit audit;
    private DiskFaults disks;
    private boolean stopped;

    public Chaos(ChaosOptions options, PrintWriter out) {
        this.options = options;
        this.log = new RunLog(out);
    }

    /** Runs the whole thing; the network is stopped (and mounts undone) on return. */
    public ChaosSummary run() throws IOException, InterruptedException {
        setUp();
        FaultSchedule schedule = new FaultSchedule(options, nodes, links, disks, log);
        log.log("network of " + nodes.size() + " validators (f = " + schedule.f() + ") in " + options.dir()
                + "; proxies " + links.ports() + disks.describe() + "; seed " + options.seed());
        for (ChaosNode n : nodes.all()) {
            nodes.launch(n, false);
        }
        audit.start();
        long startHeight = awaitStart();
        schedule.run(System.nanoTime() + options.duration().toNanos());
        log.log("faults stop; healing everything");
        schedule.healAll();
        long h = nodes.networkHeight();
        long recoveryStart = System.nanoTime();
        boolean recovered = nodes.awaitAll(h + 3, options.recoveryTimeout(), true);
        long recoveryMillis = (System.nanoTime() - recoveryStart) / 1_000_000;
        if (!recovered) {
            log.problem("the network did not finalize block " + (h + 3) + " on every node within "
                    + options.recoveryTimeout().toSeconds() + " s of the faults stopping; heights " + nodes.heights());
        }
        long finalHeight = nodes.networkHeight();
        close();
        return new ChaosSummary(
                options.seed(),
                options.validators(),
                options.duration(),
                schedule.injected(),
                startHeight,
                finalHeight,
                nodes.restarts(),
                audit.catchUpMillis(),
                audit.disagreements(),
                audit.lostBlocks(),
                schedule.haltViolations(),
                schedule.resumeMillis(),
                schedule.notResumed(),
                recovered,
                recoveryMillis,
                log.problems(),
                log.notes());
    }

    /** The network's keys and configs (pointing peers at the proxies), the proxies, the parts, and disk set-up. */
    private void setUp() throws IOException, InterruptedException {
        if (!SocketOwners.available()) {
            throw new IOException("chaos needs Linux's /proc to tell connections apart");
        }
        List<Localnet.Member> members =
                Localnet.generate(options.dir(), options.validators(), 0, options.viewTimeout());
        Epoch epoch = Epoch.of(members.getFirst().config().genesis());
        links = new Links(members, () -> pids, options.seed(), log);
        routeThroughProxies(members);
        try {
            members = Localnet.read(options.dir());
        } catch (ConfigException e) {
            throw new IOException("rewritten config: " + e.getMessage(), e);
        }
        nodes = new NodeProcesses(members, pids, log);
        audit = new ChainAudit(nodes, epoch, log);
        disks = new DiskFaults(nodes, options.viewTimeout(), log);
        disks.prepare(options.dir(), options.faults().contains(Fault.DISKFULL));
    }

    /** Rewrites the configs so that peers dial the proxies: the announced public address and every static gossip address. */
    private void routeThroughProxies(List<Localnet.Member> members) throws IOException {
        Map<InetSocketAddress, InetSocketAddress> viaProxy = new LinkedHashMap<>();
        for (int i = 0; i < members.size(); i++) {
            viaProxy.put(members.get(i).config().serverAddr(), links.address(i));
        }
        for (int i = 0; i < members.size(); i++) {
            Localnet.Member m = members.get(i);
            NodeConfig c = m.config();
            Map<dev.tally.crypto.NodePublicKey, InetSocketAddress> outbound = new LinkedHashMap<>();
            c.gossipStaticOutbound().forEach((k, a) -> outbound.put(k, viaProxy.getOrDefault(a, a)));
            NodeConfig proxied = c.toBuilder()
                    .publicAddr(links.address(i))
                    .gossipStaticOutbound(outbound)
                    .build();
            Localnet.writeConfig(new Localnet.Member(m.name(), m.dir(), proxied));
        }
    }

    /**
     * Waits until every node finalized a few blocks; the height then is where the run starts counting. Two stages,
     * each with its own {@link #START_TIMEOUT}: every node's RPC answers (its JVM is up; a minute and more on a
     * machine at a load of 40 or more), then every node reaches block 2. A node whose process exits meanwhile fails
     * the start at once, with the reason from its log.
     */
    private long awaitStart() throws InterruptedException, IOException {
        awaitStartStage("every node's RPC to answer", nodes::allAnswer);
        awaitStartStage("every node to finalize block 2", () -> nodes.awaitAll(2, Duration.ofSeconds(1), false));
        long h = nodes.networkHeight();
        log.log("network up at height " + h + "; injecting faults for "
                + options.duration().toSeconds() + " s");
        return h;
    }

    private interface StartCheck {
        boolean done() throws InterruptedException;
    }

    private void awaitStartStage(String what, StartCheck check) throws InterruptedException, IOException {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (!check.done()) {
            List<String> exited = nodes.exited();
            if (!exited.isEmpty() || System.nanoTime() > deadline) {
                close();
                throw new IOException("the network did not start: "
                        + (exited.isEmpty()
                                ? "waited " + START_TIMEOUT.toSeconds() + " s for " + what + "; heights "
                                        + nodes.heights() + "; load average " + loadAverage()
                                : String.join("; ", exited))
                        + "; node logs in " + options.dir() + "/node*/node.log");
            }
            Thread.sleep(1000);
        }
        log.log("start: " + what + " done; load average " + loadAverage());
    }

    /** The machine's 1-, 5- and 15-minute load averages, which explain a slow start. */
    private static String loadAverage() {
        try {
            String[] f = Files.readAllLines(Path.of("/proc/loadavg")).getFirst().split(" ");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException | RuntimeException e) {
            return "unknown";
        }
    }

    /** Stops every node (resuming paused ones first), the pollers and the proxies, and undoes mounts. Idempotent. */
    @Override
    public synchronized void close() {
        if (stopped) {
            return;
        }
        stopped = true;
        if (audit != null) {
            audit.stop();
        }
        if (nodes != null) {
            nodes.stopAll();
        }
        if (links != null) {
            links.close();
        }
        if (disks != null) {
            disks.unmountAll();
        }
    }
}
