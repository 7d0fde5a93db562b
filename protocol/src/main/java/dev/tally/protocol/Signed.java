package dev.tally.protocol;

import dev.tally.crypto.BlsAggregateSignature;
import dev.tally.crypto.BlsPublicKey;
import dev.tally.crypto.BlsSecretKey;
import dev.tally.crypto.BlsSignature;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

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

    /**
     * Whether the signatures of {@code signed} sum to a valid aggregate of their messages: one pairing per distinct
     * message, where checking each costs one per signature. True says that every signer signed its message, unless
     * faulty signers made their parts together so that only the sum verifies (as for a QC); false says only that some
     * signature is bad. Empty is false.
     */
    public static boolean verifyTogether(Collection<? extends Signed<? extends ChonkyMessage>> signed) {
        List<BlsAggregateSignature.Signer> signers = new ArrayList<>(signed.size());
        List<BlsSignature> signatures = new ArrayList<>(signed.size());
        for (Signed<? extends ChonkyMessage> s : signed) {
            signers.add(
                    new BlsAggregateSignature.Signer(s.message().hash().keccak().bytes(), s.key()));
            signatures.add(s.signature());
        }
        return BlsAggregateSignature.sum(signatures)
                .map(sum -> sum.verify(signers))
                .orElse(false);
    }

    @Override
    public String toString() {
        return message + " from " + key;
    }
}
