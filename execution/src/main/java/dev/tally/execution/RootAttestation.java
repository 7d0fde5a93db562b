package dev.tally.execution;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Optional;

/**
 * A proposer's word on the state root after the block before its proposal, carried as the first transaction of the
 * payload (consensus sees only opaque payloads, so this needs no protocol change). Every node that applies the block
 * compares it with its own root after that block: a difference means the application is not deterministic, or one
 * node's state is damaged. Clients cannot submit one: the mempool refuses transactions that start with its tag.
 */
record RootAttestation(long block, byte[] root) {
    private static final byte[] TAG = "tally/root\0".getBytes(StandardCharsets.US_ASCII);

    byte[] encode() {
        return ByteBuffer.allocate(TAG.length + Long.BYTES + root.length)
                .put(TAG)
                .putLong(block)
                .put(root)
                .array();
    }

    /** The encoded size of an attestation with a root of {@code rootLength} bytes. */
    static int size(int rootLength) {
        return TAG.length + Long.BYTES + rootLength;
    }

    static boolean isTagged(byte[] tx) {
        return tx.length >= TAG.length && Arrays.equals(tx, 0, TAG.length, TAG, 0, TAG.length);
    }

    /** The attestation in {@code tx}, if it is one. */
    static Optional<RootAttestation> decode(byte[] tx) {
        if (!isTagged(tx) || tx.length < TAG.length + Long.BYTES) {
            return Optional.empty();
        }
        ByteBuffer in = ByteBuffer.wrap(tx, TAG.length, tx.length - TAG.length);
        long block = in.getLong();
        byte[] root = new byte[in.remaining()];
        in.get(root);
        return Optional.of(new RootAttestation(block, root));
    }
}
