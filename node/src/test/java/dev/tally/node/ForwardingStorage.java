package dev.tally.node;

import dev.tally.protocol.FinalBlock;
import dev.tally.protocol.Genesis;
import dev.tally.protocol.ReplicaState;
import dev.tally.storage.BlockRange;
import dev.tally.storage.Storage;
import dev.tally.storage.SyncGroup;
import java.util.List;
import java.util.Optional;
import java.util.SortedSet;

/** Storage that forwards every call to another: tests override the calls they make fail or slow. */
public class ForwardingStorage implements Storage {
    private final Storage inner;

    public ForwardingStorage(Storage inner) {
        this.inner = inner;
    }

    @Override
    public Genesis genesis() {
        return inner.genesis();
    }

    @Override
    public Optional<BlockRange> range() {
        return inner.range();
    }

    @Override
    public Optional<FinalBlock> block(long n) {
        return inner.block(n);
    }

    @Override
    public void append(FinalBlock b) {
        inner.append(b);
    }

    @Override
    public void appendAll(List<FinalBlock> bs) {
        inner.appendAll(bs);
    }

    @Override
    public SortedSet<Long> corruptBlocks() {
        return inner.corruptBlocks();
    }

    @Override
    public long corruptBlocksFound() {
        return inner.corruptBlocksFound();
    }

    @Override
    public void repair(FinalBlock b) {
        inner.repair(b);
    }

    @Override
    public void pruneBelow(long n) {
        inner.pruneBelow(n);
    }

    @Override
    public Optional<ReplicaState> replicaState() {
        return inner.replicaState();
    }

    @Override
    public void persistReplicaState(ReplicaState s) {
        inner.persistReplicaState(s);
    }

    @Override
    public SyncGroup syncGroup() {
        return inner.syncGroup();
    }

    @Override
    public void syncGroupNow() {
        inner.syncGroupNow();
    }

    @Override
    public long syncs() {
        return inner.syncs();
    }

    @Override
    public void close() {
        inner.close();
    }
}
