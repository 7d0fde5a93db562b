package dev.tally.node.executor;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tally.execution.MempoolExecutionLayer;
import dev.tally.execution.TransactionPayload;
import dev.tally.node.ForwardingStorage;
import dev.tally.node.MetricSnapshots;
import dev.tally.node.metrics.NodeMetrics;
import dev.tally.protocol.FinalBlock;
import dev.tally.protocol.Payload;
import dev.tally.protocol.TestChain;
import dev.tally.storage.InMemoryStorage;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** What the pipeline tells gossip and the RPC about the newest block, and what that costs the store. */
class BlockPipelineTest {
    static final TestChain CHAIN = new TestChain(4);

    /** Counts block reads, and reports the blocks a test marks as damaged. */
    static final class CountingStorage extends ForwardingStorage {
        final AtomicInteger reads = new AtomicInteger();
        final SortedSet<Long> damaged = new TreeSet<>();

        CountingStorage() {
            super(InMemoryStorage.create(CHAIN.genesis));
        }

        @Override
        public Optional<FinalBlock> block(long n) {
            reads.incrementAndGet();
            return damaged.contains(n) ? Optional.empty() : super.block(n);
        }

        @Override
        public SortedSet<Long> corruptBlocks() {
            return damaged;
        }
    }

    final CountingStorage storage = new CountingStorage();
    final NodeMetrics metrics = new NodeMetrics();
    final BlockPipeline pipeline = new BlockPipeline(
            new MempoolExecutionLayer(storage, CHAIN.genesis, 1024, List.of()), storage, metrics, e -> {});

    static FinalBlock block(long n) {
        Payload p = TransactionPayload.encode(List.of(("block " + n).getBytes(StandardCharsets.UTF_8)));
        return new FinalBlock(p, CHAIN.commitQc(n, n, p));
    }

    @Test
    void theNewestBlockIsAdvertisedWithoutReadingTheStoreAgain() {
        pipeline.queueBlock(block(0));
        pipeline.queueBlock(block(1));
        int before = storage.reads.get();

        for (int i = 0; i < 10; i++) {
            assertThat(pipeline.state().lastQc()).contains(block(1).justification());
            assertThat(pipeline.newest()).contains(block(1));
        }

        // A read checks the block's integrity, hashing its whole payload: gossip asks several times a second.
        assertThat(storage.reads.get()).isEqualTo(before);
    }

    @Test
    void aDamagedNewestBlockIsNotAdvertised() {
        pipeline.queueBlock(block(0));
        pipeline.queueBlock(block(1));
        storage.damaged.add(1L);

        assertThat(pipeline.state().lastQc()).isEmpty();
        assertThat(pipeline.newest()).isEmpty();
    }

    @Test
    void aBlockAheadOfAGapGoesToBlockSyncUnstored() {
        List<FinalBlock> held = new java.util.ArrayList<>();
        pipeline.holdBlocksAheadOfGapIn(held::add);
        pipeline.queueBlock(block(0));

        pipeline.queueBlock(block(2));
        pipeline.queueBlock(block(1));
        pipeline.queueBlock(block(1));

        assertThat(held).containsExactly(block(2));
        assertThat(pipeline.lastQueued()).isEqualTo(1);
        assertThat(pipeline.persisted().last()).isEqualTo(1);
        assertThat(gapsClosed()).as("the gap is open until block 2 is stored").isZero();

        pipeline.queueBlock(block(2)); // block sync hands it back after the gap

        assertThat(gapsClosed()).isEqualTo(1);
    }

    private long gapsClosed() {
        return ((HistogramSnapshot) MetricSnapshots.named(metrics, "tally_storage_gap_seconds"))
                .getDataPoints().stream()
                        .mapToLong(HistogramSnapshot.HistogramDataPointSnapshot::getCount)
                        .sum();
    }

    @Test
    void afterARestartTheNewestBlockIsReadOnce() {
        storage.append(block(0));
        BlockPipeline restarted = new BlockPipeline(
                new MempoolExecutionLayer(storage, CHAIN.genesis, 1024, List.of()),
                storage,
                new NodeMetrics(),
                e -> {});
        int before = storage.reads.get();

        assertThat(restarted.state().lastQc()).contains(block(0).justification());
        assertThat(restarted.newest()).contains(block(0));

        assertThat(storage.reads.get()).isEqualTo(before + 1);
    }
}
