package dev.tally.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tally.protocol.Genesis;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
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

    /**
     * What sync groups rely on: a crash that loses the log's unsynced tail keeps a prefix of the group's writes. The
     * tail is cut, as a power loss would leave it, inside the state's record and inside the block's record of a
     * group's log (RocksDB does not flush its memtables at close while the log holds them).
     */
    @Test
    void aLostTailOfTheLogKeepsAPrefixOfTheGroupsWrites() throws Exception {
        RocksStorage s = (RocksStorage) create(CHAIN.genesis);
        long first = CHAIN.genesis.firstBlock();
        s.persistReplicaState(Blocks.state(CHAIN, first));
        Path log = newestLog(s.directory());
        long beforeGroup = Files.size(log);
        SyncGroup group = s.syncGroup();
        try {
            s.append(Blocks.block(CHAIN, first));
            s.persistReplicaState(Blocks.state(CHAIN, first + 1));
        } finally {
            group.close();
        }
        long afterState = Files.size(log);
        Path dir = s.directory();
        s.close();

        RocksStorage intact = (RocksStorage) track(RocksStorage.open(copy(dir, "intact", -1), CHAIN.genesis));
        assertThat(intact.range().orElseThrow().last()).isEqualTo(first);
        assertThat(intact.replicaState().orElseThrow().view()).isEqualTo(first + 1);

        RocksStorage cutInState =
                (RocksStorage) track(RocksStorage.open(copy(dir, "cut-in-state", afterState - 8), CHAIN.genesis));
        assertThat(cutInState.range().orElseThrow().last())
                .as("the block, written first, is kept")
                .isEqualTo(first);
        assertThat(cutInState.replicaState().orElseThrow().view())
                .as("the state before")
                .isEqualTo(first);

        RocksStorage cutInBlock =
                (RocksStorage) track(RocksStorage.open(copy(dir, "cut-in-block", beforeGroup + 8), CHAIN.genesis));
        assertThat(cutInBlock.range()).as("neither write of the group").isEmpty();
        assertThat(cutInBlock.replicaState().orElseThrow().view()).isEqualTo(first);
    }

    private static Path newestLog(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(f -> f.getFileName().toString().matches("\\d+\\.log"))
                    .max(Comparator.comparing(Path::toString))
                    .orElseThrow(() -> new AssertionError("no write-ahead log in " + dir));
        }
    }

    /** A copy of the database in {@code dir}, its newest log cut to {@code logBytes} (negative: whole). */
    private Path copy(Path dir, String name, long logBytes) throws IOException {
        Path to = tmp.resolve(name);
        Files.createDirectories(to);
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.toList()) {
                Files.copy(f, to.resolve(f.getFileName()));
            }
        }
        if (logBytes >= 0) {
            try (FileChannel ch =
                    FileChannel.open(to.resolve(newestLog(dir).getFileName()), StandardOpenOption.WRITE)) {
                ch.truncate(logBytes);
            }
        }
        return to;
    }
}
