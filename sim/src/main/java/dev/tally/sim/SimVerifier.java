package dev.tally.sim;

import dev.tally.consensus.MessageVerifier;
import dev.tally.consensus.VerificationCache;
import dev.tally.protocol.ChonkyMessage;
import dev.tally.protocol.Epoch;
import dev.tally.protocol.InvalidMessageException;
import dev.tally.protocol.ProposalJustification;
import dev.tally.protocol.Signed;
import java.util.Collection;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;

/**
 * The verifier all replicas of one run share. A message that honest code signed in this run is known to carry its
 * author's valid signature, so its pairing check is skipped (the real network checks every one; the crypto tests
 * check signing). Everything a faulty node produced or altered, and every QC, is verified in full, once.
 */
final class SimVerifier implements MessageVerifier {
    private final VerificationCache cache = new VerificationCache(1 << 14);
    private final Set<Signed<? extends ChonkyMessage>> signedByHonestCode =
            Collections.newSetFromMap(new IdentityHashMap<>());
    /**
     * Forgeries already refused, by identity: a faulty node's message reaches every replica as the same object, and
     * the cache remembers only successes, so each replica would pay the pairings again to refuse it.
     */
    private final Set<Object> refused = Collections.newSetFromMap(new IdentityHashMap<>());

    private final IdentityHashMap<ProposalJustification, InvalidMessageException> refusedQcs = new IdentityHashMap<>();

    void signedByHonestCode(Signed<? extends ChonkyMessage> message) {
        signedByHonestCode.add(message);
    }

    /** Whether honest code signed exactly this message object in this run (so its signature is valid). */
    boolean isSignedByHonestCode(Signed<? extends ChonkyMessage> message) {
        return signedByHonestCode.contains(message);
    }

    @Override
    public boolean verifySignature(Signed<? extends ChonkyMessage> message) {
        if (signedByHonestCode.contains(message)) {
            return true;
        }
        if (refused.contains(message)) {
            return false;
        }
        boolean valid = cache.verifySignature(message);
        if (!valid) {
            refused.add(message);
        }
        return valid;
    }

    @Override
    public boolean verifyTogether(Collection<? extends Signed<? extends ChonkyMessage>> signed) {
        return signed.stream().allMatch(signedByHonestCode::contains) || MessageVerifier.super.verifyTogether(signed);
    }

    @Override
    public boolean verifyVotes(
            ProposalJustification qc, Collection<? extends Signed<? extends ChonkyMessage>> votes, Epoch epoch) {
        return votes.stream().allMatch(signedByHonestCode::contains)
                || MessageVerifier.super.verifyVotes(qc, votes, epoch);
    }

    @Override
    public void verify(ProposalJustification qc, Epoch epoch) throws InvalidMessageException {
        InvalidMessageException known = refusedQcs.get(qc);
        if (known != null) {
            throw new InvalidMessageException(known.getMessage());
        }
        try {
            cache.verify(qc, epoch);
        } catch (InvalidMessageException e) {
            refusedQcs.put(qc, e);
            throw e;
        }
    }
}
