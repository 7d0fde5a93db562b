package dev.tally.storage;

import dev.tally.protocol.FinalBlock;
import java.util.List;
import java.util.Optional;
import java.util.SortedSet;

/**
 * The final blocks of one chain, contiguous by number, in canonical {@link dev.tally.protocol.Codec} form.
 *
 * <p>Rules every implementation enforces:
 * <ul>
 *   <li>blocks are appended in order: the first block is the genesis' {@code firstBlock()}, then {@code last + 1};
 *       anything else is refused with a {@link StorageException} naming the expected and the given number (gap);</li>
 *   <li>a block whose payload hash does not match its commit QC's header, or whose QC names another genesis, is
 *       refused (a structural check only: callers verify the QC's signatures against the epoch's committee);</li>
 *   <li>re-appending a block identical to one already stored is a no-op, a different block at a stored number is
 *       refused (conflict);</li>
 *   <li>appends are durable when the call returns (in a {@link Storage#syncGroup}: when the group closes).</li>
 * </ul>
 * All methods are thread-safe; writes are serialized, reads never block on each other.
 */
public interface BlockStore {
    /** The numbers of the persisted final blocks, empty when there are none. */
    Optional<BlockRange> range();

    /**
     * The final block {@code number}, empty when it is not stored (not yet final, or pruned) or when its stored copy
     * is corrupt: every read is checked, and a block that fails is reported (logged, and in {@link #corruptBlocks})
     * and answered as absent, so that no one is served damaged bytes.
     */
    Optional<FinalBlock> block(long number);

    /** The blocks that reads found corrupt and that are not repaired yet, in order. */
    SortedSet<Long> corruptBlocks();

    /** How many distinct corrupt blocks reads found since the store was opened (repaired ones included). */
    long corruptBlocksFound();

    /**
     * Replaces the stored copy of a block found corrupt with {@code block}, which the caller verified against its
     * commit QC and the committee; durable on return. A block whose stored copy is readable is never replaced: an
     * identical copy is a no-op, a different one is refused as a conflict.
     */
    void repair(FinalBlock block);

    /** Appends the next final block; durable (synced) on return, or in a {@link Storage#syncGroup} when it closes. */
    void append(FinalBlock block);

    /** Appends consecutive final blocks as one synced batch, checking each as {@link #append} does: all or none. */
    void appendAll(List<FinalBlock> blocks);

    /** Deletes the blocks numbered below {@code number}; the last block is always kept. Durable on return. */
    void pruneBelow(long number);
}
