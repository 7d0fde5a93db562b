package dev.tally.storage;

/**
 * Writes of one thread that become durable together, with one sync when the group closes instead of one per write
 * (see {@link Storage#syncGroup}).
 */
@FunctionalInterface
public interface SyncGroup extends AutoCloseable {
    /** A group with nothing to sync: every write in it was durable on return already. */
    SyncGroup NONE = () -> {};

    /** Makes the group's writes durable, and ends it. */
    @Override
    void close();
}
