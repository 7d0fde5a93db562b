package dev.tally.node.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tally.execution.Application;
import dev.tally.execution.AppliedState;
import dev.tally.execution.TransactionPayload;
import dev.tally.node.Await;
import dev.tally.node.embed.TallyNode;
import dev.tally.node.executor.Node;
import dev.tally.node.executor.NodeFailedException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Issue 18: an application that cannot apply a block which reaches its node through block sync (a full node, which
 * finalizes nothing itself) stops that node with an error naming the block, and applies nothing after it, while the
 * validators go on.
 */
class ApplyFailureThroughBlockSyncTest {
    static final byte[] POISON = "poison".getBytes(StandardCharsets.UTF_8);

    /** Applies blocks in order, remembering their numbers; cannot apply a block that carries {@link #POISON}. */
    static final class Fragile implements Application {
        final List<Long> applied = new CopyOnWriteArrayList<>();
        volatile Optional<AppliedState> last = Optional.empty();

        @Override
        public Optional<AppliedState> lastApplied() {
            return last;
        }

        @Override
        public byte[] applyBlock(long blockNumber, List<byte[]> txs) {
            if (txs.stream().anyMatch(tx -> Arrays.equals(tx, POISON))) {
                throw new IllegalStateException("cannot apply the poison");
            }
            applied.add(blockNumber);
            byte[] root = {(byte) blockNumber};
            last = Optional.of(new AppliedState(blockNumber, root));
            return root;
        }
    }

    @Test
    @Timeout(value = 90, unit = TimeUnit.SECONDS)
    void aFullNodeStopsAtTheSyncedBlockItCannotApplyAndAppliesNothingAfterIt() throws Exception {
        try (Cluster c = new Cluster(4, Duration.ofMillis(400))) {
            c.startAllInMemory();
            c.awaitAll(3, Duration.ofSeconds(30));
            Fragile app = new Fragile();
            try (TallyNode full = TallyNode.builder(c.fullNodeConfig(0, 1))
                    .application(app)
                    .servers(false)
                    .start()) {
                assertThat(full.node().replicaStatus())
                        .as("a full node: no replica")
                        .isEmpty();
                Await.until(
                        "the full node applies synced blocks", Duration.ofSeconds(30), () -> app.applied.size() >= 3);

                c.validators[0].submitTransaction(POISON);
                long poisoned = awaitBlockWith(c.validators[0], POISON);
                assertThatThrownBy(full::awaitTermination)
                        .isInstanceOf(NodeFailedException.class)
                        .hasMessageContaining("the application failed to apply block " + poisoned + ": ")
                        .hasMessageContaining("cannot apply the poison");
                // Every block before it, in order, each once; none from it on.
                long first = c.chain.genesis.firstBlock();
                assertThat(app.applied).isEqualTo(range(first, poisoned - 1));
                assertThat(full.node().network().gossip().blocksFetched()).isGreaterThanOrEqualTo(poisoned - first);

                // The validators go on; the stopped node applies nothing more.
                c.awaitAll(poisoned + 3, Duration.ofSeconds(30));
                assertThat(app.applied).isEqualTo(range(first, poisoned - 1));
            }
        }
    }

    /** The number of the first final block on {@code node} that carries {@code tx}, once there is one. */
    private static long awaitBlockWith(Node node, byte[] tx) throws InterruptedException {
        long[] found = {-1};
        Await.until("a final block with the transaction", Duration.ofSeconds(30), () -> {
            for (long b = node.storedBlocks().first(); b <= node.storedBlocks().last(); b++) {
                var block = node.execution().block(b);
                if (block.isPresent()
                        && TransactionPayload.decode(block.get().payload(), Integer.MAX_VALUE).stream()
                                .anyMatch(t -> Arrays.equals(t, tx))) {
                    found[0] = b;
                    return true;
                }
            }
            return false;
        });
        return found[0];
    }

    private static List<Long> range(long from, long to) {
        return java.util.stream.LongStream.rangeClosed(from, to).boxed().toList();
    }
}
