package dev.tally.node.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.google.protobuf.ByteString;
import dev.tally.crypto.BlsSecretKey;
import dev.tally.crypto.NodeSecretKey;
import dev.tally.network.Network;
import dev.tally.network.proto.Net;
import dev.tally.node.Await;
import dev.tally.node.config.NodeConfig;
import dev.tally.node.executor.Node;
import dev.tally.protocol.GenesisHash;
import dev.tally.protocol.TestChain;
import dev.tally.storage.InMemoryStorage;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.slf4j.LoggerFactory;

/**
 * Issue 5, done-when 4, 5 and 6 at node level: hostile peers against six running validators over real sockets. The
 * peer is {@link RawPeer}, a client written from the wire description. The network-level versions, with more cases,
 * are {@code HandshakeTest}, {@code RpcLimitsTest} and {@code DecoderFuzzTest} in the network module.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class HostilePeerTest {
    Cluster c;
    GenesisHash genesis;

    /** What the nodes' networks log about refused connections. */
    final ListAppender<ILoggingEvent> refusals = new ListAppender<>();

    @BeforeAll
    void start() throws Exception {
        refusals.start();
        ((Logger) LoggerFactory.getLogger(Network.class)).addAppender(refusals);
        c = new Cluster(6, Duration.ofMillis(400));
        c.startAllInMemory();
        genesis = c.chain.genesis.hash();
        c.awaitAll(3, Duration.ofSeconds(30));
    }

    @AfterAll
    void stop() {
        c.close();
        ((Logger) LoggerFactory.getLogger(Network.class)).detachAppender(refusals);
    }

    /** Connecting fails (the server closes instead of answering) and the server logs the refusal with this reason. */
    void assertRefused(String reason, ThrowingCallable connect) throws InterruptedException {
        assertThatThrownBy(connect).as(reason).isInstanceOf(IOException.class);
        Await.until(
                "a refusal for: " + reason,
                Duration.ofSeconds(5),
                () -> List.copyOf(refusals.list).stream()
                        .anyMatch(e -> e.getFormattedMessage().contains("refused: " + reason)));
    }

    Node target() {
        return c.validators[0];
    }

    InetSocketAddress targetAddr() {
        return c.addrs.get(0);
    }

    /** All six validators finalize at least {@code blocks} more blocks within the timeout. */
    void assertConsensusProgresses(int blocks, Duration timeout) throws InterruptedException {
        long from = c.maxLast();
        c.awaitAll(from + blocks, timeout);
    }

    // ------------------------------------------------------------------ done-when 4

    @Test
    void anHonestRawPeerIsAcceptedAsAControl() throws Exception {
        try (RawPeer p = RawPeer.gossip(targetAddr(), genesis, RawPeer.Lie.NONE)) {
            Await.until(
                    "peer listed",
                    Duration.ofSeconds(5),
                    () -> target().network().gossip().peers().contains(p.key.publicKey()));
        }
    }

    @Test
    void wrongGenesisAndForgedHandshakesAreRefused() throws Exception {
        for (RawPeer.Lie lie :
                List.of(RawPeer.Lie.WRONG_GENESIS, RawPeer.Lie.FORGED_SIGNATURE, RawPeer.Lie.OTHER_SESSION)) {
            NodeSecretKey key = NodeSecretKey.generate();
            String reason = switch (lie) {
                case WRONG_GENESIS -> "genesis mismatch: peer is on genesis_hash:keccak256:0000";
                case FORGED_SIGNATURE -> "bad node signature on the session id from " + key.publicKey();
                default -> "session id mismatch";
            };
            assertRefused(
                    reason,
                    () -> RawPeer.gossip(targetAddr(), genesis, lie, key).close());
            assertThat(target().network().gossip().peers()).as(lie.name()).doesNotContain(key.publicKey());
        }
    }

    @Test
    void forgedAndForeignConsensusHandshakesAreRefused() throws Exception {
        BlsSecretKey stranger = BlsSecretKey.generate();
        var committeeKey = c.chain.keys.get(1).publicKey();
        // A validator key outside the committee, properly signed.
        assertRefused(
                "peer " + stranger.publicKey() + " is not a validator of the committee",
                () -> RawPeer.consensus(targetAddr(), genesis, stranger.publicKey(), stranger)
                        .close());
        // Claims validator 1's key, signed with another.
        assertRefused(
                "bad validator signature on the session id from " + committeeKey,
                () -> RawPeer.consensus(targetAddr(), genesis, committeeKey, stranger)
                        .close());
        // Validator 1's real key, on another chain.
        GenesisHash otherChain = new TestChain(6, 1000).genesis.hash();
        assertRefused(
                "genesis mismatch: peer is on " + otherChain,
                () -> RawPeer.consensus(targetAddr(), otherChain, committeeKey, c.chain.keys.get(1))
                        .close());
        // A full node serves no consensus endpoint, even to a committee member.
        NodeConfig fullCfg = c.fullNodeConfig(0);
        Node full = c.start(fullCfg, InMemoryStorage.create(c.chain.genesis));
        try {
            assertRefused(
                    "consensus endpoint requested from a full node",
                    () -> RawPeer.consensus(fullCfg.serverAddr(), genesis, committeeKey, c.chain.keys.get(1))
                            .close());
        } finally {
            full.close();
        }
        // Validator 1 stays connected to the target, and consensus goes on.
        assertThat(target().network().consensus().orElseThrow().links().receivingFrom())
                .contains(committeeKey);
        assertConsensusProgresses(2, Duration.ofSeconds(15));
    }

    @Test
    void aNodeOfAnotherChainIsNeverConnectedAndSyncsNothing() throws Exception {
        TestChain other = new TestChain(6, 1000); // same validators, another first block: another chain
        assertThat(other.genesis.hash()).isNotEqualTo(genesis);
        NodeConfig mine = c.fullNodeConfig(0, 1);
        NodeConfig stranger = new NodeConfig(
                mine.serverAddr(),
                mine.publicAddr(),
                Optional.empty(),
                Optional.empty(),
                Optional.empty(),
                other.genesis,
                mine.maxPayloadSize(),
                mine.maxTxSize(),
                mine.viewTimeout(),
                Optional.empty(),
                mine.nodeKey(),
                100,
                List.of(),
                mine.gossipStaticOutbound(),
                mine.fetchScheduleInterval(),
                Optional.empty(),
                List.of());
        var storage = InMemoryStorage.create(other.genesis);
        Node n = Node.start(
                stranger,
                storage,
                new dev.tally.execution.MempoolExecutionLayer(storage, other.genesis, 10_000, 1000, List.of()));
        try {
            Thread.sleep(2000); // several redial attempts
            assertThat(n.network().gossip().peers()).isEmpty();
            assertThat(n.storedBlocks().isEmpty()).isTrue();
            assertThat(c.validators[0].network().gossip().peers())
                    .doesNotContain(mine.nodeKey().publicKey());
            assertThat(c.validators[1].network().gossip().peers())
                    .doesNotContain(mine.nodeKey().publicKey());
        } finally {
            n.close();
        }
    }

    // ------------------------------------------------------------------ done-when 5

    @Test
    void aFloodingPeerIsThrottledWhileConsensusKeepsFinalizing() throws Exception {
        Duration flood = Duration.ofSeconds(4);
        try (RawPeer p = RawPeer.gossip(targetAddr(), genesis, RawPeer.Lie.NONE).startReader()) {
            AtomicInteger blocks = new AtomicInteger();
            AtomicInteger txs = new AtomicInteger();
            long start = System.nanoTime();
            long end = start + flood.toNanos();
            long fromBlock = c.maxLast();
            List<Thread> threads = new ArrayList<>();
            // get_block: as many calls as the in-flight limit (5) allows, back to back, ignoring the rate limit.
            for (int t = 0; t < 5; t++) {
                threads.add(Thread.ofVirtual().start(() -> {
                    try {
                        while (System.nanoTime() < end) {
                            long number = blocks.get() % (fromBlock + 1);
                            p.call(
                                    RawPeer.GET_BLOCK,
                                    Net.GetBlockReq.newBuilder()
                                            .setNumber(number)
                                            .build()
                                            .toByteArray());
                            blocks.incrementAndGet();
                        }
                    } catch (IOException | InterruptedException e) {
                        throw new AssertionError("the flooder was dropped instead of throttled", e);
                    }
                }));
            }
            // push_txs: batches of 1,000 new transactions, as many at once as its in-flight limit (2) allows, back to
            // back.
            for (int t = 0; t < 2; t++) {
                Random rnd = new Random(t);
                threads.add(Thread.ofVirtual().start(() -> {
                    try {
                        while (System.nanoTime() < end) {
                            Net.PushTxs.Builder batch = Net.PushTxs.newBuilder();
                            for (int i = 0; i < 1000; i++) {
                                byte[] tx = new byte[32];
                                rnd.nextBytes(tx);
                                batch.addTxs(ByteString.copyFrom(tx));
                            }
                            p.call(RawPeer.PUSH_TXS, batch.build().toByteArray());
                            txs.addAndGet(1000);
                        }
                    } catch (IOException | InterruptedException e) {
                        throw new AssertionError("the flooder was dropped instead of throttled", e);
                    }
                }));
            }
            for (Thread t : threads) {
                t.join();
            }
            double secs = (System.nanoTime() - start) / 1e9;
            long finalized = c.minLast() - fromBlock;
            System.out.printf(
                    "flood of %.1f s: %d get_block and %d transactions (push_txs) served; %d blocks finalized meanwhile%n",
                    secs, blocks.get(), txs.get(), finalized);
            // Default limits: get_block 10 at once then 100/s; push_txs 10,000 transactions at once then 100,000/s (per
            // connection), and two batches in flight.
            assertThat(blocks.get()).isBetween(50, (int) (10 + 100 * secs * 1.1) + 5);
            assertThat(txs.get()).isBetween(1000, (int) (10_000 + 100_000 * secs * 1.1) + 2000);
            // Consensus went on during the flood, and goes on after it.
            assertThat(finalized).isGreaterThanOrEqualTo(5);
            assertConsensusProgresses(5, Duration.ofSeconds(15));
            assertThat(p.closedByServer(Duration.ofMillis(10)))
                    .as("throttled, not dropped")
                    .isFalse();
        }
    }

    @Test
    void aPeerExceedingTheInFlightLimitIsDropped() throws Exception {
        try (RawPeer p = RawPeer.gossip(targetAddr(), genesis, RawPeer.Lie.NONE)) {
            byte[] req = Net.GetBlockReq.newBuilder().setNumber(1).build().toByteArray();
            // 40 get_block calls at once: the server serves 10 at once (the burst), so more than 5 stay in flight.
            try {
                for (int i = 0; i < 40; i++) {
                    p.frame(RawPeer.REQUEST, RawPeer.GET_BLOCK, i + 1, req);
                }
            } catch (SocketException e) {
                // The server may drop the peer before all 40 are written: the broken pipe is that drop.
            }
            assertThat(p.closedByServer(Duration.ofSeconds(5))).isTrue();
            Await.until(
                    "peer forgotten",
                    Duration.ofSeconds(5),
                    () -> !target().network().gossip().peers().contains(p.key.publicKey()));
        }
        assertConsensusProgresses(3, Duration.ofSeconds(15));
    }

    // ------------------------------------------------------------------ done-when 6

    @Test
    void oversizedAndGarbageFramesAreRefused() throws Exception {
        Random rnd = new Random(5);
        // A 100 MB push_txs declared and never sent: refused on its header.
        try (RawPeer p = RawPeer.gossip(targetAddr(), genesis, RawPeer.Lie.NONE)) {
            p.frame(RawPeer.REQUEST, RawPeer.PUSH_TXS, 1, 100L << 20, new byte[0]);
            assertThat(p.closedByServer(Duration.ofSeconds(5))).as("oversized").isTrue();
        }
        // A get_block request body over its 1 KB limit.
        try (RawPeer p = RawPeer.gossip(targetAddr(), genesis, RawPeer.Lie.NONE)) {
            p.frame(RawPeer.REQUEST, RawPeer.GET_BLOCK, 1, new byte[4096]);
            assertThat(p.closedByServer(Duration.ofSeconds(5)))
                    .as("get_block over its limit")
                    .isTrue();
        }
        // Random bytes in place of Noise transport messages: they do not decrypt.
        try (RawPeer p = RawPeer.gossip(targetAddr(), genesis, RawPeer.Lie.NONE)) {
            byte[] junk = new byte[2000];
            rnd.nextBytes(junk);
            junk[0] = (byte) 200;
            junk[1] = 0;
            p.sendRaw(junk);
            assertThat(p.closedByServer(Duration.ofSeconds(5)))
                    .as("undecryptable")
                    .isTrue();
        }
        // Well-encrypted garbage: random application frames, an unknown rpc, a body that is not protobuf.
        for (int i = 0; i < 5; i++) {
            try (RawPeer p = RawPeer.gossip(targetAddr(), genesis, RawPeer.Lie.NONE)) {
                byte[] junk = new byte[64 + rnd.nextInt(512)];
                rnd.nextBytes(junk);
                junk[0] = (byte) (3 + rnd.nextInt(250)); // neither request nor response
                p.send(junk);
                assertThat(p.closedByServer(Duration.ofSeconds(5)))
                        .as("random frame " + i)
                        .isTrue();
            }
        }
        try (RawPeer p = RawPeer.gossip(targetAddr(), genesis, RawPeer.Lie.NONE)) {
            p.frame(RawPeer.REQUEST, 99, 1, new byte[0]);
            assertThat(p.closedByServer(Duration.ofSeconds(5)))
                    .as("unknown rpc")
                    .isTrue();
        }
        try (RawPeer p = RawPeer.gossip(targetAddr(), genesis, RawPeer.Lie.NONE)) {
            p.frame(RawPeer.REQUEST, RawPeer.GET_BLOCK, 1, new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff});
            assertThat(p.closedByServer(Duration.ofSeconds(5)))
                    .as("not protobuf")
                    .isTrue();
        }
        // Before the handshake: a preface frame declaring 1 GB.
        try (java.net.Socket s =
                new java.net.Socket(targetAddr().getAddress(), targetAddr().getPort())) {
            s.getOutputStream().write(new byte[] {0, 0, 0, 0x40});
            s.setSoTimeout(5000);
            assertThat(s.getInputStream().read()).as("preface over its limit").isEqualTo(-1);
        }
        // The validator under attack still takes part.
        assertConsensusProgresses(3, Duration.ofSeconds(15));
    }
}
