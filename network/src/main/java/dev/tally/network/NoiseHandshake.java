package dev.tally.network;

import java.security.GeneralSecurityException;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.bouncycastle.math.ec.rfc7748.X25519;

/**
 * The handshake of {@value NoiseStream#PROTOCOL} (Noise spec rev 34, sections 5.2 and 5.3, pattern NN with an empty
 * prologue and empty payloads) on BouncyCastle's X25519 and the JDK's SHA-256 and HMAC-SHA256:
 *
 * <pre>
 *   -> e          32 bytes: the initiator's ephemeral key
 *   <- e, ee      48 bytes: the responder's ephemeral key, then the MAC of the empty payload
 * </pre>
 *
 * The initiator writes then reads, the responder reads then writes; then {@link #split()} gives the transport
 * ciphers and {@link #handshakeHash()} the session's hash. Any deviation throws {@link HandshakeException}.
 */
final class NoiseHandshake {
    enum Role {
        INITIATOR,
        RESPONDER
    }

    /** The transport ciphers of one end. */
    record Ciphers(NoiseCipher sender, NoiseCipher receiver) {}

    /** An ephemeral X25519 key pair in raw form: 32-byte scalar, 32-byte u-coordinate (both little-endian). */
    record Ephemeral(byte[] secret, byte[] publicKey) {
        /** The key pair of a given scalar: its public key is X25519(k, 9). */
        static Ephemeral of(byte[] secret) {
            byte[] publicKey = new byte[DH_LENGTH];
            X25519.generatePublicKey(secret, 0, publicKey, 0);
            return new Ephemeral(secret.clone(), publicKey);
        }

        static Ephemeral generate() {
            byte[] secret = new byte[DH_LENGTH];
            X25519.generatePrivateKey(RANDOM, secret);
            return of(secret);
        }
    }

    private static final SecureRandom RANDOM = new SecureRandom();

    static final int DH_LENGTH = 32;
    private static final int HASH_LENGTH = 32;

    private final Role role;
    private final Ephemeral ephemeral;
    private final MessageDigest sha256;
    private final Mac hmac;
    private byte[] h; // the handshake hash
    private byte[] ck; // the chaining key
    private NoiseCipher cipher; // none until the first MixKey
    private byte[] peerEphemeral;
    private int step; // messages written or read so far

    NoiseHandshake(Role role) {
        this(role, Ephemeral.generate());
    }

    /** A handshake whose ephemeral key is given: for tests that compare bytes with another implementation. */
    NoiseHandshake(Role role, Ephemeral ephemeral) {
        this.role = role;
        this.ephemeral = ephemeral;
        try {
            this.sha256 = MessageDigest.getInstance("SHA-256");
            this.hmac = Mac.getInstance("HmacSHA256");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JDK lacks SHA-256 or HMAC-SHA256", e);
        }
        // The protocol name is exactly HASHLEN bytes, so it is h itself (no padding, no hash).
        byte[] name = NoiseStream.PROTOCOL.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        this.h = Arrays.copyOf(name, HASH_LENGTH);
        this.ck = h.clone();
        mixHash(new byte[0]); // the empty prologue
    }

    /** True when this end writes the next message. */
    boolean writesNext() {
        return (step == 0) == (role == Role.INITIATOR);
    }

    boolean done() {
        return step == 2;
    }

    /** The next message of this end: {@code e} (initiator) or {@code e, ee} and the empty payload's MAC (responder). */
    byte[] writeMessage() throws HandshakeException {
        if (done() || !writesNext()) {
            throw new IllegalStateException("not this end's turn to write");
        }
        byte[] e = ephemeral.publicKey().clone();
        mixHash(e);
        if (role == Role.RESPONDER) {
            mixKey(dh(peerEphemeral));
        }
        byte[] payload = encryptAndHash();
        step++;
        byte[] m = Arrays.copyOf(e, e.length + payload.length);
        System.arraycopy(payload, 0, m, e.length, payload.length);
        return m;
    }

    /** Reads the peer's message ({@code len} bytes of {@code m}), whose payload must be empty. */
    void readMessage(byte[] m, int len) throws HandshakeException {
        if (done() || writesNext()) {
            throw new IllegalStateException("not this end's turn to read");
        }
        if (len < DH_LENGTH) {
            throw new HandshakeException("noise handshake message of " + len + " bytes lacks an ephemeral key");
        }
        peerEphemeral = Arrays.copyOf(m, DH_LENGTH);
        mixHash(peerEphemeral);
        if (role == Role.INITIATOR) {
            mixKey(dh(peerEphemeral));
        }
        decryptAndHash(Arrays.copyOfRange(m, DH_LENGTH, len));
        step++;
    }

    /** The handshake hash: the session id, the same at both ends. */
    byte[] handshakeHash() {
        return h.clone();
    }

    /** Split: the initiator sends with the first key, the responder with the second. */
    Ciphers split() {
        if (!done()) {
            throw new IllegalStateException("noise handshake not finished");
        }
        byte[][] k = hkdf(ck, new byte[0]);
        NoiseCipher first = new NoiseCipher(k[0]);
        NoiseCipher second = new NoiseCipher(k[1]);
        return role == Role.INITIATOR ? new Ciphers(first, second) : new Ciphers(second, first);
    }

    private void mixHash(byte[] data) {
        sha256.update(h);
        sha256.update(data);
        h = sha256.digest();
    }

    private void mixKey(byte[] inputKeyMaterial) {
        byte[][] k = hkdf(ck, inputKeyMaterial);
        ck = k[0];
        cipher = new NoiseCipher(k[1]);
    }

    /** EncryptAndHash of the empty payload: nothing before the first MixKey, else its MAC. */
    private byte[] encryptAndHash() throws HandshakeException {
        byte[] c = new byte[0];
        if (cipher != null) {
            c = new byte[NoiseCipher.MAC_LENGTH];
            try {
                cipher.encryptWithAd(h, c, 0, 0, c, 0);
            } catch (GeneralSecurityException e) {
                throw new HandshakeException("noise handshake failed: " + e.getMessage(), e);
            }
        }
        mixHash(c);
        return c;
    }

    private void decryptAndHash(byte[] c) throws HandshakeException {
        int payload = c.length;
        if (cipher != null) {
            try {
                payload = cipher.decryptWithAd(h, c, 0, c.length, new byte[c.length], 0);
            } catch (GeneralSecurityException e) {
                throw new HandshakeException("noise handshake failed: " + e.getMessage(), e);
            }
        }
        if (payload != 0) {
            throw new HandshakeException("noise handshake message carries an unexpected payload");
        }
        mixHash(c);
    }

    /** HKDF of the Noise spec (section 4.3) with two outputs. */
    private byte[][] hkdf(byte[] chainingKey, byte[] inputKeyMaterial) {
        byte[] temp = hmac(chainingKey, inputKeyMaterial);
        byte[] out1 = hmac(temp, new byte[] {1});
        byte[] in2 = Arrays.copyOf(out1, HASH_LENGTH + 1);
        in2[HASH_LENGTH] = 2;
        return new byte[][] {out1, hmac(temp, in2)};
    }

    private byte[] hmac(byte[] key, byte[] data) {
        try {
            hmac.init(new SecretKeySpec(key, "HmacSHA256"));
        } catch (InvalidKeyException e) {
            throw new IllegalStateException(e);
        }
        return hmac.doFinal(data);
    }

    /**
     * X25519 with the peer's key as RFC 7748 reads it (the top bit ignored, a u of p or more taken mod p). A low-order
     * point, whose shared secret is all zeros, is refused.
     */
    private byte[] dh(byte[] peerPublic) throws HandshakeException {
        byte[] shared = new byte[DH_LENGTH];
        if (!X25519.calculateAgreement(ephemeral.secret(), 0, peerPublic, 0, shared, 0)) {
            throw new HandshakeException("noise handshake failed: bad ephemeral key: a low-order point");
        }
        return shared;
    }
}
