package dev.tally.crypto;

import org.bouncycastle.math.ec.rfc8032.Ed25519;

/**
 * A node's Ed25519 public key. Decoding rejects non-canonical encodings and small-order points, and
 * verification is strict (canonical S, non-small-order R), as the reference's `verify_strict`.
 */
public final class NodePublicKey extends FixedBytes {
    public static final String TEXT_PREFIX = "node:public:ed25519:";

    private NodePublicKey(byte[] bytes) {
        super(bytes, Ed25519.PUBLIC_KEY_SIZE, "Ed25519 public key");
    }

    public static NodePublicKey fromBytes(byte[] bytes) {
        NodePublicKey k = new NodePublicKey(bytes);
        if (!Ed25519.validatePublicKeyFull(bytes, 0)) {
            throw new InvalidEncodingException("Ed25519 public key is not a valid point of prime order");
        }
        return k;
    }

    public static NodePublicKey fromText(String text) {
        return fromBytes(TextFormat.decode(TEXT_PREFIX, text));
    }

    public String toText() {
        return TextFormat.encode(TEXT_PREFIX, raw());
    }

    public boolean verify(byte[] message, NodeSignature signature) {
        byte[] sig = signature.bytes();
        // Strictness: a small-order R would make the signature valid for several keys.
        if (!Ed25519.validatePublicKeyFull(sig, 0)) {
            return false;
        }
        return Ed25519.verify(sig, 0, raw(), 0, message, 0, message.length);
    }

    @Override
    public String toString() {
        return "node:" + hex().substring(0, 16);
    }
}
