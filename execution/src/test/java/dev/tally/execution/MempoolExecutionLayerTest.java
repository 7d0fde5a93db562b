package dev.tally.execution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tally.protocol.Epoch;
import dev.tally.protocol.FinalBlock;
import dev.tally.protocol.Genesis;
import dev.tally.protocol.Payload;
import dev.tally.protocol.TestChain;
import dev.tally.storage.BlockRange;
import dev.tally.storage.InMemoryStorage;
import dev.tally.storage.StorageException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class MempoolExecutionLayerTest {
    static final TestChain CHAIN = new TestChain(4);
    static final int MAX_TX = 100;

    private static MempoolExecutionLayer layer(int capacity) {
        return new MempoolExecutionLayer(
                InMemoryStorage.create(CHAIN.genesis), CHAIN.genesis, MAX_TX, capacity, List.of());
    }

    private static byte[] tx(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static List<String> texts(Payload p) {
        return TransactionPayload.decode(p, Integer.MAX_VALUE).stream()
                .map(b -> new String(b, StandardCharsets.UTF_8))
                .toList();
    }

    private static Payload raw(int... ints) {
        ByteBuffer b = ByteBuffer.allocate(ints.length * 4);
        for (int i : ints) {
            b.putInt(i);
        }
        return Payload.of(b.array());
    }

    private static Payload concat(Payload p, byte... extra) {
        return new Payload(p.bytes().concat(com.google.protobuf.ByteString.copyFrom(extra)));
    }

    private static String reason(PayloadVerdict v) {
        assertThat(v).isInstanceOf(PayloadVerdict.Invalid.class);
        return ((PayloadVerdict.Invalid) v).reason();
    }

    private static FinalBlock finalBlock(long n, Payload p) {
        return new FinalBlock(p, CHAIN.commitQc(n, n, p));
    }

    @Test
    void payloadFormatRoundTrips() {
        List<byte[]> txs = List.of(tx("a"), tx("bb"), new byte[MAX_TX]);
        Payload p = TransactionPayload.encode(txs);
        assertThat(p.size()).isEqualTo((int) TransactionPayload.encodedSize(3, 1 + 2 + MAX_TX));
        assertThat(TransactionPayload.decode(p, MAX_TX)).containsExactlyElementsOf(txs);
        assertThat(TransactionPayload.encode(List.of()).bytes().toByteArray()).containsExactly(0, 0, 0, 0);
    }

    @Test
    void proposalsPackInArrivalOrderWithinTheLimit() {
        MempoolExecutionLayer l = layer(100);
        assertThat(l.pushTransaction(tx("first-tx"))).isEqualTo(new TransactionResult.Accepted()); // 8 bytes
        assertThat(l.pushTransaction(tx("second-tx-long"))).isInstanceOf(TransactionResult.Accepted.class); // 14
        assertThat(l.pushTransaction(tx("third"))).isInstanceOf(TransactionResult.Accepted.class); // 5
        // Everything: 4 + (4+8) + (4+14) + (4+5) = 43 bytes.
        Payload all = l.proposePayload(0, 43);
        assertThat(all.size()).isEqualTo(43);
        assertThat(texts(all)).containsExactly("first-tx", "second-tx-long", "third");
        // One byte less: the third no longer fits.
        assertThat(texts(l.proposePayload(0, 42))).containsExactly("first-tx", "second-tx-long");
        // Too small for the second, large enough for the third: it is skipped, order is kept.
        Payload some = l.proposePayload(0, 30);
        assertThat(some.size()).isEqualTo(25);
        assertThat(texts(some)).containsExactly("first-tx", "third");
        // Room for the header only: an empty payload, still valid.
        Payload none = l.proposePayload(0, 4);
        assertThat(texts(none)).isEmpty();
        assertThat(l.verifyPayload(0, none)).isEqualTo(PayloadVerdict.valid());
        assertThatThrownBy(() -> l.proposePayload(0, 3)).isInstanceOf(IllegalArgumentException.class);
        assertThat(l.mempoolSize()).isEqualTo(3); // proposing removes nothing
        for (int limit = 4; limit <= 60; limit++) {
            Payload p = l.proposePayload(0, limit);
            assertThat(p.size()).isLessThanOrEqualTo(limit);
            assertThat(l.verifyPayload(0, p).isValid()).isTrue();
        }
    }

    @Test
    void verifyRejectsEachMalformedPayload() {
        MempoolExecutionLayer l = layer(10);
        Payload good = TransactionPayload.encode(List.of(tx("a"), tx("b")));
        assertThat(l.verifyPayload(0, good)).isEqualTo(new PayloadVerdict.Valid());
        assertThat(reason(l.verifyPayload(0, Payload.of(new byte[] {0, 0, 1})))).contains("shorter than its 4-byte");
        assertThat(reason(l.verifyPayload(0, raw(3, 1)))).contains("declares 3 transactions");
        assertThat(reason(l.verifyPayload(0, raw(-1)))).contains("declares 4294967295 transactions");
        assertThat(reason(l.verifyPayload(0, raw(1, 0, 0)))).contains("transaction 0 is empty");
        assertThat(reason(l.verifyPayload(0, concat(raw(1, MAX_TX + 1), new byte[MAX_TX + 1]))))
                .contains("transaction 0 is " + (MAX_TX + 1) + " bytes, above the limit of " + MAX_TX);
        assertThat(reason(l.verifyPayload(0, concat(raw(1, 9), (byte) 1, (byte) 2))))
                .contains("declares 9 bytes but only 2 remain");
        assertThat(reason(l.verifyPayload(
                        0,
                        concat(
                                raw(2, 6),
                                tx("abcdef")[0],
                                (byte) 'b',
                                (byte) 'c',
                                (byte) 'd',
                                (byte) 'e',
                                (byte) 'f',
                                (byte) 0,
                                (byte) 0))))
                .contains("transaction 1: length prefix truncated");
        assertThat(reason(l.verifyPayload(0, concat(good, (byte) 9)))).contains("1 trailing bytes");
        assertThat(reason(l.verifyPayload(0, TransactionPayload.encode(List.of(tx("a"), tx("b"), tx("a"))))))
                .contains("transaction 2 duplicates transaction 0");
        assertThat(reason(l.verifyPayload(0, TransactionPayload.encode(List.of(new byte[MAX_TX + 1])))))
                .contains("above the limit");
    }

    @Test
    void pushRejectsDuplicatesOversizedAndOverflow() {
        MempoolExecutionLayer l = layer(2);
        assertThat(l.pushTransaction(tx("x"))).isInstanceOf(TransactionResult.Accepted.class);
        assertThat(l.pushTransaction(tx("x"))).isEqualTo(new TransactionResult.Duplicate());
        assertThat(l.pushTransaction(new byte[MAX_TX + 1]))
                .isInstanceOfSatisfying(
                        TransactionResult.Rejected.class,
                        r -> assertThat(r.kind()).isEqualTo(TransactionResult.Rejected.TOO_LARGE));
        assertThat(l.pushTransaction(new byte[0])).isInstanceOf(TransactionResult.Rejected.class);
        assertThat(l.pushTransaction(new byte[MAX_TX])).isInstanceOf(TransactionResult.Accepted.class);
        assertThat(l.mempoolBytes()).isEqualTo(1 + MAX_TX);
        TransactionResult full = l.pushTransaction(tx("y"));
        assertThat(full).isInstanceOf(TransactionResult.Rejected.class);
        assertThat(((TransactionResult.Rejected) full).reason()).contains("mempool full");
        assertThat(((TransactionResult.Rejected) full).kind()).isEqualTo(TransactionResult.Rejected.MEMPOOL_FULL);
        assertThat(l.pushTransaction(tx("x"))).isEqualTo(new TransactionResult.Duplicate()); // still a duplicate
        assertThat(l.mempoolSize()).isEqualTo(2);
    }

    /**
     * Under overload most transactions come to a full mempool: it refuses them before hashing them, so it cannot tell
     * a final one from a new one, and says to retry; with room again, the retry is a duplicate.
     */
    @Test
    void aFullMempoolRefusesATransactionBeforeLookingForItAmongTheFinalOnes() {
        MempoolExecutionLayer l = layer(2);
        l.pushTransactions(List.of(tx("a"), tx("b")));
        l.queueBlock(finalBlock(0, TransactionPayload.encode(List.of(tx("a")))));
        l.pushTransaction(tx("c"));
        assertThat(l.pushTransactions(List.of(tx("a"), tx("b"), tx("d"))))
                .containsExactly(
                        new TransactionResult.Rejected(
                                TransactionResult.Rejected.MEMPOOL_FULL, "mempool full (2 transactions)"),
                        new TransactionResult.Duplicate(),
                        new TransactionResult.Rejected(
                                TransactionResult.Rejected.MEMPOOL_FULL, "mempool full (2 transactions)"));
        l.queueBlock(finalBlock(1, TransactionPayload.encode(List.of(tx("b")))));
        assertThat(l.pushTransaction(tx("a"))).isEqualTo(new TransactionResult.Duplicate());
    }

    @Test
    void theMempoolIsBoundedInBytesAsWellAsCountAndFreesTheBytesOfFinalTransactions() {
        MempoolExecutionLayer l = new MempoolExecutionLayer(
                InMemoryStorage.create(CHAIN.genesis), CHAIN.genesis, MAX_TX, 1000, 2 * MAX_TX + 10, List.of());
        byte[] a = new byte[MAX_TX];
        byte[] b = new byte[MAX_TX];
        b[0] = 1;
        assertThat(l.pushTransactions(List.of(a, b, tx("0123456789")))).containsOnly(new TransactionResult.Accepted());
        assertThat(l.mempoolBytes()).isEqualTo(2 * MAX_TX + 10);
        assertThat(l.pushTransaction(tx("z")))
                .as("one byte over the bound, far below the count bound")
                .isEqualTo(new TransactionResult.Rejected(
                        TransactionResult.Rejected.MEMPOOL_FULL, "mempool full (" + (2 * MAX_TX + 10) + " bytes)"));
        l.queueBlock(finalBlock(0, TransactionPayload.encode(List.of(a))));
        assertThat(l.mempoolBytes()).isEqualTo(MAX_TX + 10);
        assertThat(l.pushTransaction(tx("z"))).isEqualTo(new TransactionResult.Accepted());
        assertThatThrownBy(() -> new MempoolExecutionLayer(
                        InMemoryStorage.create(CHAIN.genesis), CHAIN.genesis, MAX_TX, 10, MAX_TX - 1, List.of()))
                .hasMessageContaining("mempoolMaxBytes " + (MAX_TX - 1));
    }

    @Test
    void pushedBytesAreCopied() {
        MempoolExecutionLayer l = layer(10);
        byte[] t = tx("abc");
        l.pushTransaction(t);
        t[0] = 'z';
        assertThat(texts(l.proposePayload(0, 100))).containsExactly("abc");
    }

    @Test
    void aBatchGetsOneResultEachInOrderAsPushingOneByOneWould() {
        MempoolExecutionLayer l = layer(4);
        l.pushTransaction(tx("a"));
        byte[] b = tx("b");
        List<TransactionResult> r = l.pushTransactions(
                List.of(tx("a"), b, new byte[0], tx("b"), new byte[MAX_TX + 1], tx("c"), tx("d"), tx("e")));
        assertThat(r).hasSize(8);
        assertThat(r.get(0)).isEqualTo(new TransactionResult.Duplicate());
        assertThat(r.get(1)).isEqualTo(new TransactionResult.Accepted());
        assertThat(r.get(2))
                .isEqualTo(new TransactionResult.Rejected(TransactionResult.Rejected.EMPTY, "empty transaction"));
        assertThat(r.get(3)).as("twice in one batch").isEqualTo(new TransactionResult.Duplicate());
        assertThat(((TransactionResult.Rejected) r.get(4)).reason()).contains("exceeds the limit of " + MAX_TX);
        assertThat(r.subList(5, 7)).containsOnly(new TransactionResult.Accepted());
        assertThat(((TransactionResult.Rejected) r.get(7)).reason()).contains("mempool full");
        b[0] = 'z'; // copied
        assertThat(texts(l.proposePayload(0, 1000))).containsExactly("a", "b", "c", "d");
        // Final transactions are duplicates in a batch too.
        l.queueBlock(finalBlock(0, TransactionPayload.encode(List.of(tx("a"), tx("b")))));
        assertThat(l.pushTransactions(List.of(tx("a"), tx("e"), tx("b"))))
                .containsExactly(
                        new TransactionResult.Duplicate(),
                        new TransactionResult.Accepted(),
                        new TransactionResult.Duplicate());
        assertThat(l.pushTransactions(List.of())).isEmpty();
    }

    /**
     * The mempool hashes a transaction once and trusts what it holds when it verifies a payload or takes in a final
     * block: its verdicts, results and proposals must be those of the plain rule (every transaction judged by its own
     * hash against the window), whatever mix of held and unknown transactions comes.
     */
    @Test
    void verdictsAndResultsMatchThePlainRuleOverRandomHistories() {
        java.util.Random rnd = new java.util.Random(11);
        MempoolExecutionLayer l = layer(20);
        java.util.LinkedHashSet<String> pool = new java.util.LinkedHashSet<>();
        java.util.Map<String, Long> finalAt = new java.util.HashMap<>();
        long next = 0;
        int[] seen =
                new int[5]; // accepted, duplicate, full, invalid verdicts, valid verdicts with unknown transactions
        for (int step = 0; step < 3000; step++) {
            int op = rnd.nextInt(10);
            int alphabet = step / 2 + 40; // new transactions keep coming
            if (op < 5) {
                List<String> batch = new ArrayList<>();
                for (int i = rnd.nextInt(6); i >= 0; i--) {
                    batch.add("t" + rnd.nextInt(alphabet));
                }
                List<TransactionResult> got = l.pushTransactions(
                        batch.stream().map(MempoolExecutionLayerTest::tx).toList());
                boolean fullBefore = pool.size() >= 20; // a full mempool refuses without looking at the window
                for (int i = 0; i < batch.size(); i++) {
                    String t = batch.get(i);
                    TransactionResult want;
                    if (pool.contains(t) || (!fullBefore && finalAt.containsKey(t))) {
                        want = new TransactionResult.Duplicate();
                    } else if (pool.size() >= 20) {
                        want = new TransactionResult.Rejected(
                                TransactionResult.Rejected.MEMPOOL_FULL, "mempool full (20 transactions)");
                    } else {
                        pool.add(t);
                        want = new TransactionResult.Accepted();
                    }
                    assertThat(got.get(i)).as("step %d tx %s", step, t).isEqualTo(want);
                    seen[
                            want instanceof TransactionResult.Accepted
                                    ? 0
                                    : want instanceof TransactionResult.Duplicate ? 1 : 2]++;
                }
            } else {
                // Some held in the mempool, some not (never seen, or final).
                java.util.LinkedHashSet<String> picked = new java.util.LinkedHashSet<>();
                List<String> held = new ArrayList<>(pool);
                for (int i = rnd.nextInt(8); i > 0; i--) {
                    picked.add(
                            !held.isEmpty() && rnd.nextBoolean()
                                    ? held.get(rnd.nextInt(held.size()))
                                    : "t" + rnd.nextInt(alphabet));
                }
                List<String> distinct = new ArrayList<>(picked);
                Payload p = TransactionPayload.encode(
                        distinct.stream().map(MempoolExecutionLayerTest::tx).toList());
                if (op < 8) {
                    // A proposal for the next block, or (rarely) for an earlier one.
                    long n = rnd.nextInt(10) == 0 ? Math.max(0, next - 1 - rnd.nextInt(3)) : next;
                    PayloadVerdict want = PayloadVerdict.valid();
                    for (int i = 0; i < distinct.size(); i++) {
                        Long at = finalAt.get(distinct.get(i));
                        if (at != null && at < n) {
                            want = PayloadVerdict.invalid("transaction " + i + " is already final in block " + at);
                            break;
                        }
                    }
                    assertThat(l.verifyPayload(n, p)).as("step %d", step).isEqualTo(want);
                    if (!want.isValid()) {
                        seen[3]++;
                    } else if (!pool.containsAll(distinct)) {
                        seen[4]++;
                    }
                } else {
                    l.queueBlock(finalBlock(next, p));
                    for (String t : distinct) {
                        pool.remove(t);
                        finalAt.put(t, next);
                    }
                    next++;
                }
            }
            assertThat(l.mempoolSize()).isEqualTo(pool.size());
            assertThat(l.mempoolBytes())
                    .as("step %d: the bytes of the waiting ones, whatever a final block held", step)
                    .isEqualTo(pool.stream().mapToLong(t -> tx(t).length).sum());
        }
        assertThat(texts(l.proposePayload(next, 10_000))).containsExactlyElementsOf(pool);
        assertThat(next).isGreaterThan(100);
        // Every path was taken many times.
        for (int c : seen) {
            assertThat(c).as(java.util.Arrays.toString(seen)).isGreaterThan(50);
        }
    }

    @Test
    void queueBlockStoresItAndRemovesItsTransactions() {
        MempoolExecutionLayer l = layer(10);
        for (String s : List.of("a", "b", "c", "d")) {
            l.pushTransaction(tx(s));
        }
        Payload p = TransactionPayload.encode(List.of(tx("b"), tx("d"), tx("not-in-mempool")));
        l.queueBlock(finalBlock(0, p));
        assertThat(l.persistedRange()).contains(new BlockRange(0, 0));
        assertThat(l.block(0).map(FinalBlock::payload)).contains(p);
        assertThat(l.mempoolSize()).isEqualTo(2);
        assertThat(texts(l.proposePayload(1, 1000))).containsExactly("a", "c");
        // Out of order is the storage's refusal, and the mempool is untouched.
        Payload q = TransactionPayload.encode(List.of(tx("a")));
        assertThatThrownBy(() -> l.queueBlock(finalBlock(2, q)))
                .isInstanceOf(StorageException.class)
                .hasMessageContaining("gap");
        assertThat(l.mempoolSize()).isEqualTo(2);
        // A final block whose payload is not in this format is still stored.
        l.queueBlock(finalBlock(1, TestChain.payload("opaque")));
        assertThat(l.persistedRange()).contains(new BlockRange(0, 1));
        assertThat(l.mempoolSize()).isEqualTo(2);
    }

    @Test
    void finalTransactionsArriveLateAsDuplicatesAndAreNotReincluded() {
        InMemoryStorage storage = InMemoryStorage.create(CHAIN.genesis);
        MempoolExecutionLayer l = new MempoolExecutionLayer(storage, CHAIN.genesis, MAX_TX, 10, List.of());
        l.pushTransaction(tx("a"));
        l.queueBlock(finalBlock(0, TransactionPayload.encode(List.of(tx("a"), tx("b")))));
        // Gossip delivers "a" and "b" again after they became final: refused, never proposed again.
        assertThat(l.pushTransaction(tx("a"))).isInstanceOf(TransactionResult.Duplicate.class);
        assertThat(l.pushTransaction(tx("b"))).isInstanceOf(TransactionResult.Duplicate.class);
        assertThat(l.pushTransaction(tx("c"))).isInstanceOf(TransactionResult.Accepted.class);
        assertThat(texts(l.proposePayload(1, 1000))).containsExactly("c");
        // A proposal re-including a final transaction is refused; block 0 itself (already stored) is judged alone.
        assertThat(reason(l.verifyPayload(1, TransactionPayload.encode(List.of(tx("c"), tx("b"))))))
                .contains("transaction 1 is already final in block 0");
        assertThat(l.verifyPayload(0, TransactionPayload.encode(List.of(tx("a"), tx("b"))))
                        .isValid())
                .isTrue();
        // A restarted layer reads the window back from storage.
        MempoolExecutionLayer restarted = new MempoolExecutionLayer(storage, CHAIN.genesis, MAX_TX, 10, List.of());
        assertThat(restarted.pushTransaction(tx("a"))).isInstanceOf(TransactionResult.Duplicate.class);
        assertThat(restarted
                        .verifyPayload(1, TransactionPayload.encode(List.of(tx("a"))))
                        .isValid())
                .isFalse();
    }

    @Test
    void finalizedWindowForgetsBlocksBeyondIt() {
        MempoolExecutionLayer l = layer(10);
        l.queueBlock(finalBlock(0, TransactionPayload.encode(List.of(tx("old")))));
        for (long n = 1; n <= MempoolExecutionLayer.FINALIZED_WINDOW_BLOCKS; n++) {
            l.queueBlock(finalBlock(n, TransactionPayload.encode(List.of())));
        }
        assertThat(l.pushTransaction(tx("old"))).isInstanceOf(TransactionResult.Accepted.class);
    }

    /** Beyond its count of hashes the window forgets its oldest blocks whole, however few blocks it holds. */
    @Test
    void finalizedWindowForgetsTheOldestBlocksBeyondItsCountOfHashes() {
        MempoolExecutionLayer l = layer(10);
        int perBlock = MempoolExecutionLayer.FINALIZED_WINDOW_HASHES / 4;
        for (long n = 0; n <= 4; n++) {
            List<byte[]> txs = new ArrayList<>(perBlock);
            for (int i = 0; i < perBlock; i++) {
                txs.add(tx(n + ":" + i));
            }
            l.queueBlock(finalBlock(n, TransactionPayload.encode(txs)));
        }
        assertThat(l.pushTransaction(tx("0:7")))
                .as("block 0 left the window: five blocks of a quarter of its hashes each")
                .isEqualTo(new TransactionResult.Accepted());
        assertThat(l.pushTransaction(tx("1:7"))).isEqualTo(new TransactionResult.Duplicate());
        assertThat(l.pushTransaction(tx("4:" + (perBlock - 1)))).isEqualTo(new TransactionResult.Duplicate());
    }

    @Test
    void epochsFollowTheSchedule() {
        var second = new TestChain(3).committee();
        var third = new TestChain(5).committee();
        MempoolExecutionLayer l = new MempoolExecutionLayer(
                InMemoryStorage.create(CHAIN.genesis),
                CHAIN.genesis,
                MAX_TX,
                List.of(new ScheduledCommittee(200, third), new ScheduledCommittee(100, second)));
        Epoch e0 = l.epochAt(0);
        assertThat(e0).isEqualTo(new Epoch(CHAIN.genesis.hash(), 0, 0, CHAIN.committee()));
        assertThat(l.epochAt(99)).isEqualTo(e0);
        assertThat(l.epochAt(100)).isEqualTo(new Epoch(CHAIN.genesis.hash(), 1, 100, second));
        assertThat(l.epochAt(199).number()).isEqualTo(1);
        assertThat(l.epochAt(200)).isEqualTo(new Epoch(CHAIN.genesis.hash(), 2, 200, third));
        assertThat(l.epochAt(1_000_000).number()).isEqualTo(2);
        assertThat(l.pendingEpoch(0).map(Epoch::number)).contains(1L);
        assertThat(l.pendingEpoch(99).map(Epoch::firstBlock)).contains(100L);
        assertThat(l.pendingEpoch(100).map(Epoch::number)).contains(2L);
        assertThat(l.pendingEpoch(199).map(Epoch::committee)).contains(third);
        assertThat(l.pendingEpoch(200)).isEmpty();
        assertThatThrownBy(() -> l.epochAt(-1)).isInstanceOf(IllegalArgumentException.class);

        MempoolExecutionLayer fixed = layer(10);
        assertThat(fixed.epochAt(12345)).isEqualTo(Epoch.of(CHAIN.genesis));
        assertThat(fixed.pendingEpoch(0)).isEmpty();
    }

    @Test
    void genesisWithoutScheduleNeedsACommitteeAtItsFirstBlock() {
        Genesis bare = new Genesis(9, 0, 50, Genesis.PROTOCOL_VERSION, Optional.empty());
        var storage = InMemoryStorage.create(bare);
        assertThatThrownBy(() -> new MempoolExecutionLayer(storage, bare, MAX_TX, List.of()))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new MempoolExecutionLayer(
                        storage, bare, MAX_TX, List.of(new ScheduledCommittee(60, CHAIN.committee()))))
                .isInstanceOf(IllegalArgumentException.class);
        MempoolExecutionLayer l = new MempoolExecutionLayer(
                storage, bare, MAX_TX, List.of(new ScheduledCommittee(50, CHAIN.committee())));
        assertThat(l.epochAt(50)).isEqualTo(new Epoch(bare.hash(), 0, 50, CHAIN.committee()));
        assertThatThrownBy(() -> l.epochAt(49)).isInstanceOf(IllegalArgumentException.class);
        // Two committees at the same block, or one at the genesis block when the genesis has its own: refused.
        assertThatThrownBy(() -> new MempoolExecutionLayer(
                        InMemoryStorage.create(CHAIN.genesis),
                        CHAIN.genesis,
                        MAX_TX,
                        List.of(new ScheduledCommittee(0, CHAIN.committee()))))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new MempoolExecutionLayer(
                        InMemoryStorage.create(CHAIN.genesis),
                        CHAIN.genesis,
                        MAX_TX,
                        List.of(
                                new ScheduledCommittee(5, CHAIN.committee()),
                                new ScheduledCommittee(5, CHAIN.committee()))))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void concurrentPushesAreCountedOnce() throws Exception {
        MempoolExecutionLayer l = layer(1000);
        ExecutorService pool = Executors.newFixedThreadPool(4);
        ConcurrentHashMap<String, Integer> accepted = new ConcurrentHashMap<>();
        List<java.util.concurrent.Future<?>> fs = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            fs.add(pool.submit(() -> {
                for (int i = 0; i < 1500; i++) {
                    if (l.pushTransaction(tx("tx" + i)) instanceof TransactionResult.Accepted) {
                        accepted.merge("tx" + i, 1, Integer::sum);
                    }
                }
            }));
        }
        for (var f : fs) {
            f.get();
        }
        pool.shutdown();
        assertThat(pool.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
        assertThat(l.mempoolSize()).isEqualTo(1000);
        assertThat(accepted).hasSize(1000).allSatisfy((k, v) -> assertThat(v).isEqualTo(1));
    }

    /** Delays run by hand: the tasks and the delays asked for, in order. */
    private static final class ManualDelays implements MempoolExecutionLayer.Delays {
        final List<Runnable> tasks = new ArrayList<>();
        final List<Duration> asked = new ArrayList<>();

        @Override
        public void schedule(Runnable task, Duration delay) {
            tasks.add(task);
            asked.add(delay);
        }

        void elapse() {
            List<Runnable> due = List.copyOf(tasks);
            tasks.clear();
            due.forEach(Runnable::run);
        }
    }

    private static MempoolExecutionLayer layer(ManualDelays delays) {
        return new MempoolExecutionLayer(
                InMemoryStorage.create(CHAIN.genesis),
                CHAIN.genesis,
                MAX_TX,
                10,
                MempoolExecutionLayer.DEFAULT_MEMPOOL_MAX_BYTES,
                List.of(),
                delays);
    }

    private static final Duration WAIT = Duration.ofMillis(700);

    @Test
    void aProposalAnswersAtOnceWhenTransactionsWait() {
        ManualDelays delays = new ManualDelays();
        MempoolExecutionLayer l = layer(delays);
        l.pushTransaction(tx("a"));
        CompletableFuture<Payload> p = l.proposePayloadWhenReady(1, 1000, WAIT);
        assertThat(p).isDone();
        assertThat(texts(p.join())).containsExactly("a");
        assertThat(delays.asked).isEmpty();
    }

    @Test
    void anEmptyMempoolWaitsForTheFirstTransactionThenAnswersAtOnce() {
        ManualDelays delays = new ManualDelays();
        MempoolExecutionLayer l = layer(delays);
        CompletableFuture<Payload> p = l.proposePayloadWhenReady(1, 1000, WAIT);
        assertThat(p).isNotDone();
        assertThat(delays.asked).containsExactly(WAIT);
        assertThat(l.pushTransaction(tx("a"))).isInstanceOf(TransactionResult.Accepted.class);
        assertThat(p).isDone();
        assertThat(texts(p.join())).containsExactly("a");
        // The end of the wait finds the proposal answered and changes nothing.
        l.pushTransaction(tx("b"));
        delays.elapse();
        assertThat(texts(p.join())).containsExactly("a");
    }

    @Test
    void anEmptyMempoolAnswersEmptyWhenTheWaitEnds() {
        ManualDelays delays = new ManualDelays();
        MempoolExecutionLayer l = layer(delays);
        CompletableFuture<Payload> p = l.proposePayloadWhenReady(1, 1000, WAIT);
        // A refused transaction (too large) is not one to propose: the proposal keeps waiting.
        assertThat(l.pushTransaction(new byte[MAX_TX + 1])).isInstanceOf(TransactionResult.Rejected.class);
        assertThat(p).isNotDone();
        delays.elapse();
        assertThat(p).isDone();
        assertThat(texts(p.join())).isEmpty();
        assertThat(delays.asked).containsExactly(WAIT);
    }

    @Test
    void noWaitAnswersAnEmptyMempoolAtOnce() {
        ManualDelays delays = new ManualDelays();
        MempoolExecutionLayer l = layer(delays);
        CompletableFuture<Payload> p = l.proposePayloadWhenReady(1, 1000, Duration.ZERO);
        assertThat(p).isDone();
        assertThat(texts(p.join())).isEmpty();
        assertThat(delays.asked).isEmpty();
        assertThatThrownBy(() -> l.proposePayloadWhenReady(1, 1000, Duration.ofMillis(-1)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("negative");
        assertThatThrownBy(() -> l.proposePayloadWhenReady(1, 2, WAIT))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("maxPayloadSize 2");
        assertThat(delays.asked).isEmpty();
    }

    @Test
    void oneBatchAnswersEveryWaitingProposal() {
        ManualDelays delays = new ManualDelays();
        MempoolExecutionLayer l = layer(delays);
        CompletableFuture<Payload> first = l.proposePayloadWhenReady(1, 1000, WAIT);
        CompletableFuture<Payload> second = l.proposePayloadWhenReady(2, 1000, WAIT);
        l.pushTransactions(List.of(tx("a"), tx("b")));
        assertThat(first).isDone();
        assertThat(second).isDone();
        assertThat(texts(first.join())).containsExactly("a", "b");
        assertThat(texts(second.join())).containsExactly("a", "b");
    }
}
