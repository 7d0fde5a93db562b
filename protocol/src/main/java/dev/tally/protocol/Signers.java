package dev.tally.protocol;

import java.util.BitSet;
import java.util.stream.IntStream;

/**
 * An immutable set of validators, by their index in the schedule, with a fixed size (the committee size).
 * Encoded as a bit vector, most significant bit of each byte first.
 */
public final class Signers implements Comparable<Signers> {
    private final int size;
    private final BitSet bits;

    private Signers(int size, BitSet bits) {
        this.size = size;
        this.bits = bits;
    }

    public static Signers empty(int size) {
        if (size < 0) {
            throw new IllegalArgumentException("negative size");
        }
        return new Signers(size, new BitSet(size));
    }

    public static Signers of(int size, int... indices) {
        BitSet b = new BitSet(size);
        for (int i : indices) {
            check(i, size);
            b.set(i);
        }
        return new Signers(size, b);
    }

    /** Decodes a bit vector; trailing bits past {@code size} must be zero. */
    public static Signers fromBitVector(long size, byte[] bytes) {
        if (size < 0 || size > Integer.MAX_VALUE / 2) {
            throw new IllegalArgumentException("signer bitmap size " + size + " is out of range");
        }
        int n = (int) size;
        if (bytes.length != (n + 7) / 8) {
            throw new IllegalArgumentException(
                    "signer bitmap of " + n + " bits needs " + ((n + 7) / 8) + " bytes, got " + bytes.length);
        }
        BitSet b = new BitSet(n);
        for (int byteIndex = 0; byteIndex < bytes.length; byteIndex++) {
            for (int bit = 0; bit < 8; bit++) {
                if ((bytes[byteIndex] & (0x80 >>> bit)) != 0) {
                    int i = byteIndex * 8 + bit;
                    if (i >= n) {
                        throw new IllegalArgumentException("signer bitmap has a bit set past its size " + n);
                    }
                    b.set(i);
                }
            }
        }
        return new Signers(n, b);
    }

    public byte[] toBitVectorBytes() {
        byte[] out = new byte[(size + 7) / 8];
        for (int i = bits.nextSetBit(0); i >= 0; i = bits.nextSetBit(i + 1)) {
            out[i / 8] |= (byte) (0x80 >>> (i % 8));
        }
        return out;
    }

    private static void check(int i, int size) {
        if (i < 0 || i >= size) {
            throw new IndexOutOfBoundsException("signer index " + i + " outside committee of " + size);
        }
    }

    public int size() {
        return size;
    }

    public boolean contains(int i) {
        return bits.get(i);
    }

    public int count() {
        return bits.cardinality();
    }

    public boolean isEmpty() {
        return bits.isEmpty();
    }

    public IntStream indices() {
        return bits.stream();
    }

    public Signers with(int i) {
        check(i, size);
        BitSet b = (BitSet) bits.clone();
        b.set(i);
        return new Signers(size, b);
    }

    public boolean intersects(Signers o) {
        return bits.intersects(o.bits);
    }

    public Signers union(Signers o) {
        if (o.size != size) {
            throw new IllegalArgumentException("signer sets of different committees: " + size + " vs " + o.size);
        }
        BitSet b = (BitSet) bits.clone();
        b.or(o.bits);
        return new Signers(size, b);
    }

    /** Lexicographic over the bits (index 0 first, set after unset), then by size: a stable, total order. */
    @Override
    public int compareTo(Signers o) {
        int common = Math.min(size, o.size);
        BitSet diff = (BitSet) bits.clone();
        diff.xor(o.bits);
        int first = diff.nextSetBit(0);
        if (first >= 0 && first < common) {
            return bits.get(first) ? 1 : -1;
        }
        return Integer.compare(size, o.size);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Signers s && s.size == size && s.bits.equals(bits);
    }

    @Override
    public int hashCode() {
        return 31 * size + bits.hashCode();
    }

    @Override
    public String toString() {
        return bits + "/" + size;
    }
}
