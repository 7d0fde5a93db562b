package dev.tally.network;

import dev.tally.protocol.FinalBlock;
import java.util.Optional;

/** Where the network reads final blocks to serve to peers (the node adapts its block store). Thread-safe. */
public interface BlockSource {
    /** The persisted range, with the last block's commit QC. */
    BlockStoreState state();

    /** The final block with this number, if stored. */
    Optional<FinalBlock> block(long number);
}
