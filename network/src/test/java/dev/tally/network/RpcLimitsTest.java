package dev.tally.network;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.tally.crypto.NodePublicKey;
import dev.tally.crypto.NodeSecretKey;
import dev.tally.network.proto.Net;
import dev.tally.protocol.TestChain;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Flooding, lying and garbage-sending peers against a real server, while honest peers keep being served. */
class RpcLimitsTest {
    static final TestChain CHAIN = TestNets.chain();
    static final NodeSecretKey SERVER_KEY = NodeSecretKey.generate();
    /** get_block: 5 at once, then 20 per second, per connection. */
    static final RpcConfig SERVER_RPC = RpcConfig.defaults(1 << 20, 1 << 16)
            .with(
                    Rpc.GET_BLOCK,
                    new RpcConfig.Limit(new RpcConfig.Rate(5, Duration.ofMillis(50)), 1024, (1 << 20) + 1024));

    static Network server;

    @BeforeAll
    static void start() throws Exception {
        TestNets.MemoryStore store = new TestNets.MemoryStore(0).with(TestNets.blocks(60));
        server = Network.start(
                TestNets.config(SERVER_KEY, CHAIN).rpc(SERVER_RPC).build(), store, store, TestNets.NO_TXS);
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    record Raw(NoiseStream stream, NodePublicKey key) implements AutoCloseable {
        @Override
        public void close() throws IOException {
            stream.close();
        }
    }

    static Raw rawPeer() throws IOException {
        NodeSecretKey key = NodeSecretKey.generate();
        NoiseStream s = Preface.connect(server.boundAddress(), Preface.Endpoint.GOSSIP, Duration.ofSeconds(5));
        Handshake.gossipOutbound(s, key, CHAIN.genesis.hash(), SERVER_KEY.publicKey(), false);
        s.socket().setSoTimeout(100);
        return new Raw(s, key.publicKey());
    }

    static void appFrame(Raw r, int kind, int rpc, int callId, long declaredLength, byte[] body) throws IOException {
        byte[] h = new byte[Connection.HEADER];
        h[0] = (byte) kind;
        h[1] = (byte) rpc;
        h[2] = (byte) (callId >>> 24);
        h[3] = (byte) (callId >>> 16);
        h[4] = (byte) (callId >>> 8);
        h[5] = (byte) callId;
        h[6] = (byte) (declaredLength >>> 24);
        h[7] = (byte) (declaredLength >>> 16);
        h[8] = (byte) (declaredLength >>> 8);
        h[9] = (byte) declaredLength;
        r.stream().out().write(h);
        r.stream().out().write(body);
        r.stream().out().flush();
    }

    /** True iff the server closes the connection within the timeout (reading and discarding what it sends). */
    static boolean closedByServer(Raw r, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        byte[] buf = new byte[4096];
        while (System.nanoTime() < deadline) {
            try {
                if (r.stream().in().read(buf, 0, buf.length) < 0) {
                    return true;
                }
            } catch (SocketTimeoutException e) {
                // nothing yet
            } catch (IOException e) {
                return true;
            }
        }
        return false;
    }

    static void assertDropped(Raw r) throws InterruptedException {
        assertThat(closedByServer(r, Duration.ofSeconds(5)))
                .as("server closed the connection")
                .isTrue();
        TestNets.await(
                "server forgets the peer",
                Duration.ofSeconds(5),
                () -> !server.gossip().peers().contains(r.key()));
    }

    /** An honest node syncs 60 blocks from the server: the server still serves. */
    // `me` is never named in the body: it is open, syncing from the server, for exactly as long as the body runs.
    @SuppressWarnings("try")
    static void assertHonestPeerIsServed() throws Exception {
        TestNets.MemoryStore mine = new TestNets.MemoryStore(0);
        try (Network me = Network.start(
                TestNets.config(NodeSecretKey.generate(), CHAIN)
                        .rpc(SERVER_RPC)
                        .gossipStaticOutbound(SERVER_KEY.publicKey(), server.boundAddress())
                        .build(),
                mine,
                mine,
                TestNets.NO_TXS)) {
            TestNets.await("honest sync", Duration.ofSeconds(20), () -> mine.last == 59);
        }
    }

    @Test
    void floodingPeerIsThrottledWhileOthersAreServed() throws Exception {
        // The flooder ignores the rate limit (unlimited on its side) but keeps to the in-flight limit.
        RpcConfig greedy =
                SERVER_RPC.with(Rpc.GET_BLOCK, new RpcConfig.Limit(RpcConfig.Rate.UNLIMITED, 1024, (1 << 20) + 1024));
        Raw raw = rawPeer();
        raw.stream().socket().setSoTimeout(0);
        Map<Rpc, Connection.Handler> serveNothing = new EnumMap<>(Rpc.class);
        for (Rpc r :
                List.of(Rpc.PUSH_BLOCK_STORE_STATE, Rpc.PUSH_VALIDATOR_ADDRS, Rpc.PUSH_TXS, Rpc.PUSH_GOSSIP_PEERS)) {
            serveNothing.put(r, req -> new byte[0]);
        }
        Connection flooder = new Connection("flooder", raw.stream(), greedy, serveNothing, null, null).start();
        AtomicInteger served = new AtomicInteger();
        long end = System.nanoTime() + Duration.ofSeconds(2).toNanos();
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < Rpc.GET_BLOCK.inflight(); t++) {
            threads.add(Thread.ofVirtual().start(() -> {
                try {
                    while (System.nanoTime() < end) {
                        flooder.call(
                                Rpc.GET_BLOCK,
                                Net.GetBlockReq.newBuilder()
                                        .setNumber(served.get() % 60)
                                        .build()
                                        .toByteArray(),
                                null);
                        served.incrementAndGet();
                    }
                } catch (IOException | InterruptedException e) {
                    // stop
                }
            }));
        }
        Thread honest = Thread.ofVirtual().start(() -> {
            try {
                assertHonestPeerIsServed();
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        });
        for (Thread t : threads) {
            t.join();
        }
        honest.join();
        // 2 s at 20/s after a burst of 5, plus the in-flight calls of the last moment: far below unthrottled.
        assertThat(served.get()).isBetween(20, 5 + 2 * 20 + Rpc.GET_BLOCK.inflight() + 2);
        flooder.close();
    }

    @Test
    void peerExceedingTheInflightLimitIsDropped() throws Exception {
        RpcConfig slow = SERVER_RPC.with(
                Rpc.GET_BLOCK, new RpcConfig.Limit(new RpcConfig.Rate(1, Duration.ofSeconds(1)), 1024, 1 << 21));
        try (Network strict = Network.start(
                TestNets.config(NodeSecretKey.generate(), CHAIN).rpc(slow).build(),
                new TestNets.MemoryStore(0).with(TestNets.blocks(5)),
                new TestNets.MemoryStore(0),
                TestNets.NO_TXS)) {
            // Handshake with this server instead.
            NodeSecretKey key = NodeSecretKey.generate();
            NoiseStream s = Preface.connect(strict.boundAddress(), Preface.Endpoint.GOSSIP, Duration.ofSeconds(5));
            NodePublicKey serverKey = null;
            try {
                Handshake.gossipOutbound(
                        s, key, CHAIN.genesis.hash(), NodeSecretKey.generate().publicKey(), false);
            } catch (HandshakeException e) {
                // We did not know its key: fine, the server accepted us anyway. Carry on over the same stream.
                serverKey = key.publicKey();
            }
            assertThat(serverKey).isNotNull();
            s.socket().setSoTimeout(100);
            Raw r = new Raw(s, key.publicKey());
            byte[] body = Net.GetBlockReq.newBuilder().setNumber(1).build().toByteArray();
            // One may be served at once (burst 1); the rest wait for tokens and stay in flight: one too many.
            for (int i = 0; i < Rpc.GET_BLOCK.inflight() + 2; i++) {
                appFrame(r, Connection.REQUEST, Rpc.GET_BLOCK.id(), i + 1, body.length, body);
            }
            assertThat(closedByServer(r, Duration.ofSeconds(5))).isTrue();
            TestNets.await(
                    "dropped",
                    Duration.ofSeconds(5),
                    () -> !strict.gossip().peers().contains(key.publicKey()));
        }
    }

    @Test
    void oversizedFrameIsRefusedBeforeItsBodyArrives() throws Exception {
        Raw r = rawPeer();
        // Declares a 100 MB push_txs request and sends none of it.
        appFrame(r, Connection.REQUEST, Rpc.PUSH_TXS.id(), 1, 100L << 20, new byte[0]);
        assertDropped(r);
    }

    @Test
    void garbageIsRefused() throws Exception {
        Random rnd = new Random(7);
        // Random bytes instead of Noise transport messages: they do not decrypt.
        Raw a = rawPeer();
        byte[] junk = new byte[3000];
        rnd.nextBytes(junk);
        junk[0] = 100; // a 100-byte Noise message (a random length could exceed what we send: that stall is the ping's
        // job)
        junk[1] = 0;
        a.stream().socket().getOutputStream().write(junk);
        assertDropped(a);
        // Well-encrypted frames for an unknown rpc, of an unknown kind, a response to no call, a malformed request.
        Raw b = rawPeer();
        appFrame(b, Connection.REQUEST, 99, 1, 0, new byte[0]);
        assertDropped(b);
        Raw c = rawPeer();
        appFrame(c, 7, Rpc.PING.id(), 1, 0, new byte[0]);
        assertDropped(c);
        Raw d = rawPeer();
        appFrame(d, Connection.RESPONSE, Rpc.GET_BLOCK.id(), 12345, 0, new byte[0]);
        assertDropped(d);
        Raw e = rawPeer();
        byte[] notProto = {(byte) 0xff, (byte) 0xff, (byte) 0xff};
        appFrame(e, Connection.REQUEST, Rpc.PUSH_TXS.id(), 1, notProto.length, notProto);
        assertDropped(e);
        // A consensus request on the gossip endpoint.
        Raw f = rawPeer();
        byte[] msg = Net.ConsensusReq.newBuilder()
                .setMsg(ByteString.copyFrom(new byte[] {1}))
                .build()
                .toByteArray();
        appFrame(f, Connection.REQUEST, Rpc.CONSENSUS.id(), 1, msg.length, msg);
        assertDropped(f);
        assertHonestPeerIsServed();
    }

    @Test
    void pingTimeoutClosesADeadConnection() throws Exception {
        try (Network pinging = pingingNetwork()) {
            // We never answer its pings.
            assertThat(closedByServer(connectTo(pinging), Duration.ofSeconds(6)))
                    .isTrue();
        }
    }

    @Test
    void aPeerThatKeepsSendingIsNotDroppedForASlowAnswerToAPing() throws Exception {
        try (Network pinging = pingingNetwork()) {
            Raw r = connectTo(pinging);
            // We were silent, so it pings us (every 1.1 s, each timing out after 1.1 s). We never answer, but from
            // now on ping it every 0.7 s: a peer slow to answer, not a dead one. Its ping times out meanwhile, and
            // 3.3 s (three timeouts) pass.
            assertThat(awaitPingRequest(r, Duration.ofSeconds(5))).as("pinged").isTrue();
            long until = System.nanoTime() + Duration.ofSeconds(4).toNanos();
            int call = 0;
            while (System.nanoTime() < until) {
                appFrame(r, Connection.REQUEST, Rpc.PING.id(), ++call, 32, new byte[32]);
                assertThat(closedByServer(r, Duration.ofMillis(700)))
                        .as("closed while the peer kept sending")
                        .isFalse();
            }
            // Silent from now on: closed once a ping is unanswered and nothing arrived for three ping timeouts.
            assertThat(closedByServer(r, Duration.ofSeconds(6))).isTrue();
        }
    }

    @Test
    void aPeerWhoseFramesKeepComingIsNotPinged() throws Exception {
        try (Network pinging = pingingNetwork()) {
            Raw r = connectTo(pinging);
            appFrame(r, Connection.REQUEST, Rpc.PING.id(), 1, 32, new byte[32]);
            awaitPingRequest(r, Duration.ofMillis(700)); // it may have pinged before our first frame arrived
            // It would ping every 1.1 s; our frames every 0.7 s show we are alive.
            for (int call = 2; call < 7; call++) {
                appFrame(r, Connection.REQUEST, Rpc.PING.id(), call, 32, new byte[32]);
                assertThat(awaitPingRequest(r, Duration.ofMillis(700)))
                        .as("pinged while our frames kept coming")
                        .isFalse();
            }
        }
    }

    /** Reads (and drops) frames until one is a ping request; false if none came in {@code timeout}. */
    private static boolean awaitPingRequest(Raw r, Duration timeout) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        java.io.DataInputStream in = new java.io.DataInputStream(r.stream().in());
        byte[] header = new byte[Connection.HEADER];
        while (System.nanoTime() < deadline) {
            try {
                in.readFully(header);
            } catch (SocketTimeoutException e) {
                continue;
            }
            int length = ((header[6] & 0xff) << 24)
                    | ((header[7] & 0xff) << 16)
                    | ((header[8] & 0xff) << 8)
                    | (header[9] & 0xff);
            in.readFully(new byte[length]);
            if (header[0] == Connection.REQUEST && header[1] == Rpc.PING.id()) {
                return true;
            }
        }
        return false;
    }

    private static Network pingingNetwork() throws IOException {
        return Network.start(
                TestNets.config(NodeSecretKey.generate(), CHAIN)
                        .ping(Duration.ofMillis(1100))
                        .build(),
                new TestNets.MemoryStore(0),
                new TestNets.MemoryStore(0),
                TestNets.NO_TXS);
    }

    /** A gossip peer of {@code network} that answers nothing unless the test does. */
    private static Raw connectTo(Network network) throws Exception {
        NodeSecretKey key = NodeSecretKey.generate();
        NoiseStream s = Preface.connect(network.boundAddress(), Preface.Endpoint.GOSSIP, Duration.ofSeconds(5));
        try {
            Handshake.gossipOutbound(
                    s, key, CHAIN.genesis.hash(), NodeSecretKey.generate().publicKey(), false);
        } catch (HandshakeException expected) {
            // the server accepted us; we just did not know its key
        }
        TestNets.await(
                "connected",
                Duration.ofSeconds(5),
                () -> network.gossip().peers().contains(key.publicKey()));
        s.socket().setSoTimeout(100);
        return new Raw(s, key.publicKey());
    }
}
