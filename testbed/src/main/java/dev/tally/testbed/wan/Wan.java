package dev.tally.testbed.wan;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tally.node.config.NodeConfig;
import dev.tally.testbed.localnet.Localnet;
import dev.tally.testbed.localnet.RpcClient;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * A network of validator processes, each in its own network namespace, over links shaped as the {@link WanTopology}
 * says, with {@link Partition}s cutting a region off for a while ({@code tally wan}). {@link #start} builds the network
 * and starts the nodes, {@link #awaitFirstBlock} waits for the chain to start, {@link #run} watches it and applies the
 * partitions, {@link #close} stops the nodes and removes the namespaces (also from a shutdown hook: it may run twice).
 */
public final class Wan implements AutoCloseable {
    /** Each node listens on these ports of its own address (no other node shares its namespace). */
    private static final int SERVER_PORT = 3054;

    private static final int RPC_PORT = 3154;
    private static final int METRICS_PORT = 3254;
    private static final int DEBUG_PORT = 3354;

    /**
     * What to run: the topology (one validator per node), the partitions, the validators' view timeout, their
     * {@code empty_block_interval_ms} if not the default, how to shape the links, and where the keys, configs, data
     * and logs go.
     */
    public record Settings(
            WanTopology topology,
            List<Partition> partitions,
            Duration viewTimeout,
            Optional<Duration> emptyBlockInterval,
            ShapingMode shaping,
            Path dir) {
        public Settings {
            partitions = List.copyOf(partitions);
            partitions.forEach(p -> topology.region(p.region())); // a region that does not exist throws, naming it
        }
    }

    private final Settings settings;
    private final PrintWriter log;
    private final Namespaces namespaces;
    private final List<Process> processes = new ArrayList<>();
    private LinkShaping shaping;
    private List<Localnet.Member> members = List.of();
    private long launchNanos;
    private long startNanos;
    private boolean closed;

    private Wan(Settings settings, PrintWriter log, Namespaces namespaces) {
        this.settings = settings;
        this.log = log;
        this.namespaces = namespaces;
    }

    /** Why this host cannot run the emulation (not root, no {@code ip} or {@code tc}), if it cannot. */
    public static Optional<String> hostProblem() {
        return Ip.hostProblem();
    }

    /** Builds the network, writes the chain's keys and configs into the settings' directory and starts the nodes. */
    public static Wan start(Settings settings, PrintWriter log) throws IOException {
        Optional<String> problem = hostProblem();
        if (problem.isPresent()) {
            throw new IOException("wan " + problem.get());
        }
        Wan wan = new Wan(settings, log, Namespaces.create(settings.topology().nodes(), log));
        try {
            wan.launch();
            return wan;
        } catch (IOException | RuntimeException e) {
            wan.close();
            throw e;
        }
    }

    private void launch() throws IOException {
        int n = settings.topology().nodes();
        List<InetSocketAddress> servers = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            servers.add(new InetSocketAddress(namespaces.address(i), SERVER_PORT));
        }
        shaping = shaping(servers);
        log.println("wan: " + shaping.describe());
        settings.topology().describe().forEach(line -> log.println("wan:   " + line));
        List<Localnet.NodeAddresses> addresses = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            var a = namespaces.address(i);
            addresses.add(new Localnet.NodeAddresses(
                    servers.get(i),
                    shaping.dialed(i),
                    new InetSocketAddress(a, RPC_PORT),
                    new InetSocketAddress(a, METRICS_PORT),
                    new InetSocketAddress(a, DEBUG_PORT)));
        }
        List<Localnet.Member> generated =
                Localnet.generate(settings.dir(), n, 0, settings.viewTimeout(), OptionalLong.empty(), addresses);
        List<Localnet.Member> configured = new ArrayList<>();
        for (Localnet.Member m : generated) {
            Localnet.Member c = m;
            if (settings.emptyBlockInterval().isPresent()) {
                NodeConfig cfg = m.config().toBuilder()
                        .emptyBlockInterval(settings.emptyBlockInterval().get())
                        .build();
                c = new Localnet.Member(m.name(), m.dir(), cfg);
                Localnet.writeConfig(c);
            }
            configured.add(c);
        }
        members = List.copyOf(configured);
        for (int i = 0; i < n; i++) {
            processes.add(Localnet.launch(members.get(i), List.of(), namespaces.exec(i), List.of()));
        }
        launchNanos = System.nanoTime();
        log.printf("wan: %d validators started, in %s (logs: node*/node.log)%n", n, settings.dir());
        log.flush();
    }

    private LinkShaping shaping(List<InetSocketAddress> servers) throws IOException {
        ShapingMode mode = settings.shaping();
        if (mode == ShapingMode.RELAY) {
            return RelayShaping.start(settings.topology(), namespaces, servers);
        }
        if (NetemShaping.available(namespaces)) {
            return NetemShaping.apply(namespaces, settings.topology(), servers);
        }
        if (mode == ShapingMode.NETEM) {
            throw new IOException("this kernel has no netem queueing discipline (sch_netem, CONFIG_NET_SCH_NETEM): "
                    + "`tc qdisc add ... netem` fails; use --shaping relay (or auto)");
        }
        log.println("wan: this kernel has no netem queueing discipline (sch_netem); shaping the links with a relay");
        return RelayShaping.start(settings.topology(), namespaces, servers);
    }

    public List<Localnet.Member> members() {
        return members;
    }

    /**
     * Waits until the watched node has a final block, at most {@code timeout}: a chain that starts in time is one whose
     * nodes found each other through the links.
     */
    public void awaitFirstBlock(Duration timeout) throws IOException, InterruptedException {
        RpcClient rpc = new RpcClient(members.get(watched()).config().rpcAddr().orElseThrow());
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            checkAlive();
            try {
                if (!rpc.call("last_committed_block").isNull()) {
                    log.printf("wan: first block final after %.1f s%n", (System.nanoTime() - launchNanos) / 1e9);
                    log.flush();
                    return;
                }
            } catch (IOException e) {
                // still starting
            }
            Thread.sleep(200);
        }
        throw new IOException("no block was final within " + timeout.toSeconds()
                + " s of the start; see the nodes' logs in " + settings.dir());
    }

    /** The first node no partition cuts off (node 0 if every node is cut off at some time). */
    private int watched() {
        Set<Integer> partitioned = new HashSet<>();
        settings.partitions()
                .forEach(p -> partitioned.addAll(
                        settings.topology().region(p.region()).nodes()));
        int watched = 0;
        while (watched < members.size() - 1 && partitioned.contains(watched)) {
            watched++;
        }
        return partitioned.contains(watched) ? 0 : watched;
    }

    /**
     * Watches the chain for {@code duration}, applying the partitions when due (their times count from this call), and
     * prints a line per partition event and a progress line every 5 s.
     */
    public WanResult run(Duration duration) throws IOException, InterruptedException {
        startNanos = System.nanoTime();
        int watched = watched();
        RpcClient rpc = new RpcClient(members.get(watched).config().rpcAddr().orElseThrow());
        List<WanResult.Observed> observed = new ArrayList<>();
        List<Partition> pending = new ArrayList<>(settings.partitions());
        List<Partition> active = new ArrayList<>();
        long next = 0;
        long lastProgress = 0;
        while (elapsed().compareTo(duration) < 0) {
            applyDue(pending, active);
            checkAlive();
            next = poll(rpc, next, observed);
            if (elapsed().toSeconds() >= lastProgress + 5) {
                lastProgress = elapsed().toSeconds();
                log.printf(
                        "wan: %3d s  %d blocks final on %s%n",
                        lastProgress, next, members.get(watched).name());
                log.flush();
            }
            Thread.sleep(100);
        }
        for (Partition p : active) {
            shaping.setCut(Set.copyOf(settings.topology().region(p.region()).nodes()), false);
        }
        return new WanResult(
                settings.partitions(), observed, duration, members.get(watched).name());
    }

    private Duration elapsed() {
        return Duration.ofNanos(System.nanoTime() - startNanos);
    }

    /** Starts the partitions whose time has come and ends those whose time is up. */
    private void applyDue(List<Partition> pending, List<Partition> active) throws IOException {
        Duration now = elapsed();
        for (Partition p : List.copyOf(pending)) {
            if (now.compareTo(p.start()) >= 0) {
                pending.remove(p);
                active.add(p);
                shaping.setCut(Set.copyOf(settings.topology().region(p.region()).nodes()), true);
                log.printf("wan: %5.1f s  partition: %s cut off%n", now.toMillis() / 1000.0, p.region());
            }
        }
        for (Partition p : List.copyOf(active)) {
            if (now.compareTo(p.end()) >= 0) {
                active.remove(p);
                shaping.setCut(Set.copyOf(settings.topology().region(p.region()).nodes()), false);
                log.printf("wan: %5.1f s  partition: %s healed%n", now.toMillis() / 1000.0, p.region());
            }
        }
        log.flush();
    }

    private void checkAlive() throws IOException {
        for (int i = 0; i < processes.size(); i++) {
            if (!processes.get(i).isAlive()) {
                throw new IOException(members.get(i).name() + " exited with status "
                        + processes.get(i).exitValue() + "; see "
                        + members.get(i).logFile());
            }
        }
    }

    /** Reads the blocks from {@code next} to the watched node's last final one; returns the next block to read. */
    private long poll(RpcClient rpc, long next, List<WanResult.Observed> observed) throws InterruptedException {
        try {
            JsonNode last = rpc.call("last_committed_block");
            long height = last.isNull() ? -1 : last.get("number").asLong();
            for (long b = next; b <= height; b++) {
                JsonNode block = rpc.call("block", b);
                observed.add(new WanResult.Observed(
                        b,
                        elapsed(),
                        block.has("proposal_to_final_ms")
                                ? OptionalLong.of(
                                        block.get("proposal_to_final_ms").asLong())
                                : OptionalLong.empty()));
            }
            return Math.max(next, height + 1);
        } catch (IOException e) {
            return next; // starting, or busy: the next poll tries again
        }
    }

    /** Stops the nodes (SIGTERM, then SIGKILL after 10 s), the relay, and removes the namespaces and the bridge. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        processes.forEach(Process::destroy);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        for (Process p : processes) {
            try {
                if (!p.waitFor(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                    p.destroyForcibly();
                }
            } catch (InterruptedException e) {
                p.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
        if (shaping != null) {
            shaping.close();
        }
        namespaces.close();
        log.println("wan: nodes stopped, namespaces removed");
        log.flush();
    }
}
