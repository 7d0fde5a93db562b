package dev.tally.network;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tally.crypto.NodeSecretKey;
import dev.tally.protocol.ChonkyMessage;
import dev.tally.protocol.FinalBlock;
import dev.tally.protocol.Payload;
import dev.tally.protocol.ReplicaCommit;
import dev.tally.protocol.Signed;
import dev.tally.protocol.TestChain;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.function.BooleanSupplier;

/** Shared fixtures for the network tests. */
final class TestNets {
    private static TestChain chain;
    private static final List<FinalBlock> BLOCKS = new ArrayList<>();

    private TestNets() {}

    /** Each signature verified alone, as the batcher does with one that arrives by itself. */
    static final SignatureCheck ALONE = (signature, message, key) -> signature.verify(message, key);

    static synchronized TestChain chain() {
        if (chain == null) {
            chain = new TestChain(4);
        }
        return chain;
    }

    /** The first {@code n} blocks of the test chain (built once, with real commit QCs, and cached). */
    static synchronized List<FinalBlock> blocks(int n) {
        TestChain c = chain();
        while (BLOCKS.size() < n) {
            int i = BLOCKS.size();
            Payload p = TestChain.payload("block " + i);
            BLOCKS.add(new FinalBlock(p, c.commitQc(i + 1, i, p)));
        }
        return List.copyOf(BLOCKS.subList(0, n));
    }

    static void writeFrame(NoiseStream s, byte[] frame) throws IOException {
        byte[] len = {
            (byte) frame.length, (byte) (frame.length >>> 8), (byte) (frame.length >>> 16), (byte) (frame.length >>> 24)
        };
        s.out().write(len);
        s.out().write(frame);
        s.out().flush();
    }

    static NetworkConfig.Builder config(NodeSecretKey key, TestChain c) {
        return NetworkConfig.builder(key, c.epoch)
                .ping(null)
                .reconnect(Duration.ofMillis(50), Duration.ofMillis(500))
                .verifierThreads(2);
    }

    static void await(String what, Duration timeout, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(10);
        }
    }

    /** An in-memory block store: serves its blocks, takes fetched ones strictly in order. */
    static final class MemoryStore implements BlockSource, BlockSink {
        final long first;
        final ConcurrentSkipListMap<Long, FinalBlock> blocks = new ConcurrentSkipListMap<>();
        volatile long last;
        volatile String outOfOrder;

        MemoryStore(long first) {
            this.first = first;
            this.last = first - 1;
        }

        MemoryStore with(List<FinalBlock> bs) {
            bs.forEach(b -> {
                blocks.put(b.number(), b);
                last = Math.max(last, b.number());
            });
            return this;
        }

        @Override
        public BlockStoreState state() {
            return last < first
                    ? BlockStoreState.empty(first)
                    : new BlockStoreState(first, Optional.of(blocks.get(last).justification()));
        }

        @Override
        public Optional<FinalBlock> block(long number) {
            return Optional.ofNullable(blocks.get(number));
        }

        @Override
        public synchronized void queueBlock(FinalBlock block) {
            if (block.number() != last + 1) {
                outOfOrder = "got block " + block.number() + " after " + last;
                throw new IllegalStateException(outOfOrder);
            }
            blocks.put(block.number(), block);
            last = block.number();
        }

        @Override
        public long lastQueued() {
            return last;
        }
    }

    static final TransactionSink NO_TXS = tx -> new TransactionSink.Result.Rejected("no mempool");

    /** Every validator broadcasts a vote; every validator receives all of them, its own included. */
    @SuppressWarnings({"unchecked", "rawtypes"})
    static void everyVoteReachesEveryValidator(TestChain chain, Network[] nets) throws InterruptedException {
        int n = nets.length;
        Payload p = TestChain.payload("every vote");
        Set<Signed<ChonkyMessage>> sent = new HashSet<>();
        for (int i = 0; i < n; i++) {
            Signed<ReplicaCommit> m = chain.sign(i, chain.vote(10 + i, 3, p));
            sent.add((Signed) m);
            nets[i].broadcast(m);
        }
        for (int i = 0; i < n; i++) {
            Set<Signed<ChonkyMessage>> got = new HashSet<>();
            while (got.size() < n) {
                Signed<ChonkyMessage> m = nets[i].inbox().poll(Duration.ofSeconds(10));
                assertThat(m)
                        .as("message %d at validator %d", got.size() + 1, i)
                        .isNotNull();
                got.add(m);
            }
            assertThat(got).isEqualTo(sent);
        }
    }
}
