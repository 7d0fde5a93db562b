package dev.tally.storage;

import dev.tally.protocol.Genesis;

/**
 * Everything a node persists for one chain: its final blocks and its replica safety state. Two implementations:
 * {@link RocksStorage} (durable, for nodes) and {@link InMemoryStorage} (same rules, for tests and simulation).
 */
public interface Storage extends BlockStore, ReplicaStateStore, AutoCloseable {
    /** The genesis this storage belongs to; blocks of another chain are refused. */
    Genesis genesis();

    /**
     * Starts a group of this thread's writes that become durable together when it {@linkplain SyncGroup#close
     * closes}, with one sync instead of one per write. Until then they are visible to reads, and a crash keeps a
     * prefix of them: every write up to some point, in the order they were made, as a crash between writes synced one
     * by one would. So a caller that lets nothing depend on the writes leave the node before the group closes (a vote,
     * a new-view message) faces no outcome of a crash it did not face before. Groups do not nest: inside one, this
     * returns {@link SyncGroup#NONE}. Other threads' writes stay durable on return. Without a write-ahead log to share
     * (in memory), every write is durable on return and the group does nothing.
     */
    default SyncGroup syncGroup() {
        return SyncGroup.NONE;
    }

    /** Makes the writes of this thread's open group durable now, without ending it; nothing when none is open. */
    default void syncGroupNow() {}

    /**
     * Syncs of the write-ahead log (each an fsync) that the block and replica state writes made since the storage was
     * opened: one per write, or one per {@linkplain #syncGroup group}. Without a log (in memory), 0.
     */
    default long syncs() {
        return 0;
    }

    /** Releases the storage; later calls fail with {@link StorageException}. Idempotent. */
    @Override
    void close();
}
