package dev.tally.node.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tally.node.Await;
import dev.tally.node.MetricSnapshots;
import dev.tally.node.executor.Node;
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
            Await.until(
                    "answers from the three peers",
                    Duration.ofSeconds(20),
                    () -> relayed(origin, "accepted") + relayed(origin, "duplicate") == 3);
            assertThat(relayed(origin, "accepted")).isPositive();
            assertThat(relayed(origin, "rejected")).isZero();
            assertThat(relayed(origin, "dropped")).isZero();
            assertThat(MetricSnapshots.value(origin.metrics(), "tally_network_gossip_transaction_pushes", null, null))
                    .as("one push per peer at most: one transaction each")
                    .isBetween(1.0, 3.0);
        }
    }

    private static double relayed(Node node, String outcome) {
        return MetricSnapshots.value(node.metrics(), "tally_network_gossip_transactions", "outcome", outcome);
    }
}
