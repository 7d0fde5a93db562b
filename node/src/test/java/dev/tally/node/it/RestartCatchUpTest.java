package dev.tally.node.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tally.node.Await;
import dev.tally.node.executor.Node;
import dev.tally.node.executor.StoredRange;
import dev.tally.storage.InMemoryStorage;
import dev.tally.storage.RocksStorage;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Issue 5, done-when 2: a validator stopped for 200 blocks restarts from its RocksDB and catches up by block sync. */
class RestartCatchUpTest {
    static final int MISSED = 200;
    static final int LATE = 5; // the validator that stops

    @TempDir
    Path dir;

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void validatorStoppedFor200BlocksCatchesUpThroughBlockSync() throws Exception {
        try (Cluster c = new Cluster(6, Duration.ofMillis(300))) {
            for (int i = 0; i < c.size(); i++) {
                c.startValidator(
                        i,
                        i == LATE ? RocksStorage.open(dir, c.chain.genesis) : InMemoryStorage.create(c.chain.genesis));
            }
            c.awaitAll(5, Duration.ofSeconds(20));
            c.stopValidator(LATE);
            // What it had stored when it stopped (a block in flight may land just before the stop).
            StoredRange before;
            try (RocksStorage peek = RocksStorage.open(dir, c.chain.genesis)) {
                before = peek.range()
                        .map(r -> new StoredRange(r.first(), r.last()))
                        .orElseThrow();
            }
            long t0 = System.nanoTime();
            // Five of six validators are a quorum (n - f): they go on without it.
            c.awaitAll(before.last() + MISSED, Duration.ofSeconds(42));
            double rate = (c.minLast() - before.last()) / ((System.nanoTime() - t0) / 1e9);

            Node late = c.startValidator(LATE, RocksStorage.open(dir, c.chain.genesis));
            assertThat(late.storedBlocks()).as("resumed from its RocksDB").isEqualTo(before);
            long target = c.maxLast();
            long s0 = System.nanoTime();
            Await.until(
                    "restarted validator reaches block " + target,
                    Duration.ofSeconds(10),
                    () -> late.storedBlocks().last() >= target);
            double syncSecs = (System.nanoTime() - s0) / 1e9;
            System.out.printf(
                    "%d blocks finalized by 5 of 6 at %.1f blocks/s; %d missed blocks caught up in %.2f s%n",
                    c.minLast() - before.last(), rate, target - before.last(), syncSecs);

            // Every missed block came through block sync (fetched and verified), none through its replica: a block
            // its replica finalizes beyond the next one to store is dropped, and its replica cannot finalize blocks
            // that are already final elsewhere.
            assertThat(late.network().gossip().blocksFetched()).isGreaterThanOrEqualTo(target - before.last());
            assertThat(late.storedBlocks().first()).isEqualTo(before.first());
            c.awaitAll(target, Duration.ofSeconds(10));
            Cluster.assertAgree(c.running(), before.first(), target);

            // Back in the committee: it keeps up with the others and the six go on finalizing.
            long next = c.maxLast() + 10;
            c.awaitAll(next, Duration.ofSeconds(15));
        }
    }
}
