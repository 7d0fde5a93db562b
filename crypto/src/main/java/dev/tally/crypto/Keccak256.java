package dev.tally.crypto;

import java.nio.ByteBuffer;
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

    /** A digest fed in pieces (e.g. the chunks of a protobuf {@code ByteString}, without copying them together). */
    public static Hasher hasher() {
        return new Hasher();
    }

    /** keccak-256 over the bytes given to {@link #update}, in order. Not thread-safe; one digest each. */
    public static final class Hasher {
        private final KeccakDigest digest = new KeccakDigest(256);
        private final byte[] scratch = new byte[8 * 1024];

        private Hasher() {}

        public Hasher update(byte[] data, int offset, int length) {
            digest.update(data, offset, length);
            return this;
        }

        public Hasher update(ByteBuffer data) {
            if (data.hasArray()) {
                digest.update(data.array(), data.arrayOffset() + data.position(), data.remaining());
                data.position(data.limit());
            } else {
                while (data.hasRemaining()) {
                    int n = Math.min(scratch.length, data.remaining());
                    data.get(scratch, 0, n);
                    digest.update(scratch, 0, n);
                }
            }
            return this;
        }

        public Keccak256 digest() {
            byte[] out = new byte[LENGTH];
            digest.doFinal(out, 0);
            return new Keccak256(out);
        }
    }

    @Override
    public String toString() {
        return "keccak256:" + hex();
    }
}
