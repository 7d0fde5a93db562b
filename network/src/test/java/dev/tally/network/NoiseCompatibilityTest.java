package dev.tally.network;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.southernstorm.noise.protocol.CipherState;
import com.southernstorm.noise.protocol.CipherStatePair;
import com.southernstorm.noise.protocol.HandshakeState;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.security.GeneralSecurityException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@link NoiseHandshake} and {@link NoiseCipher} against noise-java, which Tally used before
 * and which other nodes may still run: the same bytes on the wire, and sessions across the two in both roles.
 */
class NoiseCompatibilityTest {
    static final byte[] INITIATOR_KEY =
            HexFormat.of().parseHex("a8abababababababababababababababababababababababababababababab6b");
    static final byte[] RESPONDER_KEY =
            HexFormat.of().parseHex("c8cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd4d");
    static final int[] SIZES = {0, 1, 200, 4096, NoiseStream.MAX_PAYLOAD, 7, 65000};

    @Test
    void handshakeAndTransportAreByteForByteNoiseJavas() throws Exception {
        HandshakeState theirInitiator = noiseJava(HandshakeState.INITIATOR, INITIATOR_KEY);
        HandshakeState theirResponder = noiseJava(HandshakeState.RESPONDER, RESPONDER_KEY);
        var ourInitiator =
                new NoiseHandshake(NoiseHandshake.Role.INITIATOR, NoiseHandshake.Ephemeral.of(INITIATOR_KEY));
        var ourResponder =
                new NoiseHandshake(NoiseHandshake.Role.RESPONDER, NoiseHandshake.Ephemeral.of(RESPONDER_KEY));

        byte[] first = ourInitiator.writeMessage();
        assertThat(first).hasSize(32).isEqualTo(write(theirInitiator));
        ourResponder.readMessage(first, first.length);
        read(theirResponder, first);
        byte[] second = ourResponder.writeMessage();
        assertThat(second).hasSize(48).isEqualTo(write(theirResponder));
        ourInitiator.readMessage(second, second.length);
        read(theirInitiator, second);

        assertThat(theirInitiator.getAction()).isEqualTo(HandshakeState.SPLIT);
        assertThat(ourInitiator.done()).isTrue();
        byte[] hash = theirInitiator.getHandshakeHash().clone();
        assertThat(ourInitiator.handshakeHash()).isEqualTo(hash);
        assertThat(ourResponder.handshakeHash()).isEqualTo(hash);
        assertThat(theirResponder.getHandshakeHash()).isEqualTo(hash);

        CipherStatePair theirI = theirInitiator.split();
        CipherStatePair theirR = theirResponder.split();
        NoiseHandshake.Ciphers ourI = ourInitiator.split();
        NoiseHandshake.Ciphers ourR = ourResponder.split();
        Random random = new Random(7);
        for (int size : SIZES) {
            byte[] plain = new byte[size];
            random.nextBytes(plain);
            // initiator -> responder: our ciphertext is theirs; each side opens the other's
            byte[] ours = seal(ourI.sender(), plain);
            assertThat(ours).isEqualTo(seal(theirI.getSender(), plain));
            assertThat(open(theirR.getReceiver(), ours)).isEqualTo(plain);
            assertThat(open(ourR.receiver(), ours)).isEqualTo(plain);
            // responder -> initiator
            byte[] back = seal(ourR.sender(), plain);
            assertThat(back).isEqualTo(seal(theirR.getSender(), plain));
            assertThat(open(theirI.getReceiver(), back)).isEqualTo(plain);
            assertThat(open(ourI.receiver(), back)).isEqualTo(plain);
        }
    }

    /** A NoiseStream against a noise-java peer over loopback, with the NoiseStream in either role. */
    @ParameterizedTest
    @EnumSource(NoiseHandshake.Role.class)
    void streamTalksToNoiseJava(NoiseHandshake.Role ours) throws Exception {
        try (Pair p = Pair.connect(ours)) {
            assertThat(p.stream.sessionId()).isEqualTo(p.peer.sessionId);
            byte[] big = new byte[100_000]; // two transport messages
            new Random(3).nextBytes(big);
            p.stream.out().write("hello".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            p.stream.out().write(big);
            p.stream.out().flush();
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            while (got.size() < 5 + big.length) {
                got.write(p.peer.receive());
            }
            byte[] all = got.toByteArray();
            assertThat(new String(all, 0, 5, java.nio.charset.StandardCharsets.US_ASCII))
                    .isEqualTo("hello");
            assertThat(Arrays.copyOfRange(all, 5, all.length)).isEqualTo(big);

            p.peer.send(big, 0, NoiseStream.MAX_PAYLOAD);
            p.peer.send(big, NoiseStream.MAX_PAYLOAD, 3);
            byte[] in = new byte[NoiseStream.MAX_PAYLOAD + 3];
            NoiseStream.readFully(p.stream.in(), in, 0, in.length);
            assertThat(in).isEqualTo(Arrays.copyOf(big, in.length));
        }
    }

    @Test
    void transportMessageShorterThanItsMacIsRefused() throws Exception {
        try (Pair p = Pair.connect(NoiseHandshake.Role.INITIATOR)) {
            p.peer.raw(new byte[NoiseStream.MAC_LENGTH - 1]);
            assertThatThrownBy(() -> p.stream.in().read())
                    .isInstanceOf(ProtocolException.class)
                    .hasMessageContaining("noise message of 15 bytes is shorter than its MAC");
        }
    }

    @Test
    void transportMessageWithABadMacIsRefused() throws Exception {
        try (Pair p = Pair.connect(NoiseHandshake.Role.RESPONDER)) {
            byte[] sealed = seal(p.peer.ciphers.getSender(), new byte[] {1, 2, 3});
            sealed[sealed.length - 1] ^= 1;
            p.peer.raw(sealed);
            assertThatThrownBy(() -> p.stream.in().read())
                    .isInstanceOf(ProtocolException.class)
                    .hasMessageContaining("noise message does not decrypt");
        }
    }

    @Test
    void failedDecryptionKeepsTheNonce() throws Exception {
        byte[] key = new byte[32];
        NoiseCipher sender = new NoiseCipher(key);
        NoiseCipher receiver = new NoiseCipher(key);
        byte[] sealed = seal(sender, new byte[] {4, 5});
        byte[] forged = sealed.clone();
        forged[0] ^= 1;
        assertThatThrownBy(() -> open(receiver, forged)).isInstanceOf(javax.crypto.AEADBadTagException.class);
        assertThat(open(receiver, sealed)).containsExactly(4, 5);
    }

    @Test
    void theReservedNonceEndsTheSession() throws Exception {
        byte[] key = new byte[32];
        NoiseCipher sender = new NoiseCipher(key, -2L); // 2^64 - 2: the last nonce that may be used
        NoiseCipher receiver = new NoiseCipher(key, -2L);
        assertThat(open(receiver, seal(sender, new byte[] {9}))).containsExactly(9);
        assertThatThrownBy(() -> seal(sender, new byte[] {9}))
                .isInstanceOf(GeneralSecurityException.class)
                .hasMessageContaining("noise nonce exhausted");
        assertThatThrownBy(() -> open(receiver, new byte[17]))
                .isInstanceOf(GeneralSecurityException.class)
                .hasMessageContaining("noise nonce exhausted");
    }

    @Test
    void oversizedHandshakeMessageIsRefused() {
        assertThatThrownBy(() -> handshake(NoiseHandshake.Role.RESPONDER, new byte[] {(byte) 0x2c, 0x01}))
                .isInstanceOf(HandshakeException.class)
                .hasMessageContaining("noise handshake message of 300 bytes is too large");
    }

    @Test
    void handshakeMessageWithoutAKeyIsRefused() {
        assertThatThrownBy(() -> handshake(NoiseHandshake.Role.RESPONDER, framed(new byte[31])))
                .isInstanceOf(HandshakeException.class)
                .hasMessageContaining("31 bytes lacks an ephemeral key");
    }

    @Test
    void handshakeMessageWithAPayloadIsRefused() {
        byte[] m = Arrays.copyOf(publicKey(INITIATOR_KEY), 40);
        assertThatThrownBy(() -> handshake(NoiseHandshake.Role.RESPONDER, framed(m)))
                .isInstanceOf(HandshakeException.class)
                .hasMessageContaining("unexpected payload");
    }

    @Test
    void responseWithABadMacIsRefused() {
        byte[] m = Arrays.copyOf(publicKey(RESPONDER_KEY), 48); // a MAC of zeros
        assertThatThrownBy(() -> handshake(NoiseHandshake.Role.INITIATOR, framed(m)))
                .isInstanceOf(HandshakeException.class)
                .hasMessageContaining("noise handshake failed");
    }

    @Test
    void lowOrderEphemeralKeyIsRefused() {
        // u = 0 and u = 1 (and their non-canonical forms) give an all-zero shared secret
        byte[] one = new byte[48];
        one[0] = 1;
        assertThatThrownBy(() -> handshake(NoiseHandshake.Role.INITIATOR, framed(one)))
                .isInstanceOf(HandshakeException.class)
                .hasMessageContaining("bad ephemeral key");
    }

    @Test
    void ephemeralKeysAreRfc7748s() {
        // RFC 7748, section 6.1: Alice's key pair.
        byte[] secret = HexFormat.of().parseHex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
        assertThat(HexFormat.of().formatHex(NoiseHandshake.Ephemeral.of(secret).publicKey()))
                .isEqualTo("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
    }

    static byte[] publicKey(byte[] scalar) {
        return NoiseHandshake.Ephemeral.of(scalar).publicKey();
    }

    /** A handshake in the given role whose peer sends {@code input}. */
    static void handshake(NoiseHandshake.Role role, byte[] input) throws IOException {
        NoiseStream.handshake(null, new ByteArrayInputStream(input), new ByteArrayOutputStream(), role);
    }

    static byte[] framed(byte[] m) {
        byte[] f = new byte[m.length + 2];
        f[0] = (byte) m.length;
        f[1] = (byte) (m.length >>> 8);
        System.arraycopy(m, 0, f, 2, m.length);
        return f;
    }

    static HandshakeState noiseJava(int role, byte[] ephemeral) throws Exception {
        HandshakeState hs = new HandshakeState(NoiseStream.PROTOCOL, role);
        if (ephemeral != null) {
            hs.getFixedEphemeralKey().setPrivateKey(ephemeral, 0);
        }
        hs.start();
        return hs;
    }

    static byte[] write(HandshakeState hs) throws Exception {
        assertThat(hs.getAction()).isEqualTo(HandshakeState.WRITE_MESSAGE);
        byte[] buf = new byte[NoiseStream.MAX_HANDSHAKE_MESSAGE];
        return Arrays.copyOf(buf, hs.writeMessage(buf, 0, new byte[0], 0, 0));
    }

    static void read(HandshakeState hs, byte[] m) throws Exception {
        assertThat(hs.getAction()).isEqualTo(HandshakeState.READ_MESSAGE);
        assertThat(hs.readMessage(m, 0, m.length, new byte[NoiseStream.MAX_HANDSHAKE_MESSAGE], 0))
                .isZero();
    }

    static byte[] seal(NoiseCipher c, byte[] plain) throws GeneralSecurityException {
        byte[] out = new byte[plain.length + NoiseCipher.MAC_LENGTH];
        assertThat(c.encryptWithAd(new byte[0], plain, 0, plain.length, out, 0)).isEqualTo(out.length);
        return out;
    }

    static byte[] open(NoiseCipher c, byte[] sealed) throws GeneralSecurityException {
        byte[] out = new byte[Math.max(0, sealed.length - NoiseCipher.MAC_LENGTH)];
        assertThat(c.decryptWithAd(new byte[0], sealed, 0, sealed.length, out, 0))
                .isEqualTo(out.length);
        return out;
    }

    static byte[] seal(CipherState c, byte[] plain) throws GeneralSecurityException {
        byte[] out = new byte[plain.length + c.getMACLength()];
        assertThat(c.encryptWithAd(null, plain, 0, out, 0, plain.length)).isEqualTo(out.length);
        return out;
    }

    static byte[] open(CipherState c, byte[] sealed) throws GeneralSecurityException {
        byte[] out = new byte[sealed.length - c.getMACLength()];
        assertThat(c.decryptWithAd(null, sealed, 0, out, 0, sealed.length)).isEqualTo(out.length);
        return out;
    }

    /** The far end of a session, on noise-java: handshake messages and transport messages framed as NoiseStream. */
    record Peer(Socket socket, InputStream in, OutputStream out, CipherStatePair ciphers, byte[] sessionId) {
        static Peer handshake(Socket socket, int role) throws Exception {
            InputStream in = socket.getInputStream();
            OutputStream out = socket.getOutputStream();
            HandshakeState hs = noiseJava(role, null);
            while (hs.getAction() != HandshakeState.SPLIT) {
                if (hs.getAction() == HandshakeState.WRITE_MESSAGE) {
                    out.write(framed(write(hs)));
                    out.flush();
                } else {
                    byte[] m = new byte[NoiseStream.readLength(in)];
                    NoiseStream.readFully(in, m, 0, m.length);
                    read(hs, m);
                }
            }
            byte[] id = hs.getHandshakeHash().clone();
            return new Peer(socket, in, out, hs.split(), id);
        }

        void raw(byte[] message) throws IOException {
            out.write(framed(message));
            out.flush();
        }

        void send(byte[] b, int off, int len) throws Exception {
            raw(seal(ciphers.getSender(), Arrays.copyOfRange(b, off, off + len)));
        }

        byte[] receive() throws Exception {
            byte[] m = new byte[NoiseStream.readLength(in)];
            NoiseStream.readFully(in, m, 0, m.length);
            return open(ciphers.getReceiver(), m);
        }
    }

    /** Our stream and a noise-java peer, connected over loopback. */
    record Pair(ServerSocket server, NoiseStream stream, Peer peer) implements AutoCloseable {
        static Pair connect(NoiseHandshake.Role ours) throws Exception {
            ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
            Socket client = new Socket(InetAddress.getLoopbackAddress(), server.getLocalPort());
            Socket accepted = server.accept();
            boolean initiator = ours == NoiseHandshake.Role.INITIATOR;
            Socket mine = initiator ? client : accepted;
            Socket theirs = initiator ? accepted : client;
            int theirRole = initiator ? HandshakeState.RESPONDER : HandshakeState.INITIATOR;
            var peer = CompletableFuture.supplyAsync(() -> {
                try {
                    return Peer.handshake(theirs, theirRole);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            NoiseStream stream = NoiseStream.handshake(mine, ours);
            return new Pair(server, stream, peer.get(10, TimeUnit.SECONDS));
        }

        @Override
        public void close() throws IOException {
            stream.close();
            peer.socket.close();
            server.close();
        }
    }
}
