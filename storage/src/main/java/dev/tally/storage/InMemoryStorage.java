package dev.tally.storage;

import dev.tally.protocol.Codec;
import dev.tally.protocol.FinalBlock;
import dev.tally.protocol.Genesis;
import dev.tally.protocol.ReplicaState;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
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
        if (bytes == null) {
            return Optional.empty();
        }
        try {
            return Optional.of(Codec.decodeFinalBlock(bytes));
        } catch (dev.tally.protocol.DecodeException e) {
            throw new StorageException("block " + number + " in " + WHERE + " cannot be decoded: " + e.getMessage(), e);
        }
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
