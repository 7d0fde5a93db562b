package dev.tally.crypto;

import java.security.SecureRandom;
import java.util.Arrays;
import org.bouncycastle.math.ec.rfc8032.Ed25519;

/** A node's Ed25519 secret key: its identity on the network. */
public final class NodeSecretKey {
    public static final String TEXT_PREFIX = "node:secret:ed25519:";

    private final byte[] seed;
    private final NodePublicKey publicKey;

    private NodeSecretKey(byte[] seed) {
        if (seed.length != Ed25519.SECRET_KEY_SIZE) {
            throw new InvalidEncodingException("Ed25519 secret key must be 32 bytes, got " + seed.length);
        }
        this.seed = seed.clone();
        byte[] pk = new byte[Ed25519.PUBLIC_KEY_SIZE];
        Ed25519.generatePublicKey(this.seed, 0, pk, 0);
        this.publicKey = NodePublicKey.fromBytes(pk);
    }

    public static NodeSecretKey generate() {
        byte[] seed = new byte[Ed25519.SECRET_KEY_SIZE];
        new SecureRandom().nextBytes(seed);
        return new NodeSecretKey(seed);
    }

    public static NodeSecretKey fromBytes(byte[] seed) {
        return new NodeSecretKey(seed);
    }

    public static NodeSecretKey fromText(String text) {
        return new NodeSecretKey(TextFormat.decode(TEXT_PREFIX, text));
    }

    public String toText() {
        return TextFormat.encode(TEXT_PREFIX, seed);
    }

    public NodePublicKey publicKey() {
        return publicKey;
    }

    public NodeSignature sign(byte[] message) {
        byte[] sig = new byte[Ed25519.SIGNATURE_SIZE];
        Ed25519.sign(seed, 0, message, 0, message.length, sig, 0);
        return new NodeSignature(sig);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof NodeSecretKey k && Arrays.equals(seed, k.seed);
    }

    @Override
    public int hashCode() {
        return publicKey.hashCode();
    }

    @Override
    public String toString() {
        return "NodeSecretKey(" + publicKey + ")";
    }
}
