package dev.tally.crypto;

import java.util.Arrays;
import java.util.HexFormat;

/** An immutable byte string of a fixed length, compared by content (unsigned, lexicographic). */
public abstract class FixedBytes implements Comparable<FixedBytes> {
    private final byte[] bytes;
    /** Keys and hashes are map keys on every message's path: their hash is computed once (the bytes never change). */
    private final int hash;

    protected FixedBytes(byte[] bytes, int length, String what) {
        if (bytes.length != length) {
            throw new InvalidEncodingException(what + " must be " + length + " bytes, got " + bytes.length);
        }
        this.bytes = bytes.clone();
        this.hash = Arrays.hashCode(this.bytes);
    }

    /** A copy of the bytes. */
    public final byte[] bytes() {
        return bytes.clone();
    }

    /** The bytes without a copy: callers must not modify them. */
    protected final byte[] raw() {
        return bytes;
    }

    public final String hex() {
        return HexFormat.of().formatHex(bytes);
    }

    @Override
    public final int compareTo(FixedBytes o) {
        return Arrays.compareUnsigned(bytes, o.bytes);
    }

    // A key, a signature and a hash with the same bytes are different values: only the same kind is equal.
    @SuppressWarnings("EqualsGetClass")
    @Override
    public final boolean equals(Object o) {
        return o != null && o.getClass() == getClass() && Arrays.equals(bytes, ((FixedBytes) o).bytes);
    }

    @Override
    public final int hashCode() {
        return hash;
    }
}
