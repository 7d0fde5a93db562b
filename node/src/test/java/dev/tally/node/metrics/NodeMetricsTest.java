package dev.tally.node.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.groups.Tuple.tuple;

import dev.tally.consensus.Rejection;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import org.junit.jupiter.api.Test;

class NodeMetricsTest {
    @Test
    void rejectionsAreCountedByKindAndReason() {
        NodeMetrics metrics = new NodeMetrics();
        String oldView = new Rejection.OldView(3, 5).reason();
        metrics.rejected("ReplicaCommit", oldView);
        metrics.rejected("ReplicaCommit", oldView);
        metrics.rejected("LeaderProposal", new Rejection.DuplicateProposal(5).reason());
        CounterSnapshot rejections = (CounterSnapshot) metrics.registry().scrape().stream()
                .filter(s -> s.getMetadata().getPrometheusName().equals("tally_consensus_rejections"))
                .findFirst()
                .orElseThrow();
        assertThat(rejections.getDataPoints())
                .extracting(
                        CounterSnapshot.CounterDataPointSnapshot::getLabels,
                        CounterSnapshot.CounterDataPointSnapshot::getValue)
                .containsExactlyInAnyOrder(
                        tuple(Labels.of("kind", "ReplicaCommit", "reason", "old_view"), 2.0),
                        tuple(Labels.of("kind", "LeaderProposal", "reason", "duplicate_proposal"), 1.0));
    }
}
