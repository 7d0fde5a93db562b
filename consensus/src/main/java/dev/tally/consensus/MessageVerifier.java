package dev.tally.consensus;

import dev.tally.protocol.ChonkyMessage;
import dev.tally.protocol.Epoch;
import dev.tally.protocol.InvalidMessageException;
import dev.tally.protocol.ProposalJustification;
import dev.tally.protocol.QcVerifier;
import dev.tally.protocol.Signed;
import java.util.Collection;

/**
 * How the replica checks message signatures and QCs. The replica owns a {@link VerificationCache} by default;
 * a driver that already checked what it delivers (the simulator, which shares one cache among all replicas of a
 * run) hands in its own, so each signature and QC costs pairings once.
 */
public interface MessageVerifier extends QcVerifier {
    boolean verifySignature(Signed<? extends ChonkyMessage> message);

    /** Whether the signatures of {@code signed} make a valid aggregate: {@link Signed#verifyTogether}. */
    default boolean verifyTogether(Collection<? extends Signed<? extends ChonkyMessage>> signed) {
        return Signed.verifyTogether(signed);
    }

    /**
     * Whether a quorum of votes (commit or timeout), whose signatures were not checked one by one, make a valid QC:
     * one pairing check for the whole quorum (per distinct timeout vote) instead of one per vote. {@code qc} is built
     * from exactly {@code votes}.
     */
    default boolean verifyVotes(
            ProposalJustification qc, Collection<? extends Signed<? extends ChonkyMessage>> votes, Epoch epoch) {
        try {
            verify(qc, epoch);
            return true;
        } catch (InvalidMessageException e) {
            return false;
        }
    }
}
