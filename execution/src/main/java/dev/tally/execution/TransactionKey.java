package dev.tally.execution;

import java.util.Arrays;

/**
 * A transaction's bytes as a hash-map key: equal iff the bytes are equal, with a cheap (non-cryptographic) hash code
 * computed once. It lets the mempool recognise a transaction it holds without hashing it with keccak-256 again.
 * Comparable, consistent with equals, so that bytes crafted to collide on the hash code cost a {@link java.util.HashMap}
 * a tree lookup, not a linear scan. It does not copy: the caller owns the array and must not change it while the key is
 * in use.
 */
final class TransactionKey implements Comparable<TransactionKey> {
    private final byte[] bytes;
    private final int hash;

    TransactionKey(byte[] bytes) {
        this(bytes, Arrays.hashCode(bytes));
    }

    private TransactionKey(byte[] bytes, int hash) {
        this.bytes = bytes;
        this.hash = hash;
    }

    /** The same key over a private copy of the bytes (for keys that outlive the caller's array). */
    TransactionKey copy() {
        return new TransactionKey(bytes.clone(), hash);
    }

    byte[] bytes() {
        return bytes;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TransactionKey k && k.hash == hash && Arrays.equals(k.bytes, bytes);
    }

    @Override
    public int hashCode() {
        return hash;
    }

    @Override
    public int compareTo(TransactionKey o) {
        return Arrays.compare(bytes, o.bytes);
    }
}
