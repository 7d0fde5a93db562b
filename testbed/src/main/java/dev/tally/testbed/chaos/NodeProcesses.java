package dev.tally.testbed.chaos;

import dev.tally.testbed.chaos.ChaosNode.Status;
import dev.tally.testbed.localnet.Localnet;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The validators' processes: starting, killing, pausing and resuming them, and what the run knows of their heights.
 * The proxies tell connections apart by the process ids kept here.
 */
final class NodeProcesses {
    private final List<ChaosNode> nodes = new ArrayList<>();
    private final Map<Long, Integer> pids;
    private final RunLog log;
    private int restarts;

    /** {@code pids} gets process id → node index of every running node, for the proxies. */
    NodeProcesses(List<Localnet.Member> members, Map<Long, Integer> pids, RunLog log) {
        this.pids = pids;
        for (int i = 0; i < members.size(); i++) {
            nodes.add(new ChaosNode(i, members.get(i)));
        }
        this.log = log;
    }

    List<ChaosNode> all() {
        return Collections.unmodifiableList(nodes);
    }

    ChaosNode get(int index) {
        return nodes.get(index);
    }

    int size() {
        return nodes.size();
    }

    int restarts() {
        return restarts;
    }

    void launch(ChaosNode n, boolean restart) throws IOException {
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
            log.log("restart " + n.name() + " (pid " + p.pid() + ")");
        }
    }

    void kill(ChaosNode n, String why) throws InterruptedException {
        Process p;
        synchronized (n) {
            p = n.process;
            n.status = Status.DOWN;
            n.generation++;
        }
        log.log(why + " " + n.name());
        if (p != null) {
            p.destroyForcibly();
            p.waitFor(30, TimeUnit.SECONDS);
            pids.remove(p.pid());
        }
    }

    /** Sends SIGSTOP or SIGCONT ({@code signal} "STOP" or "CONT"). */
    void signal(ChaosNode n, String signal) throws InterruptedException, IOException {
        Process p;
        synchronized (n) {
            p = n.process;
            n.status = signal.equals("STOP") ? Status.PAUSED : Status.UP;
            n.generation++;
        }
        log.log("SIG" + signal + " " + n.name());
        Commands.run("kill", "-" + signal, Long.toString(p.pid()));
    }

    /** Resumes paused validators and restarts stopped ones. */
    void resumeAll() throws IOException, InterruptedException {
        for (ChaosNode n : nodes) {
            Status s = n.status();
            if (s == Status.PAUSED) {
                signal(n, "CONT");
            } else if (s == Status.DOWN) {
                launch(n, true);
            }
        }
    }

    /** {@code count} distinct running validators, chosen at random. */
    List<ChaosNode> pick(int count, Random random) {
        List<ChaosNode> up = new ArrayList<>(
                nodes.stream().filter(n -> n.status() == Status.UP).toList());
        Collections.shuffle(up, random);
        return up.subList(0, Math.min(count, up.size()));
    }

    long networkHeight() {
        long h = -1;
        for (ChaosNode n : nodes) {
            synchronized (n) {
                h = Math.max(h, n.height);
            }
        }
        return h;
    }

    Map<String, Long> heights() {
        Map<String, Long> m = new LinkedHashMap<>();
        for (ChaosNode n : nodes) {
            synchronized (n) {
                m.put(n.name(), n.height);
            }
        }
        return m;
    }

    /** Waits until every node reports (and, if {@code checked}, has been checked up to) {@code height}. */
    boolean awaitAll(long height, Duration timeout, boolean checked) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            boolean all = true;
            for (ChaosNode n : nodes) {
                synchronized (n) {
                    all &= n.status == Status.UP && n.height >= height && (!checked || n.checkedUpTo >= height);
                }
            }
            if (all) {
                return true;
            }
            Thread.sleep(200);
        }
        return false;
    }

    /** Whether every node's RPC answers now (its JVM is up), whether or not it has blocks yet. */
    boolean allAnswer() throws InterruptedException {
        for (ChaosNode n : nodes) {
            try {
                n.rpc.call("last_committed_block");
            } catch (IOException e) {
                return false;
            }
        }
        return true;
    }

    /**
     * The validators that should be running but whose process exited: each with its exit status and the last lines
     * of its log, where a node says why it stopped.
     */
    List<String> exited() {
        List<String> dead = new ArrayList<>();
        for (ChaosNode n : nodes) {
            Process p;
            synchronized (n) {
                p = n.status == Status.UP ? n.process : null;
            }
            if (p != null && !p.isAlive()) {
                dead.add(n.name() + " exited with status " + p.exitValue() + " (" + n.member.logFile() + " ends: "
                        + String.join(" | ", lastLines(n.member.logFile(), 3)) + ")");
            }
        }
        return dead;
    }

    private static List<String> lastLines(Path file, int count) {
        try (Stream<String> lines = Files.lines(file)) {
            List<String> all = lines.filter(l -> !l.isBlank()).toList();
            return all.subList(Math.max(0, all.size() - count), all.size());
        } catch (IOException | UncheckedIOException e) {
            return List.of("unreadable: " + e.getMessage());
        }
    }

    /**
     * Waits (until {@code end} at most) for restarted validators to catch up, so that faults meant to stay within f
     * do: a validator still re-syncing counts as down.
     */
    void awaitSettled(long end) throws InterruptedException {
        while (System.nanoTime() < end) {
            boolean settled = true;
            for (ChaosNode n : nodes) {
                synchronized (n) {
                    settled &= n.status == Status.UP && n.restartedAt == 0;
                }
            }
            if (settled) {
                return;
            }
            Thread.sleep(200);
        }
    }

    /** Stops every node, resuming paused ones first so that they can shut down. */
    void stopAll() {
        for (ChaosNode n : nodes) {
            Process p;
            synchronized (n) {
                p = n.process;
                n.status = Status.DOWN;
            }
            if (p != null && p.isAlive()) {
                try {
                    Commands.run("kill", "-CONT", Long.toString(p.pid()));
                } catch (IOException | InterruptedException e) {
                    // SIGKILL below still works on a stopped process
                }
                p.destroy();
            }
        }
        for (ChaosNode n : nodes) {
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
    }
}
