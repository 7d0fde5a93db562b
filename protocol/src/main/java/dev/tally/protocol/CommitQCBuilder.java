package dev.tally.protocol;

import dev.tally.crypto.BlsAggregateSignature;
import dev.tally.crypto.BlsSignature;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Collects commit votes for one (view, block) until they weigh a quorum. Single-owner, mutable. */
public final class CommitQCBuilder {
    private final ReplicaCommit vote;
    private final ValidatorSchedule committee;
    private Signers signers;
    private long weight;
    private final List<BlsSignature> signatures = new ArrayList<>();

    public CommitQCBuilder(ReplicaCommit vote, ValidatorSchedule committee) {
        this.vote = vote;
        this.committee = committee;
        this.signers = Signers.empty(committee.size());
    }

    /** Adds a vote whose signature the caller has checked. Returns false if this signer was already counted. */
    public boolean add(Signed<ReplicaCommit> signed) {
        if (!signed.message().equals(vote)) {
            throw new IllegalArgumentException("vote " + signed.message() + " added to the QC of " + vote);
        }
        int i = committee
                .indexOf(signed.key())
                .orElseThrow(() -> new IllegalArgumentException(signed.key() + " is not in the committee"));
        if (signers.contains(i)) {
            return false;
        }
        signers = signers.with(i);
        weight += committee.get(i).weight();
        signatures.add(signed.signature());
        return true;
    }

    public long weight() {
        return weight;
    }

    public boolean hasQuorum() {
        return weight >= committee.quorumThreshold();
    }

    /** The QC of the votes added, for votes whose signatures are known valid; see {@link #tryBuild}. */
    public CommitQC build() {
        return tryBuild()
                .orElseThrow(() -> new IllegalStateException("the signatures of the votes for " + vote
                        + " sum to a point outside the G1 subgroup: one of them is invalid"));
    }

    /**
     * The QC of the votes added, or empty if their signatures sum to a point outside the G1 subgroup, which only
     * votes decoded without a subgroup check of their own (as received) can cause: one of them is then invalid.
     */
    public Optional<CommitQC> tryBuild() {
        return BlsAggregateSignature.sum(signatures).map(sum -> new CommitQC(vote, signers, sum));
    }
}
