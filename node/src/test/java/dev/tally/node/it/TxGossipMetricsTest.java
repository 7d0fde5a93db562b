package dev.tally.node.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tally.node.executor.Node;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * An operator sees transaction gossip: how many transactions a node relayed to its peers, by their answer, and in how
 * many pushes (the mean batch, which sets the per-transaction cost of gossip under load).
 */
class TxGossipMetricsTest {
    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void aClientsTransactionIsCountedOncePerPeerItWasRelayedTo() throws Exception {
        try (Cluster c = new Cluster(4, Duration.ofMillis(400))) {
            c.startAllInMemory();
            c.awaitAll(1, Duration.ofSeconds(30));
            Node origin = c.validators[0];

            origin.submitTransaction("relayed".getBytes(StandardCharsets.UTF_8));

            // A client's transaction goes to every peer, each of which answers it (a peer that already got it from
            // another one answers duplicate).
            Cluster.await(
                    "answers from the three peers",
                    Duration.ofSeconds(20),
                    () -> relayed(origin, "accepted") + relayed(origin, "duplicate") == 3);
            assertThat(relayed(origin, "accepted")).isPositive();
            assertThat(relayed(origin, "rejected")).isZero();
            assertThat(relayed(origin, "dropped")).isZero();
            assertThat(counter(origin, "tally_network_gossip_transaction_pushes", null))
                    .as("one push per peer at most: one transaction each")
                    .isBetween(1.0, 3.0);
        }
    }

    private static double relayed(Node node, String outcome) {
        return counter(node, "tally_network_gossip_transactions", outcome);
    }

    /** The counter's value, of the data point whose {@code outcome} label is given (any, if null). */
    private static double counter(Node node, String name, String outcome) {
        for (MetricSnapshot s : node.metrics().registry().scrape()) {
            if (s.getMetadata().getPrometheusName().equals(name)) {
                return ((CounterSnapshot) s)
                        .getDataPoints().stream()
                                .filter(p -> outcome == null
                                        || outcome.equals(p.getLabels().get("outcome")))
                                .findFirst()
                                .orElseThrow(() -> new AssertionError(name + " has no outcome " + outcome))
                                .getValue();
            }
        }
        throw new AssertionError("no metric " + name);
    }
}
