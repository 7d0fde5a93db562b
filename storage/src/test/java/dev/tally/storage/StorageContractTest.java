package dev.tally.storage;

import static dev.tally.storage.Blocks.block;
import static dev.tally.storage.Blocks.blocks;
import static dev.tally.storage.Blocks.bytes;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tally.protocol.FinalBlock;
import dev.tally.protocol.Genesis;
import dev.tally.protocol.ReplicaState;
import dev.tally.protocol.TestChain;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The rules every {@link Storage} follows; run against each implementation by a subclass. */
abstract class StorageContractTest {
    static final TestChain CHAIN = new TestChain(4);

    private final List<Storage> opened = new ArrayList<>();

    /** A new, empty storage for {@code genesis}. */
    protected abstract Storage create(Genesis genesis);

    /** The same storage after a restart (closed and opened again where that means anything). */
    protected abstract Storage reopen(Storage storage);

    /** {@code storage} with the stored bytes of block {@code number} replaced, as a damaged disk would (reopened). */
    protected abstract Storage damage(Storage storage, long number, byte[] bytes);

    protected final Storage track(Storage s) {
        opened.add(s);
        return s;
    }

    private Storage fresh() {
        return create(CHAIN.genesis);
    }

    @AfterEach
    void closeAll() {
        opened.forEach(Storage::close);
    }

    private static void assertSameBlock(Optional<FinalBlock> actual, FinalBlock expected) {
        assertThat(actual).isPresent();
        assertThat(bytes(actual.get())).isEqualTo(bytes(expected));
    }

    @Test
    void emptyStorageHasNothing() {
        Storage s = fresh();
        assertThat(s.genesis()).isEqualTo(CHAIN.genesis);
        assertThat(s.range()).isEmpty();
        assertThat(s.block(0)).isEmpty();
        assertThat(s.replicaState()).isEmpty();
    }

    @Test
    void appendsInOrder() {
        Storage s = fresh();
        for (FinalBlock b : blocks(CHAIN, 0, 3)) {
            s.append(b);
            assertThat(s.range()).contains(new BlockRange(0, b.number()));
        }
        for (long n = 0; n <= 3; n++) {
            assertSameBlock(s.block(n), block(CHAIN, n));
        }
        assertThat(s.block(4)).isEmpty();
        assertThat(s.block(-1)).isEmpty();
    }

    @Test
    void firstBlockMustBeTheGenesisFirstBlock() {
        TestChain late = new TestChain(1, 100);
        Storage s = create(late.genesis);
        assertThatThrownBy(() -> s.append(block(late, 101)))
                .isInstanceOf(StorageException.class)
                .hasMessageContaining("expected block 100")
                .hasMessageContaining("got 101");
        assertThatThrownBy(() -> s.append(block(late, 99)))
                .isInstanceOf(StorageException.class)
                .hasMessageContaining("expected block 100")
                .hasMessageContaining("got 99");
        assertThat(s.range()).isEmpty();
        s.append(block(late, 100));
        assertThat(s.range()).contains(new BlockRange(100, 100));
    }

    @Test
    void gapIsRefused() {
        Storage s = fresh();
        s.appendAll(blocks(CHAIN, 0, 1));
        assertThatThrownBy(() -> s.append(block(CHAIN, 3)))
                .isInstanceOf(StorageException.class)
                .hasMessageContaining("expected block 2")
                .hasMessageContaining("got 3")
                .hasMessageContaining("gap");
        assertThat(s.range()).contains(new BlockRange(0, 1));
        assertThat(s.block(3)).isEmpty();
    }

    @Test
    void blockWhosePayloadDoesNotMatchItsQcIsRefused() {
        Storage s = fresh();
        assertThatThrownBy(() -> s.append(Blocks.mismatchedBlock(CHAIN, 0)))
                .isInstanceOf(StorageException.class)
                .hasMessageContaining("payload hash")
                .hasMessageContaining("block 0");
        assertThat(s.range()).isEmpty();
    }

    @Test
    void blockOfAnotherChainIsRefused() {
        TestChain other = new TestChain(2);
        Storage s = fresh();
        assertThatThrownBy(() -> s.append(block(other, 0)))
                .isInstanceOf(StorageException.class)
                .hasMessageContaining(CHAIN.genesis.hash().toString());
        assertThat(s.range()).isEmpty();
    }

    @Test
    void identicalReAppendIsANoOp() {
        Storage s = fresh();
        s.appendAll(blocks(CHAIN, 0, 2));
        s.append(block(CHAIN, 2));
        s.append(block(CHAIN, 1));
        s.appendAll(blocks(CHAIN, 1, 3)); // overlap then one new block
        assertThat(s.range()).contains(new BlockRange(0, 3));
        assertSameBlock(s.block(2), block(CHAIN, 2));
    }

    @Test
    void conflictingReAppendIsRefused() {
        Storage s = fresh();
        s.appendAll(blocks(CHAIN, 0, 2));
        assertThatThrownBy(() -> s.append(Blocks.otherBlock(CHAIN, 2)))
                .isInstanceOf(StorageException.class)
                .hasMessageContaining("conflicting block 2");
        assertThatThrownBy(() -> s.append(Blocks.otherBlock(CHAIN, 0)))
                .isInstanceOf(StorageException.class)
                .hasMessageContaining("conflicting block 0");
        assertThat(s.range()).contains(new BlockRange(0, 2));
        assertSameBlock(s.block(2), block(CHAIN, 2));
        assertSameBlock(s.block(0), block(CHAIN, 0));
    }

    @Test
    void appendAllIsAllOrNothing() {
        Storage s = fresh();
        s.appendAll(blocks(CHAIN, 0, 4));
        assertThat(s.range()).contains(new BlockRange(0, 4));
        List<FinalBlock> withGap = List.of(block(CHAIN, 5), block(CHAIN, 6), block(CHAIN, 8));
        assertThatThrownBy(() -> s.appendAll(withGap))
                .isInstanceOf(StorageException.class)
                .hasMessageContaining("expected block 7")
                .hasMessageContaining("got 8");
        List<FinalBlock> withMismatch = List.of(block(CHAIN, 5), Blocks.mismatchedBlock(CHAIN, 6));
        assertThatThrownBy(() -> s.appendAll(withMismatch)).isInstanceOf(StorageException.class);
        assertThat(s.range()).contains(new BlockRange(0, 4));
        assertThat(s.block(5)).isEmpty();
        s.appendAll(List.of());
        s.appendAll(blocks(CHAIN, 5, 6));
        assertThat(s.range()).contains(new BlockRange(0, 6));
    }

    @Test
    void duplicateInsideOneBatchIsANoOpButAConflictIsNot() {
        Storage s = fresh();
        s.appendAll(List.of(block(CHAIN, 0), block(CHAIN, 1), block(CHAIN, 1)));
        assertThat(s.range()).contains(new BlockRange(0, 1));
        assertThatThrownBy(() -> s.appendAll(List.of(block(CHAIN, 2), Blocks.otherBlock(CHAIN, 2))))
                .isInstanceOf(StorageException.class)
                .hasMessageContaining("conflicting block 2");
        assertThat(s.range()).contains(new BlockRange(0, 1));
    }

    @Test
    void aCorruptBlockIsAbsentReportedOnceAndRepairedByAGoodCopyOnly() {
        Storage s = fresh();
        s.appendAll(blocks(CHAIN, 0, 5));
        // Decodes, but its payload is not the one its QC certifies: only the read checks see it.
        s = damage(s, 3, bytes(Blocks.mismatchedBlock(CHAIN, 3)));
        s = damage(s, 4, "garbage".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        assertThat(s.block(3)).isEmpty();
        assertThat(s.block(4)).isEmpty();
        assertThat(s.block(4)).isEmpty();
        assertThat(s.corruptBlocks()).containsExactly(3L, 4L);
        assertThat(s.corruptBlocksFound()).isEqualTo(2);
        assertSameBlock(s.block(5), block(CHAIN, 5));

        Storage store = s;
        assertThatThrownBy(() -> store.repair(Blocks.mismatchedBlock(CHAIN, 3)))
                .isInstanceOf(StorageException.class)
                .hasMessageContaining("does not match");
        s.repair(block(CHAIN, 3));
        assertSameBlock(s.block(3), block(CHAIN, 3));
        assertThat(s.corruptBlocks()).containsExactly(4L);
        s.repair(block(CHAIN, 4));
        assertThat(s.corruptBlocks()).isEmpty();
        assertThat(s.corruptBlocksFound()).isEqualTo(2);

        s.repair(block(CHAIN, 2)); // an identical copy of a readable block: nothing to do
        assertThatThrownBy(() -> store.repair(Blocks.otherBlock(CHAIN, 2)))
                .isInstanceOf(StorageException.class)
                .hasMessageContaining("conflicting block 2");
        assertThatThrownBy(() -> store.repair(block(CHAIN, 9)))
                .isInstanceOf(StorageException.class)
                .hasMessageContaining("block 9 cannot be repaired")
                .hasMessageContaining("not stored");
        assertSameBlock(s.block(2), block(CHAIN, 2));
    }

    @Test
    void pruningKeepsTheLastBlock() {
        Storage s = fresh();
        s.appendAll(blocks(CHAIN, 0, 9));
        s.pruneBelow(0);
        assertThat(s.range()).contains(new BlockRange(0, 9));
        s.pruneBelow(5);
        assertThat(s.range()).contains(new BlockRange(5, 9));
        assertThat(s.block(4)).isEmpty();
        assertThat(s.block(0)).isEmpty();
        assertSameBlock(s.block(5), block(CHAIN, 5));
        s.pruneBelow(3); // below the first: nothing to do
        assertThat(s.range()).contains(new BlockRange(5, 9));
        s.pruneBelow(100);
        assertThat(s.range()).contains(new BlockRange(9, 9));
        assertSameBlock(s.block(9), block(CHAIN, 9));
        assertThatThrownBy(() -> s.append(block(CHAIN, 4)))
                .isInstanceOf(StorageException.class)
                .hasMessageContaining("pruned");
        s.append(block(CHAIN, 10));
        assertThat(s.range()).contains(new BlockRange(9, 10));
        Storage again = reopen(s);
        assertThat(again.range()).contains(new BlockRange(9, 10));
        assertThat(again.block(8)).isEmpty();
    }

    @Test
    void pruningAnEmptyStoreDoesNothing() {
        Storage s = fresh();
        s.pruneBelow(10);
        assertThat(s.range()).isEmpty();
        s.append(block(CHAIN, 0));
        assertThat(s.range()).contains(new BlockRange(0, 0));
    }

    @Test
    void replicaStateRoundTrips() {
        Storage s = fresh();
        s.persistReplicaState(ReplicaState.initial(0));
        assertThat(s.replicaState()).contains(ReplicaState.initial(0));
        ReplicaState rich = Blocks.state(CHAIN, 7);
        s.persistReplicaState(rich);
        assertThat(s.replicaState()).isPresent();
        assertThat(bytes(s.replicaState().get())).isEqualTo(bytes(rich));
        Storage again = reopen(s);
        assertThat(again.replicaState()).isPresent();
        assertThat(bytes(again.replicaState().get())).isEqualTo(bytes(rich));
        assertThat(again.replicaState().get().view()).isEqualTo(7);
    }

    @Test
    void reopenKeepsEverything() {
        Storage s = fresh();
        s.appendAll(blocks(CHAIN, 0, 5));
        s.persistReplicaState(Blocks.state(CHAIN, 3));
        Storage again = reopen(s);
        assertThat(again.range()).contains(new BlockRange(0, 5));
        for (long n = 0; n <= 5; n++) {
            assertSameBlock(again.block(n), block(CHAIN, n));
        }
        assertThat(again.replicaState().map(ReplicaState::view)).contains(3L);
        again.append(block(CHAIN, 6));
        assertThatThrownBy(() -> again.append(Blocks.otherBlock(CHAIN, 5))).isInstanceOf(StorageException.class);
        assertThat(again.range()).contains(new BlockRange(0, 6));
    }

    @Test
    void closedStorageRefusesCalls() {
        Storage s = fresh();
        s.append(block(CHAIN, 0));
        s.close();
        s.close(); // idempotent
        assertThatThrownBy(() -> s.block(0))
                .isInstanceOf(StorageException.class)
                .hasMessageContaining("closed");
        assertThatThrownBy(() -> s.append(block(CHAIN, 1)))
                .isInstanceOf(StorageException.class)
                .hasMessageContaining("closed");
        assertThatThrownBy(() -> s.persistReplicaState(ReplicaState.initial(0))).isInstanceOf(StorageException.class);
    }

    @Test
    void readersSeeACompletePrefixWhileOneThreadWrites() throws Exception {
        Storage s = fresh();
        List<FinalBlock> all = blocks(CHAIN, 0, 39);
        AtomicBoolean done = new AtomicBoolean();
        List<Throwable> failures = new CopyOnWriteArrayList<>();
        List<Thread> readers = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            Thread t = new Thread(() -> {
                try {
                    while (!done.get()) {
                        Optional<BlockRange> r = s.range();
                        if (r.isPresent()) {
                            long last = r.get().last();
                            FinalBlock b =
                                    s.block(last).orElseThrow(() -> new AssertionError("block " + last + " missing"));
                            assertThat(b.number()).isEqualTo(last);
                            assertThat(s.block(r.get().first())).isPresent();
                        }
                    }
                } catch (Throwable e) {
                    failures.add(e);
                }
            });
            t.start();
            readers.add(t);
        }
        for (FinalBlock b : all) {
            s.append(b);
            if (b.number() % 10 == 0) {
                s.persistReplicaState(ReplicaState.initial(b.number()));
            }
        }
        done.set(true);
        for (Thread t : readers) {
            t.join();
        }
        assertThat(failures).isEmpty();
        assertThat(s.range()).contains(new BlockRange(0, 39));
    }
}
