package dev.tally.storage;

import dev.tally.protocol.Genesis;

class InMemoryStorageTest extends StorageContractTest {
    @Override
    protected Storage create(Genesis genesis) {
        return track(InMemoryStorage.create(genesis));
    }

    @Override
    protected Storage reopen(Storage storage) {
        return storage; // nothing to restart: the same process memory
    }

    @Override
    protected Storage damage(Storage storage, long number, byte[] bytes) {
        ((InMemoryStorage) storage).damage(number, bytes);
        return storage;
    }
}
