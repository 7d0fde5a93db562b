package dev.tally.protocol;

import java.util.List;
import java.util.Optional;

/**
 * What a replica persists before any vote that depends on it leaves the node, so that after a restart it
 * never signs a vote that conflicts with one it already sent.
 */
public record ReplicaState(
        long epoch,
        long view,
        Phase phase,
        Optional<ReplicaCommit> highVote,
        Optional<CommitQC> highCommitQc,
        Optional<TimeoutQC> highTimeoutQc,
        List<Proposal> proposals) {
    public ReplicaState {
        proposals = List.copyOf(proposals);
    }

    /** The state of a replica that has never run: view 0, nothing voted. */
    public static ReplicaState initial(long epoch) {
        return new ReplicaState(
                epoch, 0, Phase.PREPARE, Optional.empty(), Optional.empty(), Optional.empty(), List.of());
    }
}
