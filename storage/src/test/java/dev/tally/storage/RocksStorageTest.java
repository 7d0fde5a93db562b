package dev.tally.storage;

import dev.tally.protocol.Genesis;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.io.TempDir;

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
}
