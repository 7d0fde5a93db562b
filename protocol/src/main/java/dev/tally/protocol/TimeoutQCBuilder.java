package dev.tally.protocol;

import dev.tally.crypto.BlsAggregateSignature;
import dev.tally.crypto.BlsSignature;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Collects timeout votes for one view, one per validator, until they weigh a quorum. Single-owner, mutable. */
public final class TimeoutQCBuilder {
    private final View view;
    private final ValidatorSchedule committee;
    private final Map<ReplicaTimeout, Signers> votes = new LinkedHashMap<>();
    private Signers all;
    private long weight;
    private final List<BlsSignature> signatures = new ArrayList<>();

    public TimeoutQCBuilder(View view, ValidatorSchedule committee) {
        this.view = view;
        this.committee = committee;
        this.all = Signers.empty(committee.size());
    }

    /** Adds a vote whose signature the caller has checked. Returns false if this signer was already counted. */
    public boolean add(Signed<ReplicaTimeout> signed) {
        if (!signed.message().view().equals(view)) {
            throw new IllegalArgumentException(
                    "timeout vote for " + signed.message().view() + " added to the QC of " + view);
        }
        int i = committee
                .indexOf(signed.key())
                .orElseThrow(() -> new IllegalArgumentException(signed.key() + " is not in the committee"));
        if (all.contains(i)) {
            return false;
        }
        all = all.with(i);
        votes.merge(signed.message(), Signers.of(committee.size(), i), Signers::union);
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
    public TimeoutQC build() {
        return tryBuild()
                .orElseThrow(() -> new IllegalStateException("the signatures of the timeout votes for " + view
                        + " sum to a point outside the G1 subgroup: one of them is invalid"));
    }

    /**
     * The QC of the votes added, or empty if their signatures sum to a point outside the G1 subgroup, which only
     * votes decoded without a subgroup check of their own (as received) can cause: one of them is then invalid.
     */
    public Optional<TimeoutQC> tryBuild() {
        List<TimeoutQC.Vote> list = votes.entrySet().stream()
                .map(e -> new TimeoutQC.Vote(e.getKey(), e.getValue()))
                .toList();
        return BlsAggregateSignature.sum(signatures).map(sum -> new TimeoutQC(view, Codec.canonicalOrder(list), sum));
    }
}
