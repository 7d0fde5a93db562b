package dev.tally.storage;

import dev.tally.protocol.Codec;
import dev.tally.protocol.FinalBlock;
import dev.tally.protocol.Genesis;
import dev.tally.protocol.ReplicaState;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.SortedSet;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * A {@link Storage} in memory, for tests and the simulator: the same rules as {@link RocksStorage} (order,
 * structure, idempotence, conflicts, pruning), nothing survives the process. Blocks are kept in canonical
 * encoding so that re-appends compare exactly as on disk. Thread-safe: writes are serialized, reads are lock-free.
 */
public final class InMemoryStorage implements Storage {
    private static final String WHERE = "in-memory storage";

    private final Genesis genesis;
    private final ConcurrentSkipListMap<Long, byte[]> blocks = new ConcurrentSkipListMap<>();
    private final Object writeLock = new Object();
    private final BlockIntegrity integrity = new BlockIntegrity(WHERE);
    private volatile BlockRange range;
    private volatile ReplicaState replicaState;
    private volatile boolean closed;

    private InMemoryStorage(Genesis genesis) {
        this.genesis = Objects.requireNonNull(genesis, "genesis");
    }

    /** An empty storage for the chain of {@code genesis}. */
    public static InMemoryStorage create(Genesis genesis) {
        return new InMemoryStorage(genesis);
    }

    @Override
    public Genesis genesis() {
        return genesis;
    }

    @Override
    public Optional<BlockRange> range() {
        checkOpen();
        return Optional.ofNullable(range);
    }

    @Override
    public Optional<FinalBlock> block(long number) {
        checkOpen();
        byte[] bytes = blocks.get(number);
        if (bytes == null || integrity.isCorrupt(number)) {
            return Optional.empty();
        }
        try {
            return Optional.of(BlockIntegrity.check(number, bytes, genesis.hash()));
        } catch (BlockIntegrity.CorruptRecordException e) {
            integrity.reportCorrupt(number, "the record " + e.getMessage(), "memory");
            return Optional.empty();
        }
    }

    @Override
    public SortedSet<Long> corruptBlocks() {
        return integrity.corrupt();
    }

    @Override
    public long corruptBlocksFound() {
        return integrity.found();
    }

    @Override
    public void repair(FinalBlock block) {
        synchronized (writeLock) {
            checkOpen();
            BlockRules.checkStructure(genesis, block, WHERE);
            if (!integrity.isCorrupt(block.number())) {
                BlockRules.checkIntactCopy(genesis, range, block, blocks::get, WHERE);
                return;
            }
            blocks.put(block.number(), Codec.encode(block));
            integrity.repaired(block.number());
        }
    }

    /** Replaces the stored bytes of block {@code number}, as a damaged disk would: for tests of the integrity checks. */
    void damage(long number, byte[] bytes) {
        blocks.put(number, bytes.clone());
    }

    @Override
    public void append(FinalBlock block) {
        appendAll(List.of(block));
    }

    @Override
    public void appendAll(List<FinalBlock> toAppend) {
        synchronized (writeLock) {
            checkOpen();
            BlockRules.Plan plan = BlockRules.plan(genesis, range, toAppend, blocks::get, WHERE);
            for (BlockRules.Write w : plan.writes()) {
                blocks.put(w.number(), w.encoded());
            }
            range = plan.range();
        }
    }

    @Override
    public void pruneBelow(long number) {
        synchronized (writeLock) {
            checkOpen();
            BlockRange r = range;
            if (r == null || number <= r.first()) {
                return;
            }
            long newFirst = Math.min(number, r.last());
            range = new BlockRange(newFirst, r.last());
            blocks.headMap(newFirst).clear();
            integrity.forgetBelow(newFirst);
        }
    }

    @Override
    public Optional<ReplicaState> replicaState() {
        checkOpen();
        return Optional.ofNullable(replicaState);
    }

    @Override
    public void persistReplicaState(ReplicaState state) {
        Objects.requireNonNull(state, "state");
        synchronized (writeLock) {
            checkOpen();
            replicaState = state;
        }
    }

    @Override
    public void close() {
        closed = true;
    }

    private void checkOpen() {
        if (closed) {
            throw new StorageException(WHERE + " is closed");
        }
    }

    @Override
    public String toString() {
        return "InMemoryStorage(" + genesis.hash() + ", " + (range == null ? "no blocks" : range) + ")";
    }
}
