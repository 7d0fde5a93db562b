package dev.tally.network;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tally.crypto.BlsPublicKey;
import dev.tally.crypto.BlsSecretKey;
import dev.tally.crypto.NodeSecretKey;
import dev.tally.network.proto.Net;
import dev.tally.protocol.GenesisHash;
import dev.tally.protocol.TestChain;
import dev.tally.protocol.proto.Validator;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import supranational.blst.P1;

/** The preface and both endpoint handshakes over real loopback sockets. */
class HandshakeTest {
    static final TestChain CHAIN = TestNets.chain();
    static final GenesisHash GENESIS = CHAIN.genesis.hash();
    static final GenesisHash OTHER_GENESIS = new TestChain(4, 5).genesis.hash();

    ServerSocket server;

    @BeforeEach
    void listen() throws IOException {
        server = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
    }

    @AfterEach
    void closeServer() throws IOException {
        server.close();
    }

    InetSocketAddress addr() {
        return (InetSocketAddress) server.getLocalSocketAddress();
    }

    /** Accepts one connection and runs the server side of the preface and then {@code body}. */
    <T> CompletableFuture<T> serve(ServerBody<T> body) {
        CompletableFuture<T> f = new CompletableFuture<>();
        Thread.ofVirtual().start(() -> {
            try (Socket s = server.accept()) {
                s.setSoTimeout(5000);
                Preface.Accepted a = Preface.accept(s);
                f.complete(body.run(a));
            } catch (Throwable t) {
                f.completeExceptionally(t);
            }
        });
        return f;
    }

    interface ServerBody<T> {
        T run(Preface.Accepted a) throws Exception;
    }

    static Throwable cause(CompletableFuture<?> f) throws InterruptedException {
        try {
            f.get(10, TimeUnit.SECONDS);
            return null;
        } catch (ExecutionException e) {
            return e.getCause();
        } catch (java.util.concurrent.TimeoutException e) {
            throw new AssertionError("server did not finish", e);
        }
    }

    @Test
    void gossipHandshakeAuthenticatesBothEnds() throws Exception {
        NodeSecretKey a = NodeSecretKey.generate();
        NodeSecretKey b = NodeSecretKey.generate();
        var srv = serve(acc -> {
            assertThat(acc.endpoint()).isEqualTo(Preface.Endpoint.GOSSIP);
            return Handshake.gossipInbound(acc.stream(), b, GENESIS, k -> false);
        });
        try (NoiseStream s = Preface.connect(addr(), Preface.Endpoint.GOSSIP, Duration.ofSeconds(5))) {
            Handshake.GossipPeer peer = Handshake.gossipOutbound(s, a, GENESIS, b.publicKey(), true);
            assertThat(peer.key()).isEqualTo(b.publicKey());
            assertThat(s.socket().getTcpNoDelay()).isTrue();
        }
        Handshake.GossipPeer seen = srv.get(5, TimeUnit.SECONDS);
        assertThat(seen.key()).isEqualTo(a.publicKey());
        assertThat(seen.isStatic()).isTrue();
    }

    @Test
    void consensusHandshakeAuthenticatesValidators() throws Exception {
        BlsSecretKey a = CHAIN.keys.get(0);
        BlsSecretKey b = CHAIN.keys.get(1);
        var srv = serve(acc ->
                Handshake.consensusInbound(acc.stream(), b, GENESIS, CHAIN.committee()::contains, TestNets.ALONE));
        try (NoiseStream s = Preface.connect(addr(), Preface.Endpoint.CONSENSUS, Duration.ofSeconds(5))) {
            assertThat(Handshake.consensusOutbound(s, a, GENESIS, b.publicKey(), TestNets.ALONE))
                    .isEqualTo(b.publicKey());
        }
        assertThat(srv.get(5, TimeUnit.SECONDS)).isEqualTo(a.publicKey());
    }

    @Test
    void wrongGenesisIsRefusedByBothSides() throws Exception {
        NodeSecretKey a = NodeSecretKey.generate();
        NodeSecretKey b = NodeSecretKey.generate();
        var srv = serve(acc -> Handshake.gossipInbound(acc.stream(), b, GENESIS, k -> false));
        try (NoiseStream s = Preface.connect(addr(), Preface.Endpoint.GOSSIP, Duration.ofSeconds(5))) {
            assertThatThrownBy(() -> Handshake.gossipOutbound(s, a, OTHER_GENESIS, b.publicKey(), false))
                    .isInstanceOf(IOException.class);
        }
        assertThat(cause(srv)).isInstanceOf(HandshakeException.class).hasMessageContaining("genesis mismatch");

        // And a consensus client on the right genesis refuses a server on another one.
        var srv2 = serve(acc ->
                Handshake.consensusInbound(acc.stream(), CHAIN.keys.get(1), OTHER_GENESIS, k -> true, TestNets.ALONE));
        try (NoiseStream s = Preface.connect(addr(), Preface.Endpoint.CONSENSUS, Duration.ofSeconds(5))) {
            assertThatThrownBy(() -> Handshake.consensusOutbound(
                            s, CHAIN.keys.get(0), GENESIS, CHAIN.keys.get(1).publicKey(), TestNets.ALONE))
                    .isInstanceOf(IOException.class);
        }
        assertThat(cause(srv2)).isInstanceOf(HandshakeException.class).hasMessageContaining("genesis mismatch");
    }

    @Test
    void forgedEndpointSignatureIsRefused() throws Exception {
        NodeSecretKey b = NodeSecretKey.generate();
        NodeSecretKey victim = NodeSecretKey.generate();
        NodeSecretKey attacker = NodeSecretKey.generate();
        var srv = serve(acc -> Handshake.gossipInbound(acc.stream(), b, GENESIS, k -> false));
        try (NoiseStream s = Preface.connect(addr(), Preface.Endpoint.GOSSIP, Duration.ofSeconds(5))) {
            // Claims the victim's key but signs with the attacker's.
            Net.NodeSigned forged = NetCodec.signSessionId(attacker, s.sessionId()).toBuilder()
                    .setKey(com.google.protobuf.ByteString.copyFrom(
                            victim.publicKey().bytes()))
                    .build();
            TestNets.writeFrame(
                    s,
                    Net.GossipHandshake.newBuilder()
                            .setSessionId(forged)
                            .setIsStatic(false)
                            .setGenesis(com.google.protobuf.ByteString.copyFrom(NetCodec.encode(GENESIS)))
                            .build()
                            .toByteArray());
            assertThatThrownBy(() -> Frames.read(s.in(), 1 << 20)).isInstanceOf(IOException.class);
        }
        assertThat(cause(srv)).isInstanceOf(HandshakeException.class).hasMessageContaining("bad node signature");
    }

    @Test
    void replayedSignatureFromAnotherSessionIsRefused() throws Exception {
        BlsSecretKey a = CHAIN.keys.get(0);
        var srv = serve(
                acc -> Handshake.consensusInbound(acc.stream(), CHAIN.keys.get(1), GENESIS, k -> true, TestNets.ALONE));
        try (NoiseStream s = Preface.connect(addr(), Preface.Endpoint.CONSENSUS, Duration.ofSeconds(5))) {
            byte[] otherSession = new byte[32];
            TestNets.writeFrame(
                    s,
                    Net.ConsensusHandshake.newBuilder()
                            .setSessionId(
                                    com.google.protobuf.ByteString.copyFrom(NetCodec.signSessionId(a, otherSession)))
                            .setGenesis(com.google.protobuf.ByteString.copyFrom(NetCodec.encode(GENESIS)))
                            .build()
                            .toByteArray());
        }
        assertThat(cause(srv)).isInstanceOf(HandshakeException.class).hasMessageContaining("session id mismatch");
    }

    @Test
    void aSessionSignatureOutsideTheSubgroupIsRefused() throws Exception {
        BlsSecretKey a = CHAIN.keys.get(0);
        var srv = serve(acc -> Handshake.consensusInbound(
                acc.stream(), CHAIN.keys.get(1), GENESIS, CHAIN.committee()::contains, TestNets.ALONE));
        try (NoiseStream s = Preface.connect(addr(), Preface.Endpoint.CONSENSUS, Duration.ofSeconds(5))) {
            // The valid signature plus a point of small order: decoded unchecked, refused by its verification.
            var signed = Validator.Signed.parseFrom(NetCodec.signSessionId(a, s.sessionId())).toBuilder();
            byte[] valid = signed.getSig().getBls12381().toByteArray();
            signed.getSigBuilder()
                    .setBls12381(com.google.protobuf.ByteString.copyFrom(
                            new P1(valid).add(TestChain.smallOrderPoint()).compress()));
            TestNets.writeFrame(
                    s,
                    Net.ConsensusHandshake.newBuilder()
                            .setSessionId(signed.build().toByteString())
                            .setGenesis(com.google.protobuf.ByteString.copyFrom(NetCodec.encode(GENESIS)))
                            .build()
                            .toByteArray());
        }
        assertThat(cause(srv)).isInstanceOf(HandshakeException.class).hasMessageContaining("bad validator signature");
    }

    @Test
    void unknownValidatorIsRefusedOnTheConsensusEndpoint() throws Exception {
        BlsSecretKey outsider = BlsSecretKey.fromSeed(new byte[32]);
        var srv = serve(acc -> Handshake.consensusInbound(
                acc.stream(), CHAIN.keys.get(1), GENESIS, CHAIN.committee()::contains, TestNets.ALONE));
        try (NoiseStream s = Preface.connect(addr(), Preface.Endpoint.CONSENSUS, Duration.ofSeconds(5))) {
            assertThatThrownBy(() -> Handshake.consensusOutbound(
                            s, outsider, GENESIS, CHAIN.keys.get(1).publicKey(), TestNets.ALONE))
                    .isInstanceOf(IOException.class);
        }
        assertThat(cause(srv)).isInstanceOf(HandshakeException.class).hasMessageContaining("not a validator");
    }

    @Test
    void clientRefusesAServerWithAnotherKey() throws Exception {
        BlsPublicKey expected = CHAIN.keys.get(2).publicKey();
        var srv = serve(
                acc -> Handshake.consensusInbound(acc.stream(), CHAIN.keys.get(1), GENESIS, k -> true, TestNets.ALONE));
        try (NoiseStream s = Preface.connect(addr(), Preface.Endpoint.CONSENSUS, Duration.ofSeconds(5))) {
            assertThatThrownBy(
                            () -> Handshake.consensusOutbound(s, CHAIN.keys.get(0), GENESIS, expected, TestNets.ALONE))
                    .isInstanceOf(HandshakeException.class)
                    .hasMessageContaining("unexpected peer");
        }
        srv.get(5, TimeUnit.SECONDS);
    }

    @Test
    void plaintextGarbageIsRefusedBeforeAllocating() throws Exception {
        var srv = serve(acc -> acc);
        try (Socket s = new Socket()) {
            s.connect(addr());
            // Declares a 2 GB preface frame.
            s.getOutputStream().write(new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, 0x7f, 1, 2, 3});
            s.getOutputStream().flush();
            assertThat(cause(srv)).isInstanceOf(ProtocolException.class).hasMessageContaining("exceeds the limit");
        }
    }
}
