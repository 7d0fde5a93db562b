package dev.tally.node.chaos;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tally.node.config.ConfigException;
import dev.tally.node.config.NodeConfig;
import dev.tally.node.config.NodeConfigJson;
import dev.tally.node.localnet.Localnet;
import dev.tally.node.localnet.RpcClient;
import dev.tally.protocol.Codec;
import dev.tally.protocol.DecodeException;
import dev.tally.protocol.Epoch;
import dev.tally.protocol.FinalBlock;
import dev.tally.protocol.InvalidMessageException;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.RandomAccessFile;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

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
 */
public final class Chaos implements AutoCloseable {
    /** The kinds of fault. */
    public enum Fault {
        /** SIGKILL of 1..f validators, restart after a while. */
        KILL,
        /** SIGSTOP of a validator, SIGCONT after a while. */
        PAUSE,
        /** A validator cut off from all others by the proxies, then healed. */
        ISOLATE,
        /** Every link delayed. */
        DELAY,
        /** Connections dropped at random. */
        LOSS,
        /** A validator killed, its data directory emptied, restarted: it re-syncs through block sync. */
        WIPE,
        /** A validator restarted on a read-only data directory: it must refuse to run; then restarted normally. */
        READONLY,
        /** The disk of a running validator fills up (a small tmpfs): it must stop; then freed and restarted. */
        DISKFULL,
        /** f + 1 validators killed at once: the chain must halt, and resume when they return. */
        BEYOND_F,
        /** The committee split in two halves, neither a quorum: the chain must halt, and resume on heal. */
        SPLIT
    }

    /** What to run. */
    public record Options(int validators, Duration duration, long seed, Path dir, Duration viewTimeout,
            Duration recoveryTimeout, Set<Fault> faults) {
        public Options {
            faults = faults.isEmpty() ? EnumSet.noneOf(Fault.class) : EnumSet.copyOf(faults);
        }
    }

    /** The outcome. {@link #ok} says whether every check passed. */
    public record Summary(long seed, int validators, Duration duration, Map<Fault, Integer> faults, long startHeight,
            long finalHeight, int restarts, List<Long> catchUpMillis, long disagreements, long lostBlocks,
            int haltViolations, List<Long> resumeMillis, int notResumed, boolean recovered, long recoveryMillis,
            List<String> problems, List<String> notes) {
        public long blocksFinalized() {
            return Math.max(0, finalHeight - startHeight);
        }

        public boolean ok() {
            return disagreements == 0 && lostBlocks == 0 && haltViolations == 0 && notResumed == 0 && recovered;
        }

        public String text() {
            StringBuilder s = new StringBuilder();
            s.append("chaos summary (seed ").append(seed).append(", ").append(validators).append(" validators, ")
                    .append(duration.toSeconds()).append(" s of faults)\n");
            s.append("  faults injected:   ").append(faults.values().stream().mapToInt(Integer::intValue).sum()).append(' ')
                    .append(faults).append('\n');
            s.append("  blocks finalized:  ").append(blocksFinalized()).append(" (height ").append(startHeight).append(" -> ")
                    .append(finalHeight).append(")\n");
            s.append("  restarts:          ").append(restarts).append('\n');
            s.append("  catch-up times:    ").append(stats(catchUpMillis)).append('\n');
            s.append("  halts beyond f:    ").append(resumeMillis.size() + notResumed).append(" (resumed after ")
                    .append(stats(resumeMillis)).append("; not resumed ").append(notResumed).append("; advanced while halted ")
                    .append(haltViolations).append(")\n");
            s.append("  disagreements:     ").append(disagreements).append('\n');
            s.append("  lost blocks:       ").append(lostBlocks).append('\n');
            s.append("  recovered:         ").append(recovered ? "yes, in " + recoveryMillis + " ms" : "NO").append('\n');
            for (String n : notes) {
                s.append("  note: ").append(n).append('\n');
            }
            for (String p : problems) {
                s.append("  PROBLEM: ").append(p).append('\n');
            }
            s.append(ok() ? "  result: OK\n" : "  result: FAILED\n");
            return s.toString();
        }

        private static String stats(List<Long> ms) {
            if (ms.isEmpty()) {
                return "none";
            }
            List<Long> sorted = ms.stream().sorted().toList();
            return sorted.size() + " samples, median " + sorted.get(sorted.size() / 2) + " ms, max " + sorted.getLast() + " ms";
        }
    }

    private enum Status { UP, DOWN, PAUSED }

    /** One validator as the run sees it. Mutable fields are guarded by the object's lock. */
    private static final class NodeState {
        final int index;
        final Localnet.Member member;
        final RpcClient rpc;
        Process process;
        Status status = Status.DOWN;
        long generation;
        /** The newest block the node reported as stored; −1 after a wipe. */
        long maxReported = -1;
        /** Blocks 0..checkedUpTo of this process were compared with the others. */
        long checkedUpTo = -1;
        long height = -1;
        /** Set on launch: the first answer must show every block reported before. */
        boolean recheck;
        long restartedAt;
        long catchUpTarget;

        NodeState(int index, Localnet.Member member) {
            this.index = index;
            this.member = member;
            this.rpc = new RpcClient(member.config().rpcAddr().orElseThrow());
        }

        String name() {
            return member.name();
        }
    }

    private final Options options;
    private final PrintWriter out;
    private final Random random;
    private final int f;
    private final long startNanos = System.nanoTime();
    private final List<NodeState> nodes = new ArrayList<>();
    private final List<ChaosProxy> proxies = new ArrayList<>();
    private volatile LinkPolicy policy = LinkPolicy.CLEAR;
    private final Map<Long, Integer> pids = new ConcurrentHashMap<>();
    private final Map<Long, String> canonical = new ConcurrentHashMap<>();
    private Epoch epoch;
    private volatile boolean stopped;
    private final List<Thread> pollers = new ArrayList<>();
    private final List<Path> mounts = new CopyOnWriteArrayList<>();
    private Optional<Integer> tmpfsNode = Optional.empty();
    private boolean mountWorks;

    private final Map<Fault, Integer> injected = Collections.synchronizedMap(new LinkedHashMap<>());
    private final AtomicLong disagreements = new AtomicLong();
    private final AtomicLong lostBlocks = new AtomicLong();
    private final List<Long> catchUps = new CopyOnWriteArrayList<>();
    private final List<Long> resumes = new CopyOnWriteArrayList<>();
    private final List<String> problems = new CopyOnWriteArrayList<>();
    private final List<String> notes = new CopyOnWriteArrayList<>();
    private int restarts;
    private int haltViolations;
    private int notResumed;

    public Chaos(Options options, PrintWriter out) {
        this.options = options;
        this.out = out;
        this.random = new Random(new java.util.SplittableRandom(options.seed()).nextLong()); // small seeds: well-mixed schedules
        this.f = (options.validators() - 1) / 5;
    }

    /** Runs the whole thing; the network is stopped (and mounts undone) on return. */
    public Summary run() throws IOException, InterruptedException {
        setUp();
        for (NodeState n : nodes) {
            launch(n, false);
        }
        for (NodeState n : nodes) {
            Thread t = Thread.ofVirtual().name("chaos-poll-" + n.index).start(() -> poll(n));
            pollers.add(t);
        }
        long startHeight = awaitStart();
        long end = System.nanoTime() + options.duration().toNanos();
        List<Fault> kinds = new ArrayList<>(options.faults());
        if (tmpfsNode.isEmpty()) {
            kinds.remove(Fault.DISKFULL);
        }
        if (!mountWorks && isRoot()) {
            kinds.remove(Fault.READONLY); // root ignores file permissions: only a read-only mount makes a directory read-only
        }
        List<Fault> cycle = new ArrayList<>();
        while (!kinds.isEmpty() && System.nanoTime() < end && problems.isEmpty()) {
            if (cycle.isEmpty()) {
                cycle.addAll(kinds);
                Collections.shuffle(cycle, random);
            }
            Fault fault = cycle.removeFirst();
            awaitSettled(end);
            if (System.nanoTime() >= end) {
                break;
            }
            inject(fault);
            injected.merge(fault, 1, Integer::sum);
            sleepMillis(500 + random.nextInt(1500));
        }
        log("faults stop; healing everything");
        healAll();
        long h = networkHeight();
        long recoveryStart = System.nanoTime();
        boolean recovered = awaitAll(h + 3, options.recoveryTimeout(), true);
        long recoveryMillis = (System.nanoTime() - recoveryStart) / 1_000_000;
        if (!recovered) {
            problems.add("the network did not finalize block " + (h + 3) + " on every node within " + options.recoveryTimeout().toSeconds()
                    + " s of the faults stopping; heights " + heights());
        }
        long finalHeight = networkHeight();
        close();
        return new Summary(options.seed(), options.validators(), options.duration(), new LinkedHashMap<>(injected), startHeight,
                finalHeight, restarts, List.copyOf(catchUps), disagreements.get(), lostBlocks.get(), haltViolations,
                List.copyOf(resumes), notResumed, recovered, recoveryMillis, List.copyOf(problems), List.copyOf(notes));
    }

    // ---------------------------------------------------------------- set-up

    private void setUp() throws IOException, InterruptedException {
        if (!SocketOwners.available()) {
            throw new IOException("chaos needs Linux's /proc to tell connections apart");
        }
        List<Localnet.Member> members = Localnet.generate(options.dir(), options.validators(), 0, options.viewTimeout());
        epoch = Epoch.of(members.getFirst().config().genesis());
        for (int i = 0; i < members.size(); i++) {
            proxies.add(new ChaosProxy(i, members.get(i).config().serverAddr(), () -> policy, () -> pids, options.seed() + i));
        }
        // Peers dial the proxies: the announced public address and every static gossip address point at them.
        Map<InetSocketAddress, InetSocketAddress> viaProxy = new LinkedHashMap<>();
        for (int i = 0; i < members.size(); i++) {
            viaProxy.put(members.get(i).config().serverAddr(), proxies.get(i).address());
        }
        for (int i = 0; i < members.size(); i++) {
            Localnet.Member m = members.get(i);
            NodeConfig c = m.config();
            Map<dev.tally.crypto.NodePublicKey, InetSocketAddress> outbound = new LinkedHashMap<>();
            c.gossipStaticOutbound().forEach((k, a) -> outbound.put(k, viaProxy.getOrDefault(a, a)));
            NodeConfig proxied = new NodeConfig(c.serverAddr(), proxies.get(i).address(), c.rpcAddr(), c.metricsAddr(),
                    c.debugPageAddr(), c.genesis(), c.maxPayloadSize(), c.maxTxSize(), c.viewTimeout(), c.validatorKey(),
                    c.nodeKey(), c.gossipDynamicInboundLimit(), c.gossipStaticInbound(), outbound, c.fetchScheduleInterval(),
                    c.blockRetention());
            Files.writeString(m.configFile(), NodeConfigJson.toJson(proxied));
            Files.setPosixFilePermissions(m.configFile(), PosixFilePermissions.fromString("rw-------"));
        }
        try {
            members = Localnet.read(options.dir());
        } catch (ConfigException e) {
            throw new IOException("rewritten config: " + e.getMessage(), e);
        }
        for (int i = 0; i < members.size(); i++) {
            nodes.add(new NodeState(i, members.get(i)));
        }
        mountWorks = isRoot() && probeMount();
        if (mountWorks && options.faults().contains(Fault.DISKFULL)) {
            NodeState n = nodes.getLast();
            Files.createDirectories(n.member.dataDir());
            if (run("mount", "-t", "tmpfs", "-o", "size=" + TMPFS_MB + "m", "tmpfs", n.member.dataDir().toString()) == 0) {
                mounts.add(n.member.dataDir());
                tmpfsNode = Optional.of(n.index);
            }
        }
        log("network of " + nodes.size() + " validators (f = " + f + ") in " + options.dir() + "; proxies "
                + proxies.stream().map(p -> Integer.toString(p.address().getPort())).toList()
                + (tmpfsNode.isPresent() ? "; " + nodes.get(tmpfsNode.get()).name() + " keeps its data on a " + TMPFS_MB + " MB tmpfs" : "")
                + "; seed " + options.seed());
    }

    private static final int TMPFS_MB = 256;

    private boolean probeMount() {
        try {
            Path probe = Files.createTempDirectory(options.dir(), ".mount-probe");
            boolean ok = run("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", probe.toString()) == 0;
            if (ok) {
                run("umount", probe.toString());
            }
            Files.deleteIfExists(probe);
            return ok;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }

    private static boolean isRoot() {
        return "root".equals(System.getProperty("user.name"));
    }

    /** Waits until every node finalized a few blocks; the height then is where the run starts counting. */
    private long awaitStart() throws InterruptedException, IOException {
        if (!awaitAll(2, Duration.ofSeconds(180), false)) {
            close();
            throw new IOException("the network did not start: heights " + heights() + "; see " + options.dir() + "/node*/node.log");
        }
        long h = networkHeight();
        log("network up at height " + h + "; injecting faults for " + options.duration().toSeconds() + " s");
        return h;
    }

    // ---------------------------------------------------------------- faults

    private void inject(Fault fault) throws InterruptedException, IOException {
        switch (fault) {
            case KILL -> {
                List<NodeState> victims = pick(1 + random.nextInt(Math.max(1, f)));
                for (NodeState n : victims) {
                    kill(n, "SIGKILL");
                }
                sleepMillis(hold());
                for (NodeState n : victims) {
                    launch(n, true);
                }
            }
            case PAUSE -> {
                NodeState n = pick(1).getFirst();
                signal(n, "STOP");
                sleepMillis(hold());
                signal(n, "CONT");
            }
            case ISOLATE -> {
                NodeState n = pick(1).getFirst();
                int[] groups = new int[nodes.size()];
                groups[n.index] = 1;
                setPolicy(policy.partition(groups), "isolate " + n.name());
                sleepMillis(hold());
                setPolicy(policy.healed(), "heal partition");
            }
            case DELAY -> {
                long ms = 50L + random.nextInt(350);
                setPolicy(policy.withDelay(ms), "delay every link by " + ms + " ms");
                sleepMillis(hold());
                setPolicy(policy.withDelay(0), "delay off");
            }
            case LOSS -> {
                double p = 0.01 + random.nextInt(5) / 100.0;
                setPolicy(policy.withDrop(p), "drop connections with probability " + p + " per chunk");
                sleepMillis(hold());
                setPolicy(policy.withDrop(0), "drops off");
            }
            case WIPE -> {
                NodeState n = pick(1).getFirst();
                kill(n, "SIGKILL");
                deleteContents(n.member.dataDir());
                synchronized (n) {
                    n.maxReported = -1;
                    n.checkedUpTo = -1;
                }
                log(n.name() + ": data directory wiped");
                sleepMillis(1000 + random.nextInt(2000));
                launch(n, true);
            }
            case READONLY -> readOnly(pick(1).getFirst());
            case DISKFULL -> diskFull(nodes.get(tmpfsNode.orElseThrow()));
            case BEYOND_F -> {
                List<NodeState> victims = pick(f + 1);
                for (NodeState n : victims) {
                    kill(n, "SIGKILL (beyond f)");
                }
                long halted = expectHalt(fault.name());
                for (NodeState n : victims) {
                    launch(n, true);
                }
                expectResume(halted);
            }
            case SPLIT -> {
                List<Integer> order = new ArrayList<>(nodes.stream().map(n -> n.index).toList());
                Collections.shuffle(order, random);
                int[] groups = new int[nodes.size()];
                for (int i = 0; i < order.size() / 2; i++) {
                    groups[order.get(i)] = 1;
                }
                setPolicy(policy.partition(groups), "split the committee " + java.util.Arrays.toString(groups));
                long halted = expectHalt(fault.name());
                setPolicy(policy.healed(), "heal split");
                expectResume(halted);
            }
        }
    }

    /**
     * Waits (until {@code end} at most) for restarted validators to catch up, so that faults meant to stay within f
     * do: a validator still re-syncing counts as down.
     */
    private void awaitSettled(long end) throws InterruptedException {
        while (System.nanoTime() < end) {
            boolean settled = true;
            for (NodeState n : nodes) {
                synchronized (n) {
                    settled &= n.status == Status.UP && n.restartedAt == 0;
                }
            }
            if (settled) {
                return;
            }
            sleepMillis(200);
        }
    }

    /** A fault's duration: a few seconds, longer in longer runs. */
    private long hold() {
        long max = Math.clamp(options.duration().toMillis() / 25, 4000, 12000);
        return 2000 + (long) (random.nextDouble() * (max - 2000));
    }

    /** {@code count} distinct running validators, chosen at random. */
    private List<NodeState> pick(int count) {
        List<NodeState> up = new ArrayList<>(nodes.stream().filter(n -> status(n) == Status.UP).toList());
        Collections.shuffle(up, random);
        return up.subList(0, Math.min(count, up.size()));
    }

    private long expectHalt(String what) throws InterruptedException {
        sleepMillis(2 * options.viewTimeout().toMillis()); // a block already in flight may still finalize
        long before = networkHeight();
        sleepMillis(Math.max(hold(), 4 * options.viewTimeout().toMillis()));
        long after = networkHeight();
        if (after > before + 1) {
            haltViolations++;
            problems.add(what + ": the chain advanced from " + before + " to " + after + " without a quorum");
        }
        log(what + ": chain held at " + before + (after != before ? " -> " + after : "") + " without a quorum");
        return after;
    }

    private void expectResume(long halted) throws InterruptedException {
        long t0 = System.nanoTime();
        long deadline = t0 + options.recoveryTimeout().toNanos();
        while (System.nanoTime() < deadline) {
            if (networkHeight() > halted + 1) {
                long ms = (System.nanoTime() - t0) / 1_000_000;
                resumes.add(ms);
                log("chain resumed " + ms + " ms after the quorum returned");
                return;
            }
            sleepMillis(100);
        }
        notResumed++;
        problems.add("the chain did not resume within " + options.recoveryTimeout().toSeconds() + " s after a halt at " + halted);
    }

    private void readOnly(NodeState n) throws IOException, InterruptedException {
        kill(n, "SIGKILL (to restart on a read-only data directory)");
        Path data = n.member.dataDir();
        boolean mounted = false;
        if (mountWorks) {
            mounted = run("mount", "--bind", data.toString(), data.toString()) == 0;
            if (mounted) {
                mounts.add(data);
                if (run("mount", "-o", "remount,bind,ro", data.toString()) != 0) {
                    unmount(data);
                    mounted = false;
                }
            }
        }
        if (!mounted) {
            run("chmod", "-R", "a-w", data.toString());
        }
        long logFrom = Files.exists(n.member.logFile()) ? Files.size(n.member.logFile()) : 0;
        Process p = Localnet.launch(n.member);
        boolean exited = p.waitFor(60, TimeUnit.SECONDS);
        if (!exited) {
            p.destroyForcibly().waitFor();
            problems.add(n.name() + " kept running on a read-only data directory");
        } else {
            String error = firstError(n.member.logFile(), logFrom);
            notes.add("read-only data: " + n.name() + " exited with status " + p.exitValue() + ": " + error);
            log(n.name() + " on read-only data exited with status " + p.exitValue() + ": " + error);
            if (p.exitValue() == 0) {
                problems.add(n.name() + " exited with status 0 on a read-only data directory");
            }
        }
        if (mounted) {
            unmount(data);
        } else {
            run("chmod", "-R", "u+w", data.toString());
        }
        launch(n, true);
    }

    private void diskFull(NodeState n) throws IOException, InterruptedException {
        if (status(n) != Status.UP) {
            return;
        }
        Path filler = n.member.dataDir().resolve("filler");
        long logFrom = Files.size(n.member.logFile());
        long written = 0;
        try (RandomAccessFile file = new RandomAccessFile(filler.toFile(), "rw")) {
            byte[] mb = new byte[1 << 20];
            while (written < (TMPFS_MB + 1L) << 20) {
                file.write(mb);
                written += mb.length;
            }
        } catch (IOException e) {
            // full
        }
        log(n.name() + ": its disk is full (" + (written >> 20) + " MB of filler)");
        Process p;
        long heightBefore;
        synchronized (n) {
            p = n.process;
            heightBefore = n.height;
        }
        boolean exited = p.waitFor(Math.max(20, 10 * options.viewTimeout().toSeconds()), TimeUnit.SECONDS);
        long heightAfter;
        synchronized (n) {
            heightAfter = n.height;
        }
        if (exited) {
            synchronized (n) {
                n.status = Status.DOWN;
                n.generation++;
            }
            String error = firstError(n.member.logFile(), logFrom);
            notes.add("disk full: " + n.name() + " exited with status " + p.exitValue() + ": " + error);
            log(n.name() + " on a full disk exited with status " + p.exitValue() + ": " + error);
        } else {
            notes.add("disk full: " + n.name() + " was still running after " + Math.max(20, 10 * options.viewTimeout().toSeconds())
                    + " s, having stored blocks " + heightBefore + " -> " + heightAfter + " meanwhile (" + (written >> 20) + " MB of filler)");
            log(n.name() + " still runs on a full disk");
            kill(n, "SIGKILL (still running on a full disk)");
            // A running node may write into space RocksDB allocated before the disk filled; a start must allocate.
            long from = Files.size(n.member.logFile());
            Process q = Localnet.launch(n.member);
            if (q.waitFor(60, TimeUnit.SECONDS)) {
                String error = firstError(n.member.logFile(), from);
                notes.add("disk full: " + n.name() + " restarted on the full disk exited with status " + q.exitValue() + ": " + error);
                log(n.name() + " restarted on a full disk exited with status " + q.exitValue() + ": " + error);
                if (q.exitValue() == 0) {
                    problems.add(n.name() + " exited with status 0 on a full disk");
                }
            } else {
                q.destroyForcibly().waitFor();
                notes.add("disk full: " + n.name() + " restarted on the full disk was still running after 60 s");
                log(n.name() + " restarted on a full disk still runs after 60 s; killed");
            }
        }
        Files.deleteIfExists(filler);
        launch(n, true);
    }

    /** The first line of the log from {@code offset} on that looks like the reason the node stopped. */
    private static String firstError(Path log, long offset) {
        try {
            byte[] all = Files.readAllBytes(log);
            String text = new String(all, (int) Math.min(offset, all.length), (int) (all.length - Math.min(offset, all.length)),
                    StandardCharsets.UTF_8);
            return text.lines().filter(l -> l.contains("ERROR") || l.startsWith("tally") || l.contains("rror"))
                    .findFirst().map(String::strip).orElse("(no error line in " + log + ")");
        } catch (IOException e) {
            return "(cannot read " + log + ")";
        }
    }

    // ---------------------------------------------------------------- processes

    private void launch(NodeState n, boolean restart) throws IOException {
        Process p = Localnet.launch(n.member);
        synchronized (n) {
            n.process = p;
            n.status = Status.UP;
            n.generation++;
            n.recheck = true;
            if (restart) {
                n.restartedAt = System.nanoTime();
                n.catchUpTarget = networkHeight();
                restarts++;
            }
        }
        pids.put(p.pid(), n.index);
        if (restart) {
            log("restart " + n.name() + " (pid " + p.pid() + ")");
        }
    }

    private void kill(NodeState n, String why) throws InterruptedException {
        Process p;
        synchronized (n) {
            p = n.process;
            n.status = Status.DOWN;
            n.generation++;
        }
        log(why + " " + n.name());
        if (p != null) {
            p.destroyForcibly();
            p.waitFor(30, TimeUnit.SECONDS);
            pids.remove(p.pid());
        }
    }

    private void signal(NodeState n, String signal) throws InterruptedException, IOException {
        Process p;
        synchronized (n) {
            p = n.process;
            n.status = signal.equals("STOP") ? Status.PAUSED : Status.UP;
            n.generation++;
        }
        log("SIG" + signal + " " + n.name());
        run("kill", "-" + signal, Long.toString(p.pid()));
    }

    private Status status(NodeState n) {
        synchronized (n) {
            return n.status;
        }
    }

    private void setPolicy(LinkPolicy p, String what) {
        policy = p;
        log(what);
        proxies.forEach(ChaosProxy::enforce);
    }

    private void healAll() throws IOException, InterruptedException {
        setPolicy(LinkPolicy.CLEAR, "links clear");
        for (NodeState n : nodes) {
            Status s = status(n);
            if (s == Status.PAUSED) {
                signal(n, "CONT");
            } else if (s == Status.DOWN) {
                launch(n, true);
            }
        }
    }

    private static int run(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return -1;
        }
        return p.exitValue();
    }

    private void unmount(Path dir) throws IOException, InterruptedException {
        if (run("umount", dir.toString()) == 0 || run("umount", "-l", dir.toString()) == 0) {
            mounts.remove(dir);
        }
    }

    private static void deleteContents(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return;
        }
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                if (!p.equals(dir)) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    // ---------------------------------------------------------------- checks

    /** Polls one node: its height, and every block it has not shown yet, compared with the others'. */
    private void poll(NodeState n) {
        while (!stopped) {
            try {
                Thread.sleep(300);
                pollOnce(n);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private void pollOnce(NodeState n) throws InterruptedException {
        long generation;
        boolean recheck;
        long maxReported;
        long from;
        synchronized (n) {
            if (n.status != Status.UP) {
                return;
            }
            generation = n.generation;
            recheck = n.recheck;
            maxReported = n.maxReported;
            from = recheck ? 0 : n.checkedUpTo + 1;
        }
        long h;
        try {
            JsonNode last = n.rpc.call("last_committed_block");
            h = last == null || last.isNull() ? -1 : last.get("number").asLong();
        } catch (IOException e) {
            return; // starting, stopping or busy
        }
        if (recheck) {
            synchronized (n) {
                if (n.generation != generation) {
                    return;
                }
                n.recheck = false;
                n.checkedUpTo = -1;
            }
            if (h < maxReported) {
                lostBlocks.addAndGet(maxReported - h);
                problems.add(n.name() + " reported block " + maxReported + " before its restart and only " + h + " after");
                log("LOST: " + n.name() + " had " + maxReported + ", after restart " + h);
            }
        }
        long checked = from - 1;
        for (long b = from; b <= h && !stopped; b++) {
            JsonNode block;
            try {
                block = n.rpc.call("block", b);
            } catch (IOException e) {
                if (e.getMessage() != null && e.getMessage().contains("not stored") && b <= maxReported) {
                    synchronized (n) {
                        if (n.generation != generation) {
                            return;
                        }
                    }
                    lostBlocks.incrementAndGet();
                    problems.add(n.name() + " no longer serves block " + b + " (it reported " + maxReported + "): " + e.getMessage());
                    checked = b;
                    continue;
                }
                break;
            }
            check(n, b, block);
            checked = b;
        }
        long now = System.nanoTime();
        synchronized (n) {
            if (n.generation != generation) {
                return;
            }
            n.checkedUpTo = Math.max(n.checkedUpTo, checked);
            n.height = Math.max(h, n.height);
            n.maxReported = Math.max(n.maxReported, Math.min(h, n.checkedUpTo));
            if (n.restartedAt != 0 && h >= n.catchUpTarget) {
                long ms = (now - n.restartedAt) / 1_000_000;
                catchUps.add(ms);
                n.restartedAt = 0;
                log(n.name() + " caught up to " + n.catchUpTarget + " in " + ms + " ms");
            }
        }
    }

    private void check(NodeState n, long number, JsonNode b) {
        String hash;
        try {
            FinalBlock block = Codec.decodeFinalBlock(HexFormat.of().parseHex(b.get("encoded").asText()));
            block.verify(epoch);
            if (block.number() != number) {
                throw new InvalidMessageException("asked for block " + number + ", got " + block.number());
            }
            hash = block.header().payload().toText();
        } catch (DecodeException | InvalidMessageException | RuntimeException e) {
            disagreements.incrementAndGet();
            problems.add(n.name() + " serves an invalid block " + number + ": " + e.getMessage());
            return;
        }
        String known = canonical.putIfAbsent(number, hash);
        if (known != null && !known.equals(hash)) {
            disagreements.incrementAndGet();
            problems.add("block " + number + ": " + n.name() + " has payload " + hash + ", another node " + known);
            log("DISAGREEMENT at block " + number + " on " + n.name());
        }
    }

    private long networkHeight() {
        long h = -1;
        for (NodeState n : nodes) {
            synchronized (n) {
                h = Math.max(h, n.height);
            }
        }
        return h;
    }

    private Map<String, Long> heights() {
        Map<String, Long> m = new LinkedHashMap<>();
        for (NodeState n : nodes) {
            synchronized (n) {
                m.put(n.name(), n.height);
            }
        }
        return m;
    }

    /** Waits until every node reports (and, if {@code checked}, has been checked up to) {@code height}. */
    private boolean awaitAll(long height, Duration timeout, boolean checked) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            boolean all = true;
            for (NodeState n : nodes) {
                synchronized (n) {
                    all &= n.status == Status.UP && n.height >= height && (!checked || n.checkedUpTo >= height);
                }
            }
            if (all) {
                return true;
            }
            sleepMillis(200);
        }
        return false;
    }

    private void log(String what) {
        synchronized (out) {
            out.printf("[%6.1fs] %s%n", (System.nanoTime() - startNanos) / 1e9, what);
            out.flush();
        }
    }

    private static void sleepMillis(long ms) throws InterruptedException {
        Thread.sleep(ms);
    }

    /** Stops every node (resuming paused ones first), the pollers and the proxies, and undoes mounts. Idempotent. */
    @Override
    public synchronized void close() {
        if (stopped) {
            return;
        }
        stopped = true;
        pollers.forEach(Thread::interrupt);
        for (NodeState n : nodes) {
            Process p;
            synchronized (n) {
                p = n.process;
                n.status = Status.DOWN;
            }
            if (p != null && p.isAlive()) {
                try {
                    run("kill", "-CONT", Long.toString(p.pid()));
                } catch (IOException | InterruptedException e) {
                    // SIGKILL below still works on a stopped process
                }
                p.destroy();
            }
        }
        for (NodeState n : nodes) {
            Process p = n.process;
            if (p != null) {
                try {
                    if (!p.waitFor(15, TimeUnit.SECONDS)) {
                        p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                    }
                } catch (InterruptedException e) {
                    p.destroyForcibly();
                }
            }
        }
        proxies.forEach(ChaosProxy::close);
        for (Path m : List.copyOf(mounts)) {
            try {
                unmount(m);
            } catch (IOException | InterruptedException e) {
                notes.add("could not unmount " + m + ": " + e.getMessage());
            }
        }
    }
}
