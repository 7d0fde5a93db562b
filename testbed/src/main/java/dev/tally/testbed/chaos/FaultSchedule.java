package dev.tally.testbed.chaos;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The seeded schedule of faults: cycles through the kinds in a shuffled order, one at a time once restarted validators
 * caught up, each held for a few seconds, until the run's duration ends or a check failed. The faults beyond f (more
 * than f validators down, the committee split) check that the chain halts and resumes.
 */
final class FaultSchedule {
    private final ChaosOptions options;
    private final Random random;
    private final int f;
    private final NodeProcesses nodes;
    private final Links links;
    private final DiskFaults disks;
    private final RunLog log;
    private final Map<Fault, Integer> injected = Collections.synchronizedMap(new LinkedHashMap<>());
    private final List<Long> resumes = new CopyOnWriteArrayList<>();
    private int haltViolations;
    private int notResumed;

    FaultSchedule(ChaosOptions options, NodeProcesses nodes, Links links, DiskFaults disks, RunLog log) {
        this.options = options;
        this.random = new Random(
                new java.util.SplittableRandom(options.seed()).nextLong()); // small seeds: well-mixed schedules
        this.f = (options.validators() - 1) / 5;
        this.nodes = nodes;
        this.links = links;
        this.disks = disks;
        this.log = log;
    }

    int f() {
        return f;
    }

    Map<Fault, Integer> injected() {
        return new LinkedHashMap<>(injected);
    }

    List<Long> resumeMillis() {
        return List.copyOf(resumes);
    }

    int haltViolations() {
        return haltViolations;
    }

    int notResumed() {
        return notResumed;
    }

    /** Injects faults until {@code end} (a {@link System#nanoTime} value) or the first problem. */
    void run(long end) throws IOException, InterruptedException {
        List<Fault> kinds = new ArrayList<>(options.faults());
        if (!disks.canFill()) {
            kinds.remove(Fault.DISKFULL);
        }
        if (!disks.canMakeReadOnly()) {
            kinds.remove(Fault.READONLY);
        }
        List<Fault> cycle = new ArrayList<>();
        while (!kinds.isEmpty() && System.nanoTime() < end && !log.hasProblems()) {
            if (cycle.isEmpty()) {
                cycle.addAll(kinds);
                Collections.shuffle(cycle, random);
            }
            Fault fault = cycle.removeFirst();
            nodes.awaitSettled(end);
            if (System.nanoTime() >= end) {
                break;
            }
            inject(fault);
            injected.merge(fault, 1, Integer::sum);
            Thread.sleep(500 + random.nextInt(1500));
        }
    }

    /** Clears the links and resumes or restarts every validator. */
    void healAll() throws IOException, InterruptedException {
        links.set(LinkPolicy.CLEAR, "links clear");
        nodes.resumeAll();
    }

    private void inject(Fault fault) throws InterruptedException, IOException {
        switch (fault) {
            case KILL -> kill();
            case PAUSE -> pause();
            case ISOLATE -> isolate();
            case DELAY -> delay();
            case LOSS -> loss();
            case WIPE -> wipe();
            case READONLY -> disks.readOnly(pick(1).getFirst());
            case DISKFULL -> disks.diskFull();
            case BEYOND_F -> beyondF(fault);
            case SPLIT -> split(fault);
        }
    }

    private void kill() throws InterruptedException, IOException {
        List<ChaosNode> victims = pick(1 + random.nextInt(Math.max(1, f)));
        for (ChaosNode n : victims) {
            nodes.kill(n, "SIGKILL");
        }
        Thread.sleep(hold());
        for (ChaosNode n : victims) {
            nodes.launch(n, true);
        }
    }

    private void pause() throws InterruptedException, IOException {
        ChaosNode n = pick(1).getFirst();
        nodes.signal(n, "STOP");
        Thread.sleep(hold());
        nodes.signal(n, "CONT");
    }

    private void isolate() throws InterruptedException {
        ChaosNode n = pick(1).getFirst();
        int[] groups = new int[nodes.size()];
        groups[n.index] = 1;
        links.set(links.policy().partition(groups), "isolate " + n.name());
        Thread.sleep(hold());
        links.set(links.policy().healed(), "heal partition");
    }

    private void delay() throws InterruptedException {
        long ms = 50L + random.nextInt(350);
        links.set(links.policy().withDelay(ms), "delay every link by " + ms + " ms");
        Thread.sleep(hold());
        links.set(links.policy().withDelay(0), "delay off");
    }

    private void loss() throws InterruptedException {
        double p = 0.01 + random.nextInt(5) / 100.0;
        links.set(links.policy().withDrop(p), "drop connections with probability " + p + " per chunk");
        Thread.sleep(hold());
        links.set(links.policy().withDrop(0), "drops off");
    }

    private void wipe() throws InterruptedException, IOException {
        ChaosNode n = pick(1).getFirst();
        disks.wipe(n);
        Thread.sleep(1000 + random.nextInt(2000));
        nodes.launch(n, true);
    }

    private void beyondF(Fault fault) throws InterruptedException, IOException {
        List<ChaosNode> victims = pick(f + 1);
        for (ChaosNode n : victims) {
            nodes.kill(n, "SIGKILL (beyond f)");
        }
        long halted = expectHalt(fault.name());
        for (ChaosNode n : victims) {
            nodes.launch(n, true);
        }
        expectResume(halted);
    }

    private void split(Fault fault) throws InterruptedException {
        List<Integer> order =
                new ArrayList<>(nodes.all().stream().map(n -> n.index).toList());
        Collections.shuffle(order, random);
        int[] groups = new int[nodes.size()];
        for (int i = 0; i < order.size() / 2; i++) {
            groups[order.get(i)] = 1;
        }
        links.set(links.policy().partition(groups), "split the committee " + Arrays.toString(groups));
        long halted = expectHalt(fault.name());
        links.set(links.policy().healed(), "heal split");
        expectResume(halted);
    }

    /** A fault's duration: a few seconds, longer in longer runs. */
    private long hold() {
        long max = Math.clamp(options.duration().toMillis() / 25, 4000, 12000);
        return 2000 + (long) (random.nextDouble() * (max - 2000));
    }

    /** {@code count} distinct running validators, chosen at random. */
    private List<ChaosNode> pick(int count) {
        return nodes.pick(count, random);
    }

    private long expectHalt(String what) throws InterruptedException {
        Duration viewTimeout = options.viewTimeout();
        Thread.sleep(2 * viewTimeout.toMillis()); // a block already in flight may still finalize
        long before = nodes.networkHeight();
        Thread.sleep(Math.max(hold(), 4 * viewTimeout.toMillis()));
        long after = nodes.networkHeight();
        if (after > before + 1) {
            haltViolations++;
            log.problem(what + ": the chain advanced from " + before + " to " + after + " without a quorum");
        }
        log.log(what + ": chain held at " + before + (after != before ? " -> " + after : "") + " without a quorum");
        return after;
    }

    private void expectResume(long halted) throws InterruptedException {
        long t0 = System.nanoTime();
        long deadline = t0 + options.recoveryTimeout().toNanos();
        while (System.nanoTime() < deadline) {
            if (nodes.networkHeight() > halted + 1) {
                long ms = (System.nanoTime() - t0) / 1_000_000;
                resumes.add(ms);
                log.log("chain resumed " + ms + " ms after the quorum returned");
                return;
            }
            Thread.sleep(100);
        }
        notResumed++;
        log.problem("the chain did not resume within "
                + options.recoveryTimeout().toSeconds() + " s after a halt at " + halted);
    }
}
