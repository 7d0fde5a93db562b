package dev.tally.execution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tally.protocol.FinalBlock;
import dev.tally.protocol.Payload;
import dev.tally.protocol.TestChain;
import dev.tally.storage.InMemoryStorage;
import dev.tally.storage.Storage;
import dev.tally.storage.SyncGroup;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ApplicationExecutionLayerTest {
    private static final TestChain CHAIN = new TestChain(4);
    private static final long FIRST = CHAIN.genesis.firstBlock();

    /** Applies "add:N" transactions to a sum; its root is the sum. Refuses anything else. */
    private static class Adder implements Application {
        final List<Long> appliedBlocks = new ArrayList<>();
        Optional<AppliedState> last = Optional.empty();
        long sum;
        long skew; // added to every root: a nondeterministic application when two nodes differ in it
        boolean broken;

        @Override
        public Optional<AppliedState> lastApplied() {
            return last;
        }

        @Override
        public TxCheck checkTx(byte[] tx) {
            return parse(tx) == null ? TxCheck.refused("not add:N: " + text(tx)) : TxCheck.ok();
        }

        @Override
        public PayloadVerdict verifyBlock(long blockNumber, List<byte[]> txs) {
            return txs.stream().allMatch(t -> parse(t) != null)
                    ? PayloadVerdict.valid()
                    : PayloadVerdict.invalid("not all add:N");
        }

        @Override
        public byte[] applyBlock(long blockNumber, List<byte[]> txs) {
            if (broken) {
                throw new IllegalStateException("disk on fire");
            }
            txs.forEach(t -> sum += parse(t));
            appliedBlocks.add(blockNumber);
            byte[] root = root(sum + skew);
            last = Optional.of(new AppliedState(blockNumber, root));
            return root;
        }

        private static Long parse(byte[] tx) {
            String s = text(tx);
            return s.matches("add:\\d{1,9}") ? Long.valueOf(s.substring(4)) : null;
        }
    }

    private static byte[] root(long v) {
        return ByteBuffer.allocate(8).putLong(v).array();
    }

    private static String text(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }

    private static byte[] tx(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static ApplicationExecutionLayer layer(Storage storage, Application app) {
        return new ApplicationExecutionLayer(new MempoolExecutionLayer(storage, CHAIN.genesis, 1000, List.of()), app);
    }

    private static FinalBlock finalBlock(long n, Payload p) {
        return new FinalBlock(p, CHAIN.commitQc(n, n, p));
    }

    private static FinalBlock block(long n, String... txs) {
        return finalBlock(
                n,
                TransactionPayload.encode(List.of(txs).stream()
                        .map(ApplicationExecutionLayerTest::tx)
                        .toList()));
    }

    @Test
    void checkTxRefusalsCarryTheApplicationsReasonAndKeepTheMempoolClean() {
        ApplicationExecutionLayer l = layer(InMemoryStorage.create(CHAIN.genesis), new Adder());
        assertThat(l.pushTransaction(tx("mul:2")))
                .isEqualTo(new TransactionResult.Rejected(
                        ApplicationExecutionLayer.REFUSED_BY_APPLICATION, "not add:N: mul:2"));
        assertThat(l.pushTransactions(List.of(tx("add:1"), tx("bad"), tx("add:2"))))
                .containsExactly(
                        new TransactionResult.Accepted(),
                        new TransactionResult.Rejected(
                                ApplicationExecutionLayer.REFUSED_BY_APPLICATION, "not add:N: bad"),
                        new TransactionResult.Accepted());
        assertThat(l.mempool().mempoolSize()).isEqualTo(2);
    }

    @Test
    void finalBlocksAreStoredThenAppliedWithoutTheAttestation() {
        Adder app = new Adder();
        ApplicationExecutionLayer l = layer(InMemoryStorage.create(CHAIN.genesis), app);
        l.pushTransaction(tx("add:5"));
        Payload first = l.proposePayload(FIRST, 10_000);
        assertThat(TransactionPayload.decode(first, 1000)).hasSize(1); // nothing applied yet: no attestation
        l.queueBlock(finalBlock(FIRST, first));
        l.pushTransaction(tx("add:7"));
        Payload second = l.proposePayload(FIRST + 1, 10_000);
        List<byte[]> txs = TransactionPayload.decode(second, 1000);
        assertThat(RootAttestation.decode(txs.getFirst()))
                .hasValueSatisfying(a -> assertThat(a.root()).isEqualTo(root(5)));
        assertThat(l.verifyPayload(FIRST + 1, second)).isEqualTo(PayloadVerdict.valid());
        l.queueBlock(finalBlock(FIRST + 1, second));
        assertThat(app.sum).isEqualTo(12);
        assertThat(l.lastApplied()).hasValueSatisfying(s -> assertThat(s.root()).isEqualTo(root(12)));
        assertThat(l.persistedRange().orElseThrow().last()).isEqualTo(FIRST + 1);
        assertThat(l.rootMismatches()).isZero();
    }

    @Test
    void aBlockIsDurableBeforeItIsAppliedEvenInTheCallersSyncGroup() {
        Storage memory = InMemoryStorage.create(CHAIN.genesis);
        List<String> calls = new ArrayList<>();
        Storage recorded = (Storage) Proxy.newProxyInstance(
                Storage.class.getClassLoader(), new Class<?>[] {Storage.class}, (proxy, method, args) -> {
                    calls.add(method.getName());
                    try {
                        return method.invoke(memory, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
        List<String> before = new ArrayList<>();
        Adder app = new Adder() {
            @Override
            public byte[] applyBlock(long blockNumber, List<byte[]> txs) {
                before.addAll(calls);
                return super.applyBlock(blockNumber, txs);
            }
        };
        ApplicationExecutionLayer l = layer(recorded, app);
        calls.clear();
        SyncGroup group = recorded.syncGroup();
        try {
            l.queueBlock(block(FIRST, "add:1"));
        } finally {
            group.close();
        }
        assertThat(before).containsSubsequence("syncGroup", "append", "syncGroupNow");
        assertThat(before.getLast()).isEqualTo("syncGroupNow");
        assertThat(app.sum).isEqualTo(1);
    }

    @Test
    void clientsCannotForgeAttestationsAndOnlyTheFirstTransactionMayBeOne() {
        ApplicationExecutionLayer l = layer(InMemoryStorage.create(CHAIN.genesis), new Adder());
        byte[] forged = new RootAttestation(FIRST, root(1)).encode();
        assertThat(l.pushTransaction(forged)).isInstanceOf(TransactionResult.Rejected.class);
        Payload late = TransactionPayload.encode(List.of(tx("add:1"), new RootAttestation(FIRST, root(1)).encode()));
        assertThat(l.verifyPayload(FIRST + 1, late)).isInstanceOf(PayloadVerdict.Invalid.class);
        Payload wrongBlock = TransactionPayload.encode(List.of(new RootAttestation(FIRST + 5, root(1)).encode()));
        assertThat(l.verifyPayload(FIRST + 1, wrongBlock)).isInstanceOf(PayloadVerdict.Invalid.class);
        assertThat(l.verifyPayload(FIRST, TransactionPayload.encode(List.of(tx("nope")))))
                .isEqualTo(PayloadVerdict.invalid("not all add:N"));
    }

    @Test
    void aDivergingRootIsCountedNotHidden() {
        Adder honest = new Adder();
        Adder skewed = new Adder();
        skewed.skew = 1;
        ApplicationExecutionLayer proposer = layer(InMemoryStorage.create(CHAIN.genesis), honest);
        ApplicationExecutionLayer other = layer(InMemoryStorage.create(CHAIN.genesis), skewed);
        FinalBlock b0 = block(FIRST, "add:3");
        proposer.queueBlock(b0);
        other.queueBlock(b0);
        FinalBlock b1 = finalBlock(FIRST + 1, proposer.proposePayload(FIRST + 1, 10_000));
        proposer.queueBlock(b1);
        other.queueBlock(b1);
        assertThat(proposer.rootMismatches()).isZero();
        assertThat(other.rootMismatches()).isEqualTo(1);
    }

    @Test
    void replayAppliesTheStoredBlocksTheApplicationLacks() {
        Storage storage = InMemoryStorage.create(CHAIN.genesis);
        Adder before = new Adder();
        ApplicationExecutionLayer l = layer(storage, before);
        l.queueBlock(block(FIRST, "add:1"));
        l.queueBlock(block(FIRST + 1, "add:2"));
        l.queueBlock(block(FIRST + 2, "add:4"));
        // A restart whose application had made only the first block durable.
        Adder after = new Adder();
        after.sum = 1;
        after.last = Optional.of(new AppliedState(FIRST, root(1)));
        ApplicationExecutionLayer restarted = layer(storage, after);
        assertThat(restarted.replay()).isEqualTo(2);
        assertThat(after.appliedBlocks).containsExactly(FIRST + 1, FIRST + 2);
        assertThat(after.sum).isEqualTo(7);
        assertThat(restarted.replay()).isZero();
    }

    @Test
    void anApplicationAheadOfTheBlockStoreIsRefused() {
        Adder ahead = new Adder();
        ahead.last = Optional.of(new AppliedState(FIRST + 3, root(0)));
        ApplicationExecutionLayer l = layer(InMemoryStorage.create(CHAIN.genesis), ahead);
        assertThatThrownBy(l::replay)
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("applied up to block " + (FIRST + 3));
    }

    @Test
    void aFailingApplyNamesTheBlockAndTheStoredBlockIsReplayedLater() {
        Storage storage = InMemoryStorage.create(CHAIN.genesis);
        Adder app = new Adder();
        app.broken = true;
        ApplicationExecutionLayer l = layer(storage, app);
        assertThatThrownBy(() -> l.queueBlock(block(FIRST, "add:1")))
                .isInstanceOf(ApplicationException.class)
                .hasMessageContaining("failed to apply block " + FIRST)
                .hasMessageContaining("disk on fire");
        app.broken = false;
        assertThat(layer(storage, app).replay()).isEqualTo(1);
        assertThat(app.sum).isEqualTo(1);
    }
}
