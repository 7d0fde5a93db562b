package dev.tally.network;

import dev.tally.crypto.BlsPublicKey;
import dev.tally.crypto.BlsSignature;

/** Checks one BLS signature: alone, or with others that arrive at the same time ({@link SignatureBatcher}). */
@FunctionalInterface
interface SignatureCheck {
    boolean valid(BlsSignature signature, byte[] message, BlsPublicKey key) throws InterruptedException;
}
