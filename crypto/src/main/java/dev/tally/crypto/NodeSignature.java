package dev.tally.crypto;

import org.bouncycastle.math.ec.rfc8032.Ed25519;

/** An Ed25519 signature by a node key. */
public final class NodeSignature extends FixedBytes {
    public NodeSignature(byte[] bytes) {
        super(bytes, Ed25519.SIGNATURE_SIZE, "Ed25519 signature");
    }
}
