package dev.tally.protocol;

import dev.tally.crypto.BlsPublicKey;
import dev.tally.crypto.BlsSecretKey;
import dev.tally.crypto.BlsSignature;

/** A message with its author's key and BLS signature over the message hash. */
public record Signed<M extends ChonkyMessage>(M message, BlsPublicKey key, BlsSignature signature) {
    public static <M extends ChonkyMessage> Signed<M> sign(BlsSecretKey key, M message) {
        return new Signed<>(message, key.publicKey(), key.sign(message.hash().keccak().bytes()));
    }

    public boolean verifySignature() {
        return signature.verify(message.hash().keccak().bytes(), key);
    }

    @Override
    public String toString() {
        return message + " from " + key;
    }
}
