package dev.tally.storage;

import dev.tally.protocol.Codec;
import dev.tally.protocol.FinalBlock;
import dev.tally.protocol.Genesis;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.LongFunction;

/** The append rules shared by every {@link BlockStore}: order, structure, idempotence, conflicts. */
final class BlockRules {
    private BlockRules() {}

    /** A block that passed the checks, with its canonical encoding. */
    record Write(long number, FinalBlock block, byte[] encoded) {}

    /** What an append changes: the blocks to write (possibly none) and the range afterwards. */
    record Plan(List<Write> writes, BlockRange range) {}

    /**
     * Checks {@code blocks}, in order, against a store holding {@code current} (null when empty).
     *
     * @param stored the canonical encoding of a stored block by number, or null when absent
     * @param where  names the store in messages (its path)
     */
    static Plan plan(
            Genesis genesis, BlockRange current, List<FinalBlock> blocks, LongFunction<byte[]> stored, String where) {
        Objects.requireNonNull(blocks, "blocks");
        List<Write> writes = new ArrayList<>();
        Map<Long, byte[]> planned = new HashMap<>();
        BlockRange range = current;
        for (FinalBlock block : blocks) {
            Objects.requireNonNull(block, "block");
            checkStructure(genesis, block, where);
            long n = block.number();
            byte[] encoded = Codec.encode(block);
            long expected = range == null ? genesis.firstBlock() : range.last() + 1;
            if (n == expected) {
                writes.add(new Write(n, block, encoded));
                planned.put(n, encoded);
                range = new BlockRange(range == null ? n : range.first(), n);
            } else if (range != null && range.contains(n)) {
                byte[] existing = planned.containsKey(n) ? planned.get(n) : stored.apply(n);
                if (existing == null || !Arrays.equals(existing, encoded)) {
                    throw new StorageException("conflicting block " + n + " refused by " + where
                            + ": a different block " + n + " is already stored");
                }
                // Identical re-append: nothing to do.
            } else if (range != null && n < range.first()) {
                throw new StorageException("block " + n + " refused by " + where + ": blocks below " + range.first()
                        + " were pruned, it cannot be checked against the stored one");
            } else {
                throw new StorageException("block " + n + " refused by " + where + ": expected block " + expected
                        + (range == null ? " (the genesis' first block; the store is empty)" : " after " + range)
                        + ", got " + n + (n > expected ? " (gap)" : ""));
            }
        }
        return new Plan(List.copyOf(writes), range);
    }

    /**
     * A "repair" of a block whose stored copy is not known corrupt: only an identical copy of a stored block passes
     * (and changes nothing); anything else is refused, as a readable stored block never changes.
     */
    static void checkIntactCopy(
            Genesis genesis, BlockRange current, FinalBlock block, LongFunction<byte[]> stored, String where) {
        if (current == null || !current.contains(block.number())) {
            throw new StorageException("block " + block.number() + " cannot be repaired in " + where
                    + ": it is not stored there (" + (current == null ? "no blocks" : current) + ")");
        }
        plan(genesis, current, List.of(block), stored, where);
    }

    /** The checks that need no committee: the payload is the one the QC certifies, on this chain. */
    static void checkStructure(Genesis genesis, FinalBlock block, String where) {
        String problem = BlockIntegrity.structureProblem(block, genesis.hash());
        if (problem != null) {
            throw new StorageException("block " + block.number() + " refused by " + where + ": " + problem);
        }
    }
}
