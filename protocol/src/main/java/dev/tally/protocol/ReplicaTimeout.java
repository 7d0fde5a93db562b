package dev.tally.protocol;

import java.util.Optional;

/**
 * A timeout vote: "I give up on this view". Carries the latest commit vote this replica signed (its high
 * vote) and the highest commit QC it has seen, so the next leader can tell what may already be final.
 */
public record ReplicaTimeout(View view, Optional<ReplicaCommit> highVote, Optional<CommitQC> highQc)
        implements ChonkyMessage {
    public void verify(Epoch epoch) throws InvalidMessageException {
        verify(epoch, QcVerifier.DIRECT);
    }

    public void verify(Epoch epoch, QcVerifier qcs) throws InvalidMessageException {
        view.verify(epoch);
        if (highVote.isPresent()) {
            highVote.get().verify(epoch);
            InvalidMessageException.check(
                    highVote.get().view().number() <= view.number(),
                    "high vote from " + highVote.get().view() + " is newer than the timeout's " + view);
        }
        if (highQc.isPresent()) {
            InvalidMessageException.check(
                    highQc.get().view().number() < view.number(),
                    "high QC from " + highQc.get().view() + " is not older than the timeout's " + view);
            qcs.verify(highQc.get(), epoch);
        }
    }

    @Override
    public String toString() {
        return "ReplicaTimeout(" + view + ", high vote "
                + highVote.map(v -> v.view().number() + ":" + v.proposal()).orElse("none") + ", high QC "
                + highQc.map(q -> q.view().number() + ":" + q.header().number()).orElse("none") + ")";
    }
}
