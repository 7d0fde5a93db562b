package dev.tally.storage;

import dev.tally.protocol.Genesis;

/**
 * Everything a node persists for one chain: its final blocks and its replica safety state. Two implementations:
 * {@link RocksStorage} (durable, for nodes) and {@link InMemoryStorage} (same rules, for tests and simulation).
 */
public interface Storage extends BlockStore, ReplicaStateStore, AutoCloseable {
    /** The genesis this storage belongs to; blocks of another chain are refused. */
    Genesis genesis();

    /** Releases the storage; later calls fail with {@link StorageException}. Idempotent. */
    @Override
    void close();
}
