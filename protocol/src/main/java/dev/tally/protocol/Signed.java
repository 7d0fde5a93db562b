package dev.tally.protocol;

import dev.tally.crypto.BlsPublicKey;
import dev.tally.crypto.BlsSecretKey;
import dev.tally.crypto.BlsSignature;

/** A message with its author's key and BLS signature over the message hash. */
public record Signed<M extends ChonkyMessage>(M message, BlsPublicKey key, BlsSignature signature) {
    public static <M extends ChonkyMessage> Signed<M> sign(BlsSecretKey key, M message) {
        return new Signed<>(
                message, key.publicKey(), key.sign(message.hash().keccak().bytes()));
    }

    /** Checks that the author is in the committee and the signature is theirs. Does not check the content. */
    public void verifyAuthor(Epoch epoch) throws InvalidMessageException {
        verifyMember(epoch);
        InvalidMessageException.check(
                verifySignature(), "bad signature on " + message.getClass().getSimpleName() + " from " + key);
    }

    /** Checks that the signer is a validator of {@code epoch}, not the signature. */
    public void verifyMember(Epoch epoch) throws InvalidMessageException {
        InvalidMessageException.check(
                epoch.committee().contains(key), "message signed by " + key + ", not a validator");
    }

    public boolean verifySignature() {
        return signature.verify(message.hash().keccak().bytes(), key);
    }

    @Override
    public String toString() {
        return message + " from " + key;
    }
}
