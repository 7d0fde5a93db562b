package dev.tally.network;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.tally.crypto.BlsPublicKey;
import dev.tally.crypto.NodeSecretKey;
import dev.tally.protocol.TestChain;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * Consensus messages as one-way frames (docs/adr/0006): the frames on a connection, and a committee that mixes three
 * builds: before the stream endpoint (consensus messages only as RPCs), before the duplex one (docs/adr/0008), and
 * this one.
 */
class OneWayMessageTest {
    static final RpcConfig RPC = RpcConfig.defaults(1 << 20, 1 << 16);
    static final String FELL_BACK = "closed the connection unanswered on the";

    final ListAppender<ILoggingEvent> meshLog = new ListAppender<>();
    final Logger meshLogger = (Logger) LoggerFactory.getLogger(ConsensusMesh.class);

    @BeforeEach
    void captureMeshLog() {
        meshLog.start();
        meshLogger.addAppender(meshLog);
        meshLogger.setLevel(Level.INFO); // the tests' logback configuration logs warnings only
        meshLogger.setAdditive(false);
    }

    @AfterEach
    void releaseMeshLog() {
        meshLogger.detachAppender(meshLog);
        meshLogger.setLevel(null);
        meshLogger.setAdditive(true);
    }

    long logged(String text) {
        return List.copyOf(meshLog.list).stream()
                .filter(e -> e.getFormattedMessage().contains(text))
                .count();
    }

    /**
     * A Noise session over loopback: the client's raw stream, and the server's {@link Connection}, which takes
     * consensus messages as frames with {@code handler}.
     */
    record Pair(NoiseStream client, Connection receiver) implements AutoCloseable {
        @Override
        public void close() throws java.io.IOException {
            client.close();
            receiver.close();
        }
    }

    static Pair pair(Connection.MessageHandler handler) throws Exception {
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            CompletableFuture<NoiseStream> accepted = CompletableFuture.supplyAsync(() -> {
                try {
                    return NoiseStream.server(server.accept());
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            NoiseStream client = NoiseStream.client(new Socket(server.getInetAddress(), server.getLocalPort()));
            Connection receiver = new Connection(
                            "receiver", accepted.get(5, TimeUnit.SECONDS), RPC, Map.of(), null, null)
                    .serveMessages(Rpc.CONSENSUS, handler)
                    .start();
            return new Pair(client, receiver);
        }
    }

    @Test
    void messagesArriveInOrderWithoutAnAnswerAndFreeTheirSlotOnceWritten() throws Exception {
        List<Integer> got = new CopyOnWriteArrayList<>();
        AtomicInteger written = new AtomicInteger();
        try (Pair p = pair(m -> got.add((int) m[0]));
                Connection sender = new Connection("sender", p.client(), RPC, Map.of(), null, null).start()) {
            for (int i = 0; i < 100; i++) {
                // Three slots: the 4th and later wait until the writer has written an earlier one.
                assertThat(sender.reserve(Rpc.CONSENSUS, Duration.ofSeconds(5))).isTrue();
                sender.sendReserved(Rpc.CONSENSUS, new byte[] {(byte) i}, written::incrementAndGet);
            }
            TestNets.await("100 messages", Duration.ofSeconds(10), () -> got.size() == 100);
            assertThat(got)
                    .isEqualTo(java.util.stream.IntStream.range(0, 100).boxed().toList());
            TestNets.await("written", Duration.ofSeconds(5), () -> written.get() == 100);
            for (int i = 0; i < Rpc.CONSENSUS.inflight(); i++) {
                assertThat(sender.reserve(Rpc.CONSENSUS, Duration.ZERO))
                        .as("slot %d free again", i)
                        .isTrue();
            }
            assertThat(p.receiver().isOpen()).isTrue();
        }
    }

    /** Sends one application frame and returns why the receiver closed the connection. */
    static String receiverClosesOn(byte kind, Rpc rpc, int callId, byte[] body, Connection.MessageHandler handler)
            throws Exception {
        try (Pair p = pair(handler)) {
            try {
                RpcLimitsTest.appFrame(
                        new RpcLimitsTest.Raw(p.client(), null), kind, rpc.id(), callId, body.length, body);
            } catch (java.net.SocketException e) {
                // the receiver closed before the whole frame was written: refused at its header
            }
            return p.receiver().closed().get(5, TimeUnit.SECONDS);
        }
    }

    @Test
    void aBadMessageFrameClosesTheConnectionNamingTheProblem() throws Exception {
        long max = RPC.limit(Rpc.CONSENSUS).maxRequestBytes();
        Connection.MessageHandler taken = m -> {};
        assertThat(receiverClosesOn(Connection.MESSAGE, Rpc.CONSENSUS, 0, new byte[(int) max + 1], taken))
                .contains("consensus message of " + (max + 1) + " bytes exceeds the limit of " + max);
        assertThat(receiverClosesOn(Connection.MESSAGE, Rpc.CONSENSUS, 7, new byte[1], taken))
                .contains("consensus message with call id 7, not 0");
        assertThat(receiverClosesOn(Connection.MESSAGE, Rpc.GET_BLOCK, 0, new byte[1], taken))
                .contains("message for get_block, which this endpoint does not take as messages");
        assertThat(receiverClosesOn(Connection.MESSAGE, Rpc.CONSENSUS, 0, new byte[1], m -> {
                    throw new IllegalArgumentException("not a consensus message");
                }))
                .contains("consensus message rejected: not a consensus message");
        // The same connection takes consensus messages only as frames, not as requests.
        assertThat(receiverClosesOn(Connection.REQUEST, Rpc.CONSENSUS, 1, new byte[1], taken))
                .contains("request for consensus, which this endpoint does not serve");
    }

    static final int N = 4;

    @Test
    // `net` is never named in the body: it is open, dialling, for exactly as long as the body runs.
    @SuppressWarnings("try")
    void aPeerThatCannotBeReachedIsNotTriedOnTheOtherEndpoint() throws Exception {
        TestChain chain = new TestChain(2);
        InetSocketAddress nobody = LoopbackPorts.freeAddress();
        try (Network net = Network.start(
                TestNets.config(NodeSecretKey.generate(), chain)
                        .validatorKey(chain.keys.get(0))
                        .validatorAddress(chain.keys.get(1).publicKey(), nobody)
                        .build(),
                new TestNets.MemoryStore(0),
                new TestNets.MemoryStore(0),
                TestNets.NO_TXS)) {
            TestNets.await("two refused dials", Duration.ofSeconds(10), () -> logged("Connection refused") >= 2);
            assertThat(logged(FELL_BACK))
                    .as("refused connections taken for an older build")
                    .isZero();
        }
    }

    @Test
    void aCommitteeMixingThreeBuildsExchangesEveryMessage() throws Exception {
        TestChain chain = new TestChain(N);
        List<InetSocketAddress> addrs = new ArrayList<>();
        for (int i = 0; i < N; i++) {
            addrs.add(LoopbackPorts.freeAddress());
        }
        // Validators 0 and 1 run this build, 2 one before the duplex endpoint, 3 one before the stream endpoint.
        Network[] nets = new Network[N];
        try {
            for (int i = 0; i < N; i++) {
                // A grace (reconnect max and handshake timeout) far beyond the mesh's wait: this build dials a
                // validator of an earlier one at once, seeing its connection, rather than waiting for a shared one.
                var b = TestNets.config(NodeSecretKey.generate(), chain)
                        .reconnect(Duration.ofMillis(50), Duration.ofSeconds(60))
                        .listen(addrs.get(i))
                        .validatorKey(chain.keys.get(i));
                for (int j = 0; j < N; j++) {
                    b.validatorAddress(chain.keys.get(j).publicKey(), addrs.get(j));
                }
                if (i >= 2) {
                    b.newestConsensusEndpoint(i == 2 ? Preface.Endpoint.CONSENSUS_STREAM : Preface.Endpoint.CONSENSUS);
                }
                nets[i] = Network.start(
                        b.build(), new TestNets.MemoryStore(0), new TestNets.MemoryStore(0), TestNets.NO_TXS);
            }
            for (int i = 0; i < N; i++) {
                ConsensusMesh mesh = nets[i].consensus().orElseThrow();
                TestNets.await(
                        "full mesh at " + i,
                        Duration.ofSeconds(20),
                        () -> mesh.links().sendingTo().size() == N - 1
                                && mesh.links().receivingFrom().size() == N - 1);
            }
            BlsPublicKey[] keys = chain.keys.stream().map(k -> k.publicKey()).toArray(BlsPublicKey[]::new);
            assertThat(nets[0].consensus().orElseThrow().links().sendingOneWay())
                    .containsExactlyInAnyOrder(keys[1], keys[2]);
            assertThat(nets[1].consensus().orElseThrow().links().sendingOneWay())
                    .containsExactlyInAnyOrder(keys[0], keys[2]);
            assertThat(nets[2].consensus().orElseThrow().links().sendingOneWay())
                    .containsExactlyInAnyOrder(keys[0], keys[1]);
            assertThat(nets[3].consensus().orElseThrow().links().sendingOneWay())
                    .isEmpty();
            // Only 0 and 1 share a connection (0 dials it: 1 is next after it); every other pair has two.
            assertThat(nets[0].consensus().orElseThrow().links().sendingOnTheirConnection())
                    .isEmpty();
            assertThat(nets[1].consensus().orElseThrow().links().sendingOnTheirConnection())
                    .containsExactly(keys[0]);
            assertThat(nets[0].consensus().orElseThrow().links().connections()).isEqualTo(5);
            assertThat(nets[2].consensus().orElseThrow().links().connections()).isEqualTo(6);
            // 0 and 1 fall back once to 2 and twice to 3, 2 once to 3.
            assertThat(logged(FELL_BACK)).as("fall-backs logged").isGreaterThanOrEqualTo(7);

            TestNets.everyVoteReachesEveryValidator(chain, nets);
        } finally {
            for (Network n : nets) {
                if (n != null) {
                    n.close();
                }
            }
        }
    }
}
