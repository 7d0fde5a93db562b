package dev.tally.network;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tally.crypto.NodeSecretKey;
import dev.tally.protocol.CommitQC;
import dev.tally.protocol.FinalBlock;
import dev.tally.protocol.TestChain;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** A node with an empty store catches up from gossip peers over real sockets. */
class BlockSyncTest {
    static final int BLOCKS = 220;
    final TestChain chain = TestNets.chain();
    final List<Network> nets = new ArrayList<>();

    @AfterEach
    void stop() {
        nets.forEach(Network::close);
    }

    /** A peer serving {@code source}; its sink says it has them all (as a real store would), so it fetches nothing. */
    Network server(NodeSecretKey key, BlockSource source) throws Exception {
        BlockSink full = new BlockSink() {
            @Override
            public void queueBlock(FinalBlock block) {
                throw new AssertionError("a full server fetched block " + block.number());
            }

            @Override
            public long lastQueued() {
                return source.state().last();
            }
        };
        Network n = Network.start(TestNets.config(key, chain).build(), source, full, TestNets.NO_TXS);
        nets.add(n);
        return n;
    }

    /** A node with an empty store syncing from peers {@code a} and {@code b}: started, and waited for until it holds block {@code last}. */
    record Syncing(Network net, TestNets.MemoryStore store) {}

    Syncing syncFrom(long last, NodeSecretKey a, Network na, NodeSecretKey b, Network nb) throws Exception {
        TestNets.MemoryStore mine = new TestNets.MemoryStore(0);
        Network me = Network.start(
                TestNets.config(NodeSecretKey.generate(), chain)
                        .gossipStaticOutbound(a.publicKey(), na.boundAddress())
                        .gossipStaticOutbound(b.publicKey(), nb.boundAddress())
                        .build(),
                mine,
                mine,
                TestNets.NO_TXS);
        nets.add(me);
        TestNets.await("catch-up", Duration.ofSeconds(60), () -> mine.last == last || mine.outOfOrder != null);
        assertThat(mine.outOfOrder).isNull();
        return new Syncing(me, mine);
    }

    /** A node storing into {@code mine}, with peer {@code a} as its one gossip peer; started. */
    Network syncingFrom(NodeSecretKey a, Network na, TestNets.MemoryStore mine) throws Exception {
        Network me = Network.start(
                TestNets.config(NodeSecretKey.generate(), chain)
                        .gossipStaticOutbound(a.publicKey(), na.boundAddress())
                        .build(),
                mine,
                mine,
                TestNets.NO_TXS);
        nets.add(me);
        return me;
    }

    /** Serves the chain, but every seventh block (from 3 on) with a payload its QC does not certify. */
    static final class CorruptSource implements BlockSource {
        final TestNets.MemoryStore store;

        CorruptSource(TestNets.MemoryStore store) {
            this.store = store;
        }

        @Override
        public BlockStoreState state() {
            return store.state();
        }

        @Override
        public Optional<FinalBlock> block(long number) {
            return store.block(number)
                    .map(b -> number % 7 == 3
                            ? new FinalBlock(TestChain.payload("forged " + number), b.justification())
                            : b);
        }
    }

    @Test
    void emptyNodeCatchesUpFromTwoPeers() throws Exception {
        List<FinalBlock> blocks = TestNets.blocks(BLOCKS);
        NodeSecretKey a = NodeSecretKey.generate();
        NodeSecretKey b = NodeSecretKey.generate();
        Network na = server(a, new TestNets.MemoryStore(0).with(blocks));
        Network nb = server(b, new TestNets.MemoryStore(0).with(blocks));
        Syncing me = syncFrom(BLOCKS - 1, a, na, b, nb);
        TestNets.MemoryStore mine = me.store();
        for (FinalBlock blk : blocks) {
            assertThat(mine.blocks.get(blk.number())).isEqualTo(blk);
        }
        assertThat(me.net().gossip().fetchFailures()).isZero();
        // The servers learn our progress from our block store state pushes.
        TestNets.await(
                "servers see our state",
                Duration.ofSeconds(10),
                () -> na.gossip().peers().stream()
                        .allMatch(k -> na.gossip()
                                        .peerState(k)
                                        .map(BlockStoreState::last)
                                        .orElse(-1L)
                                == BLOCKS - 1));
    }

    @Test
    void corruptBlocksAreRefetchedElsewhereAndTheLiarIsDropped() throws Exception {
        List<FinalBlock> blocks = TestNets.blocks(BLOCKS);
        NodeSecretKey liar = NodeSecretKey.generate();
        NodeSecretKey honest = NodeSecretKey.generate();
        Network nl = server(liar, new CorruptSource(new TestNets.MemoryStore(0).with(blocks)));
        Network nh = server(honest, new TestNets.MemoryStore(0).with(blocks));
        Syncing me = syncFrom(BLOCKS - 1, liar, nl, honest, nh);
        TestNets.MemoryStore mine = me.store();
        for (FinalBlock blk : blocks) {
            assertThat(mine.blocks.get(blk.number()))
                    .as("block %d", blk.number())
                    .isEqualTo(blk);
        }
        assertThat(me.net().gossip().fetchFailures()).isPositive();
    }

    @Test
    void blocksAppearingLaterAreFetchedAsTheyAreAdvertised() throws Exception {
        List<FinalBlock> blocks = TestNets.blocks(40);
        NodeSecretKey a = NodeSecretKey.generate();
        TestNets.MemoryStore theirs = new TestNets.MemoryStore(0).with(blocks.subList(0, 10));
        Network na = server(a, theirs);
        TestNets.MemoryStore mine = new TestNets.MemoryStore(0);
        syncingFrom(a, na, mine);
        TestNets.await("first ten", Duration.ofSeconds(20), () -> mine.last == 9);
        theirs.with(blocks.subList(10, 40));
        na.gossip().notifyBlocksChanged();
        TestNets.await("the rest", Duration.ofSeconds(20), () -> mine.last == 39);
    }

    @Test
    void blocksHeldAheadOfAGapAreStoredAfterItAndNotFetched() throws Exception {
        List<FinalBlock> blocks = TestNets.blocks(21);
        NodeSecretKey a = NodeSecretKey.generate();
        TestNets.MemoryStore theirs = new TestNets.MemoryStore(0).with(blocks.subList(0, 10));
        Network na = server(a, theirs);
        TestNets.MemoryStore mine = new TestNets.MemoryStore(0).with(blocks.subList(0, 10));
        Network me = syncingFrom(a, na, mine);
        // Consensus finalized blocks 12 to 20 here while 10 and 11 were missing.
        blocks.subList(12, 21).forEach(me.gossip()::holdAheadOfGap);

        theirs.with(blocks.subList(10, 21));
        na.gossip().notifyBlocksChanged();

        TestNets.await("the gap and the held blocks", Duration.ofSeconds(20), () -> mine.last == 20);
        assertThat(mine.outOfOrder).isNull();
        assertThat(me.gossip().blocksFetched()).as("blocks fetched").isEqualTo(2);
        // Asked for blocks 10 and 11 before it had them, the peer was not at fault.
        assertThat(me.gossip().fetchFailures()).isZero();
        assertThat(me.gossip().peers()).contains(a.publicKey());
    }

    @Test
    void aGapIsFetchedFromAPeerWhoseStatePushLagsBehind() throws Exception {
        List<FinalBlock> blocks = TestNets.blocks(21);
        NodeSecretKey a = NodeSecretKey.generate();
        TestNets.MemoryStore theirs = new TestNets.MemoryStore(0).with(blocks);
        BlockSource lagging = new BlockSource() {
            @Override
            public BlockStoreState state() {
                return new BlockStoreState(0, Optional.of(blocks.get(9).justification()));
            }

            @Override
            public Optional<FinalBlock> block(long number) {
                return theirs.block(number);
            }
        };
        Network na = server(a, lagging);
        TestNets.MemoryStore mine = new TestNets.MemoryStore(0).with(blocks.subList(0, 10));
        Network me = syncingFrom(a, na, mine);
        // Held before the peer is connected (microseconds against a handshake): held one by one while the fetcher runs,
        // a block not held yet could be fetched first (seen once in CI, under load: 3 fetched).
        blocks.subList(12, 21).forEach(me.gossip()::holdAheadOfGap);
        TestNets.await(
                "connected",
                Duration.ofSeconds(20),
                () -> me.gossip().peerState(a.publicKey()).isPresent());

        TestNets.await("the gap and the held blocks", Duration.ofSeconds(20), () -> mine.last == 20);
        assertThat(me.gossip().blocksFetched()).as("blocks fetched").isEqualTo(2);
        assertThat(me.gossip().fetchFailures()).isZero();
    }

    @Test
    void aPeerAdvertisingAnInvalidQcIsDroppedWhenBlockSyncWouldActOnIt() throws Exception {
        List<FinalBlock> blocks = TestNets.blocks(40);
        FinalBlock last = blocks.get(39);
        CommitQC forged = new CommitQC(
                last.justification().message(),
                last.justification().signers(),
                blocks.get(38).justification().signature());
        TestNets.MemoryStore store = new TestNets.MemoryStore(0).with(blocks);
        BlockSource lying = new BlockSource() {
            @Override
            public BlockStoreState state() {
                return new BlockStoreState(0, Optional.of(forged));
            }

            @Override
            public Optional<FinalBlock> block(long number) {
                return store.block(number);
            }
        };
        NodeSecretKey liar = NodeSecretKey.generate();
        NodeSecretKey honest = NodeSecretKey.generate();
        Network nl = server(liar, lying);
        Network nh = server(honest, new TestNets.MemoryStore(0).with(blocks));
        Syncing me = syncFrom(39, liar, nl, honest, nh);
        assertThat(me.store().blocks.get(39L)).isEqualTo(last);
        assertThat(me.net().gossip().fetchFailures())
                .as("the liar's advertisement was refused")
                .isPositive();
    }
}
