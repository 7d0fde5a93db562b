package dev.tally.node.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tally.node.Await;
import dev.tally.node.executor.Node;
import dev.tally.storage.InMemoryStorage;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Issue 5, done-when 1 and 3: consensus over real sockets, and a full node syncing from genesis. */
class ConsensusOverNetworkTest {
    static final Duration VIEW_TIMEOUT = Duration.ofMillis(400);

    /** Done-when 1: six validators finalize blocks over the real network and agree on every one. */
    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void sixValidatorsFinalizeAndAgreeOnEveryBlock() throws Exception {
        try (Cluster c = new Cluster(6, VIEW_TIMEOUT)) {
            c.startAllInMemory();
            for (int i = 0; i < 20; i++) {
                c.validators[i % 6].submitTransaction(("tx " + i).getBytes(StandardCharsets.UTF_8));
            }
            c.awaitAll(30, Duration.ofSeconds(40));
            List<Node> all = c.running();
            Cluster.assertAgree(all, c.chain.genesis.firstBlock(), 30);
            for (Node n : all) {
                // Every validator took part: it holds consensus connections to the five others, both ways (awaited:
                // on a loaded machine one may be in the middle of a reconnect).
                var mesh = n.network().consensus().orElseThrow();
                Await.until(
                        "a full consensus mesh at " + n.config(),
                        Duration.ofSeconds(10),
                        () -> mesh.links().sendingTo().size() == 5
                                && mesh.links().receivingFrom().size() == 5);
                assertThat(n.replicaStatus().orElseThrow().view()).isGreaterThanOrEqualTo(30);
            }
            // The transactions were included somewhere in blocks that everyone agrees on.
            long txBytes = 0;
            for (long b = 0; b <= 30; b++) {
                txBytes += all.getFirst()
                        .execution()
                        .block(b)
                        .orElseThrow()
                        .payload()
                        .size();
            }
            assertThat(txBytes).isPositive();
        }
    }

    /** Done-when 3: a full node (no validator key) syncs from genesis, then keeps up. */
    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void fullNodeSyncsFromGenesis() throws Exception {
        try (Cluster c = new Cluster(6, VIEW_TIMEOUT)) {
            c.startAllInMemory();
            c.awaitAll(40, Duration.ofSeconds(40));
            Node full = c.startOther(c.fullNodeConfig(0, 3), InMemoryStorage.create(c.chain.genesis));
            assertThat(full.replicaStatus()).isEmpty();
            assertThat(full.network().consensus()).isEmpty();
            long target = c.maxLast() + 5;
            Await.until(
                    "full node reaches block " + target,
                    Duration.ofSeconds(30),
                    () -> full.storedBlocks().last() >= target);
            assertThat(full.storedBlocks().first()).isEqualTo(c.chain.genesis.firstBlock());
            // Everything it has came through block sync: it has no replica to finalize anything.
            assertThat(full.network().gossip().blocksFetched())
                    .isGreaterThanOrEqualTo(target - c.chain.genesis.firstBlock() + 1);
            c.awaitAll(target, Duration.ofSeconds(10));
            List<Node> compare = new ArrayList<>(c.running());
            compare.add(full);
            Cluster.assertAgree(compare, c.chain.genesis.firstBlock(), target);
        }
    }
}
