package dev.tally.crypto;

import org.bouncycastle.crypto.digests.KeccakDigest;

/** A keccak-256 digest (the original Keccak padding, as in Ethereum; not SHA3-256). */
public final class Keccak256 extends FixedBytes {
    public static final int LENGTH = 32;

    public Keccak256(byte[] digest) {
        super(digest, LENGTH, "keccak-256 digest");
    }

    public static Keccak256 of(byte[] data) {
        return of(data, 0, data.length);
    }

    public static Keccak256 of(byte[] data, int offset, int length) {
        KeccakDigest d = new KeccakDigest(256);
        d.update(data, offset, length);
        byte[] out = new byte[LENGTH];
        d.doFinal(out, 0);
        return new Keccak256(out);
    }

    @Override
    public String toString() {
        return "keccak256:" + hex();
    }
}
