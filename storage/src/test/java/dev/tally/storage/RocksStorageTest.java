package dev.tally.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tally.protocol.Genesis;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rocksdb.RocksDBException;

class RocksStorageTest extends StorageContractTest {
    @TempDir
    Path tmp;

    private final AtomicInteger dirs = new AtomicInteger();

    @Override
    protected Storage create(Genesis genesis) {
        return track(RocksStorage.open(tmp.resolve("db" + dirs.incrementAndGet()), genesis));
    }

    @Override
    protected Storage reopen(Storage storage) {
        RocksStorage rocks = (RocksStorage) storage;
        rocks.close();
        return track(RocksStorage.open(rocks.directory(), rocks.genesis()));
    }

    @Override
    protected Storage damage(Storage storage, long number, byte[] bytes) {
        RocksStorage rocks = (RocksStorage) storage;
        rocks.close();
        try (RawRocks raw = new RawRocks(rocks.directory())) {
            raw.put(RocksStorage.BLOCKS_CF, RocksStorage.blockKey(number), bytes);
        } catch (RocksDBException e) {
            throw new AssertionError(e);
        }
        return track(RocksStorage.open(rocks.directory(), rocks.genesis()));
    }

    @Test
    void aSyncGroupMakesItsBlockAndStateDurableWithOneSyncWhenItCloses() {
        RocksStorage s = (RocksStorage) create(CHAIN.genesis);
        long first = CHAIN.genesis.firstBlock();
        long before = s.syncs();
        SyncGroup group = s.syncGroup();
        try {
            s.append(Blocks.block(CHAIN, first));
            s.persistReplicaState(Blocks.state(CHAIN, first + 1));
            assertThat(s.syncs()).as("nothing synced inside the group").isEqualTo(before);
            assertThat(s.range().orElseThrow().last()).as("but visible").isEqualTo(first);
            assertThat(s.replicaState().orElseThrow().view()).isEqualTo(first + 1);
        } finally {
            group.close();
        }
        assertThat(s.syncs()).as("one sync for both").isEqualTo(before + 1);
        s.append(Blocks.block(CHAIN, first + 1));
        s.persistReplicaState(Blocks.state(CHAIN, first + 2));
        assertThat(s.syncs()).as("outside a group, one per write").isEqualTo(before + 3);
        RocksStorage again = (RocksStorage) reopen(s);
        assertThat(again.range().orElseThrow().last()).isEqualTo(first + 1);
        assertThat(again.replicaState().orElseThrow().view()).isEqualTo(first + 2);
    }

    @Test
    void aSyncGroupCoversOnlyItsOwnThreadAndDoesNotNest() throws Exception {
        RocksStorage s = (RocksStorage) create(CHAIN.genesis);
        long first = CHAIN.genesis.firstBlock();
        long before = s.syncs();
        SyncGroup group = s.syncGroup();
        try {
            assertThat(s.syncGroup()).isSameAs(SyncGroup.NONE);
            Thread other = Thread.ofVirtual().start(() -> s.append(Blocks.block(CHAIN, first)));
            other.join();
            assertThat(s.syncs())
                    .as("another thread's append is synced on return")
                    .isEqualTo(before + 1);
            s.persistReplicaState(Blocks.state(CHAIN, first));
            s.syncGroupNow();
            assertThat(s.syncs()).isEqualTo(before + 2);
        } finally {
            group.close();
        }
        assertThat(s.syncs()).as("nothing left to sync at close").isEqualTo(before + 2);
        s.syncGroupNow();
        s.persistReplicaState(Blocks.state(CHAIN, first + 1));
        assertThat(s.syncs()).as("the group ended with its close").isEqualTo(before + 3);
    }

    @Test
    void aSyncGroupThatCannotSyncSaysSo() {
        RocksStorage s = (RocksStorage) create(CHAIN.genesis);
        SyncGroup group = s.syncGroup();
        s.persistReplicaState(Blocks.state(CHAIN, 1));
        s.close();
        assertThatThrownBy(group::close).isInstanceOf(StorageException.class).hasMessageContaining("closed");
        SyncGroup next = s.syncGroup();
        next.close();
        assertThat(next).as("the failed close still ended the group").isNotSameAs(SyncGroup.NONE);
    }
}
