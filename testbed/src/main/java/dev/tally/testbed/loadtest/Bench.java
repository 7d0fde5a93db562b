package dev.tally.testbed.loadtest;

import dev.tally.execution.TransactionPayload;
import dev.tally.node.metrics.NodeMetrics;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * One benchmark run against a started {@link Cluster}: senders push transactions (each carrying the run's tag, a
 * unique id and the time it fell due in the offered schedule) in batches by time, spread over the nodes, from the
 * first final block on; a reader follows node0's final blocks and matches their transactions. Figures count the
 * measurement window only: from {@code warmup} after the first block, for {@code duration}. Transactions sent in the
 * window are then followed until final, or for at most {@code drain}. With {@code minWindowBlocks}, the window
 * stretches (by at most {@code maxExtension}) until that many blocks were final in it: on a starved machine, the smoke
 * run still measures something.
 */
public final class Bench {
    /** Bytes of a transaction's header: tag (4), run (4), id (8), the time it fell due (8). */
    public static final int TX_HEADER = 24;

    private static final int TAG = 0x54414C59; // "TALY"
    // After a failed read of final blocks, before the next: the node may refuse at once (not serving yet, overloaded).
    private static final Duration RETRY_PAUSE = Duration.ofMillis(10);

    private final Cluster cluster;
    private final BenchPlan plan;
    private final PrintWriter progress;
    private final Runnable onHarnessThread;
    private final int run = ThreadLocalRandom.current().nextInt();

    private volatile long unloadedEnd = Long.MIN_VALUE;
    private volatile long windowStart = Long.MAX_VALUE;
    private volatile long windowEnd = Long.MAX_VALUE;
    private volatile boolean stopSending;
    /** When the senders' schedules start, each after its {@link SendSchedule#phase}: set before they start. */
    private long sendingFrom;

    private volatile boolean stopReading;
    private final AtomicReference<Throwable> failure = new AtomicReference<>();

    // Senders' counters (all sends, and those of the window).
    private final AtomicLong sent = new AtomicLong();
    private final AtomicLong windowSent = new AtomicLong();
    private final AtomicLong windowAccepted = new AtomicLong();
    private final AtomicLong windowDuplicate = new AtomicLong();
    private final AtomicLong windowRejected = new AtomicLong();
    private final AtomicReference<String> firstRejection = new AtomicReference<>();
    // Requests of the whole load (warm-up and window), by answer; and the transactions accepted over it.
    private final AtomicLong requestsAnswered = new AtomicLong();
    private final AtomicLong requestsOverloaded = new AtomicLong();
    private final AtomicLong requestsFailed = new AtomicLong();
    private final AtomicReference<String> firstFailure = new AtomicReference<>();
    private final AtomicLong acceptedTotal = new AtomicLong();

    // The reader's, published through the join of its thread.
    private final LatencyStats txLatency = new LatencyStats();
    private final LatencyStats txLatencyAtNode = new LatencyStats();
    private final LatencyStats proposalToFinal = new LatencyStats();
    /** Unix time in nanoseconds minus {@link System#nanoTime}: puts node0's wall-clock final times on our clock. */
    private final long unixMinusNanoTime = System.currentTimeMillis() * 1_000_000L - System.nanoTime();

    private final BitSet[] finalizedIds;
    private long windowBlocks;
    private long windowTxs;
    private long windowPayloadBytes;
    private long windowBlocksWithoutLatency;
    private long windowTxsFinalized; // sent in the window and final
    private long duplicateInclusions;
    private long foreignTxs;
    private long unloadedBlocks;
    private long finalizedTotal; // of this run's transactions, sent at any time
    private long polls;
    private long pollsFailed;
    private long slowestPollNanos;
    private String firstPollFailure;
    private volatile long blocksRead;
    private volatile long firstBlock = -1;

    Bench(Cluster cluster, BenchPlan plan, PrintWriter progress, Runnable onHarnessThread) {
        if (plan.txSize() < TX_HEADER) {
            throw new IllegalArgumentException(
                    "--tx-size must be at least " + TX_HEADER + " bytes (tag, id, due time)");
        }
        this.cluster = cluster;
        this.plan = plan;
        this.progress = progress;
        this.onHarnessThread = onHarnessThread;
        this.finalizedIds = new BitSet[plan.senders()];
        for (int i = 0; i < finalizedIds.length; i++) {
            finalizedIds[i] = new BitSet();
        }
    }

    /** Measured figures of one run; {@link Report} adds the settings and the machine. */
    public record Result(
            long blocks,
            double seconds,
            long txs,
            long payloadBytes,
            LatencyStats.Summary txLatency,
            LatencyStats.Summary txLatencyAtNode,
            LatencyStats.Summary proposalToFinal,
            long blocksWithoutLatency,
            long windowSent,
            long windowAccepted,
            long windowDuplicate,
            long windowRejected,
            String firstRejection,
            long windowTxsFinalized,
            long duplicateInclusions,
            long foreignTxs,
            long nodeCpuNanos,
            long compilerCpuNanos,
            long harnessCpuNanos,
            List<Long> peakMemory,
            double startSeconds,
            Requests requests,
            Monitoring monitoring,
            Unloaded unloaded,
            Drain drain) {}

    /**
     * The senders' requests over the whole load: answered (each transaction taken, or refused for what it is),
     * answered with some transaction refused as overloaded (HTTP 429), and failed: no answer in time, a cut connection,
     * or the request refused whole. An overloaded node must leave the last at 0. {@code transactions}: those they
     * carried.
     */
    public record Requests(long answered, long overloaded, long failed, String firstFailure, long transactions) {}

    /**
     * The reader's calls to node0 for final blocks: how many, how many failed (a slow one is a figure, not an end), and
     * the slowest, its wait for the next block included.
     */
    public record Monitoring(long polls, long failed, long slowestNanos, String firstFailure) {}

    /** The phase without load after the first block: its length and the blocks final in it. */
    public record Unloaded(double seconds, long blocks) {}

    /**
     * After the load: the transactions accepted over it, those of them final, and the seconds until the last of them
     * was (NaN if some were not within the plan's drain time).
     */
    public record Drain(long accepted, long finalized, double seconds) {}

    /** The network did not reach its first final block (a node exited, or the time ran out). */
    static final class StartException extends IOException {
        StartException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    Result run() throws IOException, InterruptedException {
        long t0 = System.nanoTime();
        long first;
        try {
            first = awaitFirstBlock();
        } catch (IOException e) {
            throw new StartException(e.getMessage(), e);
        }
        double startSeconds = (System.nanoTime() - t0) / 1e9;
        progress.printf(
                "bench: first block %d after %.1f s; %swarming up %.0f s, measuring %.0f s%n",
                first,
                startSeconds,
                plan.unloadedNanos() > 0 ? String.format("%.0f s without load, ", plan.unloadedNanos() / 1e9) : "",
                plan.warmupNanos() / 1e9,
                plan.durationNanos() / 1e9);
        progress.flush();
        firstBlock = first;
        unloadedEnd = System.nanoTime() + plan.unloadedNanos();
        Thread reader = Thread.ofPlatform().name("bench-reader").start(guard(true, () -> read(first + 1)));
        sleepUntil(unloadedEnd);
        check();
        windowStart = unloadedEnd + plan.warmupNanos();
        windowEnd = windowStart + plan.durationNanos();
        List<Thread> senders = startSenders();

        sleepUntil(windowStart);
        check();
        Cpu before = cpu();
        measureWindow();
        Cpu window = cpu().minus(before);
        stopSending = true;
        for (Thread t : senders) {
            t.join();
        }
        double drained = drain(reader);
        check();
        List<Long> memory = cluster.peakMemoryBytes();
        return new Result(
                windowBlocks,
                (windowEnd - windowStart) / 1e9,
                windowTxs,
                windowPayloadBytes,
                txLatency.summary(),
                txLatencyAtNode.summary(),
                proposalToFinal.summary(),
                windowBlocksWithoutLatency,
                windowSent.get(),
                windowAccepted.get(),
                windowDuplicate.get(),
                windowRejected.get(),
                firstRejection.get(),
                windowTxsFinalized,
                duplicateInclusions,
                foreignTxs,
                window.nodes(),
                window.compilers(),
                window.harness(),
                memory,
                startSeconds,
                new Requests(
                        requestsAnswered.get(),
                        requestsOverloaded.get(),
                        requestsFailed.get(),
                        firstFailure.get(),
                        sent.get()),
                new Monitoring(polls, pollsFailed, slowestPollNanos, firstPollFailure),
                new Unloaded(plan.unloadedNanos() / 1e9, unloadedBlocks),
                new Drain(acceptedTotal.get(), finalizedTotal, drained));
    }

    /** The senders, if the plan sends. */
    private List<Thread> startSenders() {
        List<Thread> threads = new ArrayList<>();
        boolean sending = plan.openLoop() || plan.rate() > 0;
        sendingFrom = System.nanoTime();
        for (int s = 0; sending && s < plan.senders(); s++) {
            int sender = s;
            threads.add(Thread.ofPlatform().name("bench-sender-" + s).start(guard(false, () -> send(sender))));
        }
        return threads;
    }

    /**
     * Waits out the measurement window, reporting progress every 5 s; a window short of the plan's minimum of blocks
     * is extended a second at a time, up to the plan's limit.
     */
    // Only this thread writes windowEnd; the volatile publishes each extension to the threads that read it.
    @SuppressWarnings("NonAtomicVolatileUpdate")
    private void measureWindow() throws IOException, InterruptedException {
        long report = windowStart;
        long latestEnd = windowEnd + plan.maxExtensionNanos();
        while (true) {
            if (System.nanoTime() >= windowEnd) {
                if (windowBlocksPublished >= plan.minWindowBlocks() || windowEnd >= latestEnd) {
                    break;
                }
                windowEnd += TimeUnit.SECONDS.toNanos(1);
            }
            report = Math.min(windowEnd, report + TimeUnit.SECONDS.toNanos(5));
            sleepUntil(report);
            check();
            progress.printf(
                    "bench: %3.0f s  block %d  sent %d%n",
                    (System.nanoTime() - windowStart) / 1e9, firstBlock + blocksRead, sent.get());
            progress.flush();
        }
    }

    /**
     * Until every transaction accepted over the load is final, or the drain time is up; then stops the reader. The
     * seconds it took, NaN if the time ran out first.
     */
    private double drain(Thread reader) throws InterruptedException {
        long drainStart = System.nanoTime();
        long drainEnd = drainStart + plan.drainNanos();
        double drained = Double.NaN;
        while (System.nanoTime() < drainEnd && reader.isAlive()) {
            if (finalizedPublished >= acceptedTotal.get()) {
                drained = (System.nanoTime() - drainStart) / 1e9;
                break;
            }
            Thread.sleep(20);
        }
        stopReading = true;
        reader.join();
        return drained;
    }

    private volatile long finalizedPublished;
    private volatile long windowBlocksPublished;

    private long awaitFirstBlock() throws IOException, InterruptedException {
        long deadline = System.nanoTime() + plan.startTimeoutNanos();
        String problem = null;
        while (System.nanoTime() < deadline) {
            cluster.checkAlive();
            try {
                long last = cluster.lastBlock();
                if (last >= 0) {
                    return last;
                }
                problem = "no final block yet";
            } catch (IOException e) {
                problem = e.getMessage() != null ? e.getMessage() : e.toString(); // not serving RPC yet
            }
            Thread.sleep(100);
        }
        throw new IOException(
                "no final block within " + plan.startTimeoutNanos() / 1_000_000_000L + " s (" + problem + ")");
    }

    private interface Task {
        void run() throws Exception;
    }

    /** A thread's body that records its failure; {@code harnessOnly}: its CPU is the harness's, not the nodes'. */
    private Runnable guard(boolean harnessOnly, Task task) {
        return () -> {
            if (harnessOnly) {
                onHarnessThread.run();
            }
            try {
                task.run();
            } catch (InterruptedException e) {
                // stopped
            } catch (Throwable e) {
                failure.compareAndSet(null, e);
            }
        };
    }

    private void check() throws IOException {
        cluster.checkAlive();
        Throwable t = failure.get();
        if (t != null) {
            throw new IOException("harness failed: " + t, t);
        }
    }

    /** CPU time so far: the nodes', of it their JIT compilers', and the harness's. */
    private record Cpu(long nodes, long compilers, long harness) {
        Cpu minus(Cpu earlier) {
            return new Cpu(nodes - earlier.nodes, compilers - earlier.compilers, harness - earlier.harness);
        }
    }

    private Cpu cpu() throws IOException {
        return new Cpu(cluster.cpuNanos(), cluster.compilerCpuNanos(), harnessCpu());
    }

    private long harnessCpu() {
        long ns = 0;
        var mx = java.lang.management.ManagementFactory.getThreadMXBean();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().startsWith("bench-")) {
                ns += Math.max(0, mx.getThreadCpuTime(t.threadId()));
            }
        }
        return ns;
    }

    private static void sleepUntil(long deadline) throws InterruptedException {
        long wait;
        while ((wait = deadline - System.nanoTime()) > 0) {
            TimeUnit.NANOSECONDS.sleep(Math.min(wait, TimeUnit.MILLISECONDS.toNanos(200)));
        }
    }

    /**
     * Sender {@code s}: its share of the rate (or as fast as the nodes answer, open loop), in batches by time (see
     * {@link SendSchedule}), to its nodes (s, s + senders, ...) in turn. A transaction carries the time it fell due
     * (open loop: the time its batch left), and belongs to the window by that time.
     */
    private void send(int s) throws IOException, InterruptedException {
        List<Integer> nodes = new ArrayList<>();
        for (int i = s; i < cluster.size(); i += plan.senders()) {
            nodes.add(i);
        }
        byte[] filler = new byte[plan.txSize() - TX_HEADER];
        ThreadLocalRandom.current().nextBytes(filler);
        double senderRate = (double) plan.rate() / plan.senders();
        SendSchedule schedule = plan.openLoop()
                ? null
                : new SendSchedule(
                        sendingFrom + SendSchedule.phase(s, plan.senders(), senderRate, plan.batchIntervalNanos()),
                        senderRate,
                        plan.batchIntervalNanos(),
                        plan.maxBatch());
        long seq = 0;
        int turn = 0;
        while (!stopSending) {
            long now = System.nanoTime();
            int count = plan.maxBatch();
            if (schedule != null) {
                SendSchedule.Batch next = schedule.next(seq, now, windowStart, windowEnd);
                if (next.size() == 0) {
                    LockSupport.parkNanos(Math.max(100_000, next.closesAt() - now));
                    continue;
                }
                count = next.size();
            }
            long[] stamps = new long[count];
            for (int i = 0; i < count; i++) {
                stamps[i] = schedule == null ? now : schedule.dueAt(seq + i);
            }
            List<byte[]> batch = transactions(s, seq, stamps, filler);
            seq += count;
            sent.addAndGet(count);
            // The whole batch is on one side of each edge of the window (SendSchedule).
            boolean inWindow = stamps[0] >= windowStart && stamps[0] < windowEnd;
            Cluster.Submitted r;
            try {
                r = cluster.submit(nodes.get(turn++ % nodes.size()), batch);
            } catch (IOException e) {
                // No answer (a timeout, a cut connection) or a refusal of the whole request: a figure of the run.
                requestsFailed.incrementAndGet();
                firstFailure.compareAndSet(null, e.toString());
                if (inWindow) {
                    windowSent.addAndGet(count);
                }
                Thread.sleep(10); // a node that refuses connections is not asked again at once
                continue;
            }
            count(r, count, inWindow);
        }
    }

    /** Sender {@code s}'s transactions from {@code seq} on, one per stamp: tag, run, id, stamp, filler. */
    private List<byte[]> transactions(int s, long seq, long[] stamps, byte[] filler) {
        List<byte[]> batch = new ArrayList<>(stamps.length);
        for (int i = 0; i < stamps.length; i++) {
            ByteBuffer tx = ByteBuffer.allocate(plan.txSize());
            tx.putInt(TAG)
                    .putInt(run)
                    .putLong(((long) s << 40) | (seq + i))
                    .putLong(stamps[i])
                    .put(filler);
            batch.add(tx.array());
        }
        return batch;
    }

    /** Counts the answer to a batch of {@code count} transactions. */
    private void count(Cluster.Submitted r, int count, boolean inWindow) throws InterruptedException {
        (r.overloaded() > 0 ? requestsOverloaded : requestsAnswered).incrementAndGet();
        acceptedTotal.addAndGet(r.accepted());
        if (inWindow) {
            windowSent.addAndGet(count);
            windowAccepted.addAndGet(r.accepted());
            windowDuplicate.addAndGet(r.duplicate());
            windowRejected.addAndGet(r.rejected());
        }
        if (r.firstRejection() != null) {
            firstRejection.compareAndSet(null, r.firstRejection());
            if (plan.openLoop()) {
                Thread.sleep(5); // the mempool is full: let blocks drain it
            }
        }
    }

    /** A call of the reader to node0. */
    private interface Poll<T> {
        T call() throws IOException, InterruptedException;
    }

    /** The call, counted and timed; a failed one is counted, remembered, and answered empty. */
    private <T> Optional<T> monitored(Poll<T> poll) throws InterruptedException {
        long start = System.nanoTime();
        polls++;
        try {
            return Optional.of(poll.call());
        } catch (IOException e) {
            pollsFailed++;
            if (firstPollFailure == null) {
                firstPollFailure = e.toString();
            }
            return Optional.empty();
        } finally {
            slowestPollNanos = Math.max(slowestPollNanos, System.nanoTime() - start);
        }
    }

    /**
     * Follows node0's final blocks from {@code next} until stopped, each read waiting for the next block (so that a
     * block is seen the moment node0 stores it, without polling). A call that fails (node0 too slow to answer in
     * time, under overload) is counted and made again: the run goes on. A failed read of several blocks is made again
     * for half as many (full blocks of a flood are megabytes each, and a chunk of them may not come through in the
     * call's time at all), and the chunk grows back after each read that succeeds.
     */
    private void read(long next) throws InterruptedException {
        int chunk = plan.readChunk();
        while (!stopReading) {
            long from = next;
            int max = chunk;
            Optional<List<Cluster.Block>> read =
                    monitored(() -> cluster.follow(from, max, Duration.ofNanos(plan.followWaitNanos())));
            if (read.isEmpty()) {
                chunk = Math.max(1, chunk / 2);
                Thread.sleep(RETRY_PAUSE);
                continue;
            }
            chunk = Math.min(plan.readChunk(), chunk * 2);
            List<Cluster.Block> blocks = read.get();
            long observed = System.nanoTime();
            for (Cluster.Block b : blocks) {
                absorb(b, observed);
            }
            next = from + blocks.size();
            blocksRead = next - 1 - firstBlock;
            finalizedPublished = finalizedTotal;
            windowBlocksPublished = windowBlocks;
        }
    }

    private void absorb(Cluster.Block b, long observed) {
        boolean inWindow = observed >= windowStart && observed < windowEnd;
        if (observed < unloadedEnd) {
            unloadedBlocks++;
        }
        List<byte[]> txs = TransactionPayload.decode(b.payload(), Integer.MAX_VALUE);
        if (inWindow) {
            windowBlocks++;
            windowTxs += txs.size();
            windowPayloadBytes += b.payload().size();
            OptionalLong p2f = b.finalization()
                    .map(NodeMetrics.Finalization::proposalToFinalMillis)
                    .orElse(OptionalLong.empty());
            if (p2f.isPresent()) {
                proposalToFinal.add(p2f.getAsLong() * 1_000_000);
            } else {
                windowBlocksWithoutLatency++;
            }
        }
        // When node0 finalized it, on our clock (to the millisecond): -1 when node0 did not say.
        long finalAt = b.finalization()
                .map(f -> f.finalAtUnixMillis() * 1_000_000L - unixMinusNanoTime)
                .orElse(-1L);
        for (byte[] tx : txs) {
            ByteBuffer in = ByteBuffer.wrap(tx);
            if (tx.length < TX_HEADER || in.getInt() != TAG || in.getInt() != run) {
                foreignTxs++;
                continue;
            }
            long id = in.getLong();
            long dueAt = in.getLong();
            int sender = (int) (id >>> 40);
            int seq = (int) (id & ((1L << 40) - 1));
            if (sender >= finalizedIds.length || finalizedIds[sender].get(seq)) {
                duplicateInclusions++;
                continue;
            }
            finalizedIds[sender].set(seq);
            finalizedTotal++;
            if (dueAt >= windowStart && dueAt < windowEnd) {
                txLatency.add(observed - dueAt);
                if (finalAt >= 0) {
                    txLatencyAtNode.add(Math.max(0, finalAt - dueAt));
                }
                windowTxsFinalized++;
            }
        }
    }
}
