package dev.tally.storage;

import dev.tally.protocol.FinalBlock;
import java.util.List;
import java.util.Optional;

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
 *   <li>appends are durable when the call returns.</li>
 * </ul>
 * All methods are thread-safe; writes are serialized, reads never block on each other.
 */
public interface BlockStore {
    /** The numbers of the persisted final blocks, empty when there are none. */
    Optional<BlockRange> range();

    /** The final block {@code number}, empty when it is not stored (not yet final, or pruned). */
    Optional<FinalBlock> block(long number);

    /** Appends the next final block; durable (synced) on return. */
    void append(FinalBlock block);

    /** Appends consecutive final blocks as one synced batch, checking each as {@link #append} does: all or none. */
    void appendAll(List<FinalBlock> blocks);

    /** Deletes the blocks numbered below {@code number}; the last block is always kept. Durable on return. */
    void pruneBelow(long number);
}
