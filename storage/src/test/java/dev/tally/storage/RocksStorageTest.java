package dev.tally.storage;

import dev.tally.protocol.Genesis;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
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
}
