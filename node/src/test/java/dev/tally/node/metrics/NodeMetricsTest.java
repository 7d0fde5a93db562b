package dev.tally.node.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.groups.Tuple.tuple;

import dev.tally.consensus.Rejection;
import dev.tally.execution.TransactionResult;
import dev.tally.node.MetricSnapshots;
import dev.tally.protocol.FinalBlock;
import dev.tally.protocol.Genesis;
import dev.tally.protocol.Payload;
import dev.tally.protocol.ReplicaState;
import dev.tally.protocol.TestChain;
import dev.tally.storage.RocksStorage;
import dev.tally.storage.SyncGroup;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.InfoSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NodeMetricsTest {
    @Test
    void rejectionsAreCountedByKindAndReason() {
        NodeMetrics metrics = new NodeMetrics();
        String oldView = new Rejection.OldView(3, 5).reason();
        metrics.rejected("ReplicaCommit", oldView);
        metrics.rejected("ReplicaCommit", oldView);
        metrics.rejected("LeaderProposal", new Rejection.DuplicateProposal(5).reason());
        CounterSnapshot rejections = (CounterSnapshot) MetricSnapshots.named(metrics, "tally_consensus_rejections");
        assertThat(rejections.getDataPoints())
                .extracting(
                        CounterSnapshot.CounterDataPointSnapshot::getLabels,
                        CounterSnapshot.CounterDataPointSnapshot::getValue)
                .containsExactlyInAnyOrder(
                        tuple(Labels.of("kind", "ReplicaCommit", "reason", "old_view"), 2.0),
                        tuple(Labels.of("kind", "LeaderProposal", "reason", "duplicate_proposal"), 1.0));
    }

    @Test
    void transactionsAreCountedByResultAndRefusalKind() {
        NodeMetrics metrics = new NodeMetrics();
        metrics.transactionReceived(new TransactionResult.Accepted());
        metrics.transactionReceived(new TransactionResult.Accepted());
        metrics.transactionReceived(new TransactionResult.Duplicate());
        metrics.transactionReceived(
                new TransactionResult.Rejected(TransactionResult.Rejected.TOO_LARGE, "transaction of 9 bytes..."));
        metrics.transactionReceived(new TransactionResult.Rejected("an embedder's rule"));
        CounterSnapshot received = (CounterSnapshot) MetricSnapshots.named(metrics, "tally_transactions_received");
        assertThat(received.getDataPoints())
                .extracting(
                        CounterSnapshot.CounterDataPointSnapshot::getLabels,
                        CounterSnapshot.CounterDataPointSnapshot::getValue)
                .containsExactlyInAnyOrder(
                        tuple(Labels.of("reason", "", "result", "accepted"), 2.0),
                        tuple(Labels.of("reason", "", "result", "duplicate"), 1.0),
                        tuple(Labels.of("reason", "too_large", "result", "rejected"), 1.0),
                        tuple(Labels.of("reason", "other", "result", "rejected"), 1.0));
    }

    @Test
    void writeAheadLogSyncsOfARealStoreAreCountedOncePerGroup(@TempDir Path dir) {
        Genesis genesis = new TestChain(4).genesis;
        try (RocksStorage storage = RocksStorage.open(dir, genesis)) {
            NodeMetrics metrics = new NodeMetrics();
            metrics.watchSyncs(storage);
            ReplicaState state = ReplicaState.initial(0);
            storage.persistReplicaState(state);
            SyncGroup group = storage.syncGroup();
            try {
                storage.persistReplicaState(state);
                storage.persistReplicaState(state);
            } finally {
                group.close();
            }
            CounterSnapshot syncs = (CounterSnapshot) MetricSnapshots.named(metrics, "tally_storage_syncs");
            assertThat(syncs.getDataPoints().getFirst().getValue())
                    .as("one sync for the write alone, one for the group of two")
                    .isEqualTo(2.0);
        }
    }

    @Test
    void buildInfoCarriesTheProjectVersion() {
        InfoSnapshot info = (InfoSnapshot) MetricSnapshots.named(new NodeMetrics(), "tally_build");
        assertThat(info.getDataPoints()).hasSize(1);
        // Maven filled in the version (build.properties is a filtered resource), not a placeholder.
        assertThat(info.getDataPoints().getFirst().getLabels().get("version")).matches("\\d+\\.\\d+\\.\\d+.*");
        String text = new String(scrapeText(new NodeMetrics()), java.nio.charset.StandardCharsets.UTF_8);
        assertThat(text).containsPattern("(?m)^tally_build_info\\{version=\"\\d+\\.\\d+\\.\\d+[^\"]*\"\\} 1(\\.0)?$");
    }

    @Test
    void aFinalizedBlockKeepsWhenItBecameFinalAndHowLongAfterItWasSeen() throws Exception {
        TestChain chain = new TestChain(4);
        Payload payload = TestChain.payload("p");
        FinalBlock seen = new FinalBlock(payload, chain.commitQc(1, 1, payload));
        FinalBlock synced = new FinalBlock(payload, chain.commitQc(2, 2, payload));
        NodeMetrics metrics = new NodeMetrics();

        long before = System.currentTimeMillis();
        metrics.blockSeen(1);
        Thread.sleep(20);
        metrics.finalized(seen);
        metrics.finalized(synced);
        long after = System.currentTimeMillis();

        NodeMetrics.Finalization f = metrics.finalization(1).orElseThrow();
        assertThat(f.finalAtUnixMillis()).isBetween(before, after);
        assertThat(f.proposalToFinalMillis().orElseThrow()).isGreaterThanOrEqualTo(20);
        // Final here without this replica having seen its proposal: when, but not how long after.
        assertThat(metrics.finalization(2).orElseThrow().proposalToFinalMillis())
                .isEmpty();
        assertThat(metrics.finalization(3)).isEmpty();
    }

    static byte[] scrapeText(NodeMetrics metrics) {
        var out = new java.io.ByteArrayOutputStream();
        try {
            PrometheusTextFormatWriter.create().write(out, metrics.registry().scrape());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return out.toByteArray();
    }
}
