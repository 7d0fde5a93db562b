package dev.tally.testbed.loadtest;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tally.execution.TransactionPayload;
import dev.tally.node.metrics.NodeMetrics;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

/**
 * The harness against a made-up network that answers some requests late or not at all, as an overloaded node does:
 * the run goes on and reports them, instead of stopping at the first one.
 */
class BenchTest {
    /**
     * One node: every third submission times out, every fifth is refused as overloaded; every fourth read of final
     * blocks times out; a read that has them all waits a millisecond, in which the network finalizes what was accepted
     * in a new block, after {@code blocksPerPoll - 1} empty ones. A read of more than {@code maxBlocksPerRead} blocks
     * at once times out, as a chunk of a flood's megabyte blocks does, or, if {@code answersPart}, gives the first
     * {@code maxBlocksPerRead} only, as a node whose limit on an answer they filled.
     */
    static final class Flaky implements Cluster {
        private final int blocksPerPoll;
        private final int maxBlocksPerRead;
        private final boolean answersPart;
        private final List<List<byte[]>> blocks = new ArrayList<>();
        /** When each block became final, in Unix milliseconds. */
        private final List<Long> finalAt = new ArrayList<>();
        /** How long a read of blocks takes to answer. */
        private long readMillis;

        private final List<byte[]> pending = new ArrayList<>();
        private int submissions;
        private int polls;
        private long firstPollNanos = -1;
        private long firstSubmissionNanos = -1;

        Flaky(int blocksPerPoll, int maxBlocksPerRead) {
            this(blocksPerPoll, maxBlocksPerRead, false);
        }

        Flaky(int blocksPerPoll, int maxBlocksPerRead, boolean answersPart) {
            this.blocksPerPoll = blocksPerPoll;
            this.maxBlocksPerRead = maxBlocksPerRead;
            this.answersPart = answersPart;
        }

        @Override
        public int size() {
            return 1;
        }

        @Override
        public synchronized Submitted submit(int node, List<byte[]> txs) throws IOException {
            if (firstSubmissionNanos < 0) {
                firstSubmissionNanos = System.nanoTime();
            }
            submissions++;
            if (submissions % 3 == 0) {
                throw new HttpTimeoutException("request timed out");
            }
            if (submissions % 5 == 0) {
                return new Submitted(0, 0, txs.size(), txs.size(), "mempool full; retry later");
            }
            pending.addAll(txs);
            return new Submitted(txs.size(), 0, 0, 0, null);
        }

        @Override
        public synchronized long lastBlock() {
            if (firstPollNanos < 0) {
                firstPollNanos = System.nanoTime();
            }
            if (blocks.isEmpty()) {
                addBlocks();
            }
            return blocks.size() - 1L;
        }

        @Override
        public synchronized List<Block> follow(long from, int max, Duration wait) throws IOException {
            if (firstPollNanos < 0) {
                firstPollNanos = System.nanoTime();
            }
            polls++;
            if (polls % 4 == 0) {
                throw new HttpTimeoutException("request timed out");
            }
            try {
                if (from >= blocks.size()) {
                    // The reader has them all: the made-up network finalizes what it accepted a millisecond later.
                    Thread.sleep(1);
                    addBlocks();
                }
                long to = Math.min(blocks.size() - 1L, from + max - 1);
                if (to - from + 1 > maxBlocksPerRead) {
                    if (!answersPart) {
                        throw new HttpTimeoutException("request timed out");
                    }
                    to = from + maxBlocksPerRead - 1;
                }
                List<Block> out = new ArrayList<>();
                for (long n = from; n <= to; n++) {
                    out.add(new Block(
                            n,
                            TransactionPayload.encode(blocks.get((int) n)),
                            Optional.of(new NodeMetrics.Finalization(finalAt.get((int) n), OptionalLong.of(1)))));
                }
                Thread.sleep(readMillis);
                return out;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted", e);
            }
        }

        /** {@code blocksPerPoll - 1} empty blocks, then one with what was accepted. */
        private void addBlocks() {
            for (int i = 1; i < blocksPerPoll; i++) {
                blocks.add(List.of());
                finalAt.add(System.currentTimeMillis());
            }
            blocks.add(List.copyOf(pending));
            finalAt.add(System.currentTimeMillis());
            pending.clear();
        }

        @Override
        public long cpuNanos() {
            return System.nanoTime();
        }

        @Override
        public long compilerCpuNanos() {
            return 0;
        }

        @Override
        public List<Long> peakMemoryBytes() {
            return List.of(1L);
        }

        @Override
        public String memoryMeasure() {
            return "none";
        }

        @Override
        public void checkAlive() {}

        @Override
        public void close() {}
    }

    private static Bench.Result run(Flaky cluster) throws Exception {
        return run(cluster, plan().build());
    }

    private static BenchPlan.Builder plan() {
        return BenchPlan.builder()
                .txSize(64)
                .rate(2_000)
                .unloaded(Duration.ofSeconds(1))
                .duration(Duration.ofSeconds(2))
                .drain(Duration.ofSeconds(30))
                .startTimeout(Duration.ofSeconds(30))
                .senders(1)
                .maxBatch(50)
                .followWait(Duration.ofMillis(100))
                .readChunk(8);
    }

    private static Bench.Result run(Flaky cluster, BenchPlan plan) throws Exception {
        return new Bench(cluster, plan, new PrintWriter(new StringWriter()), () -> {}).run();
    }

    @Test
    void finalityCountsFromTheTimeATransactionFellDueItsWaitInTheClientIncluded() throws Exception {
        // 2,000 tx/s held in batches for 200 ms: a transaction waits 100 ms in the client on average, and the made-up
        // network finalizes what it accepted at the next 1 ms poll.
        Bench.Result r = run(
                new Flaky(1, Integer.MAX_VALUE),
                plan().maxBatch(10_000).batchInterval(Duration.ofMillis(200)).build());

        assertThat(r.txLatency().count()).isPositive();
        assertThat(r.txLatency().p50())
                .as("the median wait in the client, in ms")
                .isGreaterThan(50);
        Bench.Requests q = r.requests();
        assertThat(q.transactions())
                .as("about 400 transactions a request")
                .isGreaterThan(100 * (q.answered() + q.overloaded() + q.failed()));
    }

    @Test
    void finalityAtNode0CountsToWhenNode0FinalizedTheBlockNotToWhenTheHarnessReadIt() throws Exception {
        Flaky slowReads = new Flaky(1, Integer.MAX_VALUE);
        slowReads.readMillis = 40;
        Bench.Result r = run(slowReads, plan().build());

        assertThat(r.txLatencyAtNode().count()).isEqualTo(r.txLatency().count());
        assertThat(r.txLatency().p50() - r.txLatencyAtNode().p50())
                .as("the harness's 40 ms read, in ms")
                .isGreaterThan(30);
    }

    @Test
    void requestsAndPollsWithoutAnswerAreCountedAndTheRunGoesOn() throws Exception {
        Flaky cluster = new Flaky(1, Integer.MAX_VALUE);
        Bench.Result r = run(cluster);

        assertThat(r.requests().failed()).isPositive();
        assertThat(r.requests().firstFailure()).contains("request timed out");
        assertThat(r.requests().overloaded()).isPositive();
        assertThat(r.requests().answered()).isPositive();
        assertThat(r.monitoring().failed()).isPositive();
        assertThat(r.monitoring().firstFailure()).contains("request timed out");
        assertThat(r.monitoring().polls()).isGreaterThan(r.monitoring().failed());

        assertThat(r.unloaded().blocks()).as("blocks final before the load").isPositive();
        assertThat(Duration.ofNanos(cluster.firstSubmissionNanos - cluster.firstPollNanos))
                .as("no transaction is sent in the phase without load")
                .isGreaterThanOrEqualTo(Duration.ofSeconds(1));
        assertThat(r.drain().accepted()).isPositive();
        assertThat(r.drain().finalized()).isEqualTo(r.drain().accepted());
        assertThat(r.drain().seconds()).isFinite();
        assertThat(r.blocks()).isPositive();
    }

    @Test
    void aChunkOfBlocksTooLargeToReadInTimeIsReadInSmallerChunks() throws Exception {
        // Every poll shows 3 new blocks; reads of more than 2 at once never come through.
        Bench.Result r = run(new Flaky(3, 2));

        assertThat(r.monitoring().failed()).isPositive();
        assertThat(r.drain().accepted()).isPositive();
        assertThat(r.drain().finalized())
                .as("every accepted transaction read as final")
                .isEqualTo(r.drain().accepted());
        assertThat(r.drain().seconds()).isFinite();
    }

    @Test
    void blocksANodeLeftOutOfItsAnswerAreReadNext() throws Exception {
        // Every poll shows 3 new blocks; a read of more than 2 gives the first 2.
        Bench.Result r = run(new Flaky(3, 2, true));

        assertThat(r.drain().accepted()).isPositive();
        assertThat(r.drain().finalized())
                .as("every accepted transaction read as final")
                .isEqualTo(r.drain().accepted());
    }
}
