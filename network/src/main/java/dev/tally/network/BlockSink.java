package dev.tally.network;

import dev.tally.protocol.FinalBlock;
import java.util.Collections;
import java.util.SortedSet;

/** Where block sync hands the final blocks it fetched (the node adapts its block store). Thread-safe. */
public interface BlockSink {
    /**
     * Queues a block for storage. Called from one thread, in order: each block is the successor of the last one
     * queued or stored (a block the store already has is never offered). The block has been verified against its
     * commit QC and the committee. May block while the store is behind: that is block sync's back-pressure.
     */
    void queueBlock(FinalBlock block) throws InterruptedException;

    /**
     * The last block number queued or stored (storage's "queued" frontier), {@code first - 1} when empty. Block
     * sync fetches from the block after it; consensus finalizing blocks moves it too.
     */
    long lastQueued();

    /**
     * Stored blocks whose copy here was found corrupt, in order: block sync fetches them from peers (verified as
     * any fetched block) and hands them to {@link #repair}. None by default.
     */
    default SortedSet<Long> damaged() {
        return Collections.emptySortedSet();
    }

    /** Replaces the corrupt stored copy of a block with {@code block}, verified against its commit QC and committee. */
    default void repair(FinalBlock block) {
        throw new UnsupportedOperationException("this block store repairs nothing");
    }
}
