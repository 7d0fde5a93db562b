package dev.tally.network;

import dev.tally.protocol.CommitQC;
import java.util.Optional;

/**
 * The range of final blocks a node stores: from {@code first} to the block certified by {@code lastQc}, or none
 * yet if it is absent. Advertised to gossip peers; the QC proves the last block is final.
 */
public record BlockStoreState(long first, Optional<CommitQC> lastQc) {
    public BlockStoreState {
        if (first < 0) {
            throw new IllegalArgumentException("first block " + first + " is negative");
        }
        if (lastQc.isPresent() && lastQc.get().header().number() < first) {
            throw new IllegalArgumentException(
                    "last block " + lastQc.get().header().number() + " is below the first " + first);
        }
    }

    public static BlockStoreState empty(long first) {
        return new BlockStoreState(first, Optional.empty());
    }

    /** The last block stored, or {@code first - 1} when none is. */
    public long last() {
        return lastQc.map(qc -> qc.header().number()).orElse(first - 1);
    }

    public boolean contains(long number) {
        return number >= first && number <= last();
    }

    @Override
    public String toString() {
        return "blocks [" + first + ", " + last() + "]";
    }
}
