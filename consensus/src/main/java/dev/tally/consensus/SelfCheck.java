package dev.tally.consensus;

import dev.tally.protocol.CommitQC;
import dev.tally.protocol.Phase;
import dev.tally.protocol.Proposal;
import dev.tally.protocol.ReplicaCommit;
import dev.tally.protocol.TimeoutQC;
import java.util.List;
import java.util.Optional;

/**
 * The part of a replica's state its {@link Invariant}s speak of, taken after a step. Views of what is absent are
 * {@link #NONE}.
 *
 * @param viewStarted whether the step started a view (and pruned the cached proposals)
 * @param pendingProposalView the view of the proposal waiting for its predecessor or the execution layer
 * @param timeoutVoteView the view of the last timeout vote the replica signed since it started
 * @param votingFloor the first view the replica may vote in ({@code Long.MAX_VALUE} while awaiting reports)
 */
record SelfCheck(
        long view,
        Phase phase,
        Optional<ReplicaCommit> highVote,
        Optional<CommitQC> highCommitQc,
        Optional<TimeoutQC> highTimeoutQc,
        List<Proposal> proposals,
        boolean viewStarted,
        long pendingProposalView,
        long timeoutVoteView,
        long votingFloor) {
    static final long NONE = -1;

    long highVoteView() {
        return highVote.map(v -> v.view().number()).orElse(NONE);
    }

    long highCommitQcView() {
        return highCommitQc.map(qc -> qc.view().number()).orElse(NONE);
    }

    long highCommitQcBlock() {
        return highCommitQc.map(qc -> qc.header().number()).orElse(NONE);
    }

    long highTimeoutQcView() {
        return highTimeoutQc.map(qc -> qc.view().number()).orElse(NONE);
    }

    @Override
    public String toString() {
        return "view " + view + ", phase " + phase
                + ", high vote "
                + highVote.map(v -> "of view " + v.view().number() + " for " + v.proposal())
                        .orElse("none")
                + ", high commit QC "
                + highCommitQc
                        .map(qc -> "of view " + qc.view().number() + " for " + qc.header())
                        .orElse("none")
                + ", high timeout QC "
                + highTimeoutQc
                        .map(qc -> "of view " + qc.view().number() + " (its high QC of view "
                                + qc.highQc().map(h -> h.view().number()).orElse(NONE) + ")")
                        .orElse("none")
                + ", cached proposals "
                + proposals.stream().map(Proposal::number).toList()
                + ", a view started in this step: " + (viewStarted ? "yes" : "no")
                + ", pending proposal of view " + pendingProposalView + ", timeout vote of view " + timeoutVoteView
                + ", voting floor " + (votingFloor == Long.MAX_VALUE ? "none yet (awaiting reports)" : votingFloor);
    }
}
