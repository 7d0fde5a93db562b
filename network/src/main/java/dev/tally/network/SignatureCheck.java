package dev.tally.network;

import dev.tally.crypto.BlsPublicKey;
import dev.tally.crypto.BlsSignature;
import java.util.List;

/** Checks BLS signatures: alone, or with others that arrive at the same time ({@link SignatureBatcher}). */
@FunctionalInterface
interface SignatureCheck {
    boolean valid(BlsSignature signature, byte[] message, BlsPublicKey key) throws InterruptedException;

    /** Whether each of {@code checks} is valid; by default checked together ({@link BlsSignature#verifyEach}). */
    default boolean[] validEach(List<BlsSignature.Check> checks) throws InterruptedException {
        return BlsSignature.verifyEach(checks);
    }
}
