package dev.tally.protocol;

import com.google.protobuf.ByteOutput;
import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import dev.tally.crypto.Keccak256;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.Objects;

/**
 * The opaque content of a block, produced and checked by the execution layer. A value (equal by its bytes); a class
 * rather than a record only so that it can keep its hash: a payload of thousands of transactions is hashed when it is
 * proposed, verified, finalized and stored, and keccak-256 of a megabyte costs milliseconds each time.
 */
public final class Payload {
    private final ByteString bytes;
    // Computed at most once per instance; a race computes the same value twice, harmlessly.
    private volatile PayloadHash hash;

    public Payload(ByteString bytes) {
        this.bytes = Objects.requireNonNull(bytes, "bytes");
    }

    public static Payload of(byte[] bytes) {
        return new Payload(ByteString.copyFrom(bytes));
    }

    public ByteString bytes() {
        return bytes;
    }

    /** keccak-256 of the bytes, read in place (no copy of a megabyte payload). */
    public PayloadHash hash() {
        PayloadHash h = hash;
        if (h == null) {
            Keccak256.Hasher hasher = Keccak256.hasher();
            try {
                UnsafeByteOperations.unsafeWriteTo(bytes, new HashingOutput(hasher));
            } catch (IOException e) {
                throw new UncheckedIOException("hashing in memory cannot fail", e);
            }
            h = new PayloadHash(hasher.digest());
            hash = h;
        }
        return h;
    }

    /** Feeds the hasher the ByteString's own arrays; it only reads them. */
    private static final class HashingOutput extends ByteOutput {
        private final Keccak256.Hasher hasher;

        HashingOutput(Keccak256.Hasher hasher) {
            this.hasher = hasher;
        }

        @Override
        public void write(byte value) {
            hasher.update(new byte[] {value}, 0, 1);
        }

        @Override
        public void write(byte[] value, int offset, int length) {
            hasher.update(value, offset, length);
        }

        @Override
        public void writeLazy(byte[] value, int offset, int length) {
            hasher.update(value, offset, length);
        }

        @Override
        public void write(ByteBuffer value) {
            hasher.update(value);
        }

        @Override
        public void writeLazy(ByteBuffer value) {
            hasher.update(value);
        }
    }

    public int size() {
        return bytes.size();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Payload p && bytes.equals(p.bytes);
    }

    @Override
    public int hashCode() {
        return bytes.hashCode();
    }

    @Override
    public String toString() {
        return "Payload(" + bytes.size() + " bytes)";
    }
}
