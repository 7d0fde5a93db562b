package dev.tally.protocol;

import dev.tally.crypto.BlsAggregateSignature;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A quorum of timeout votes for one view. Distinct votes each keep their own (pairwise disjoint) signer
 * set, ordered canonically by vote, under one aggregate signature.
 */
public record TimeoutQC(View view, List<Vote> votes, BlsAggregateSignature signature) implements ProposalJustification {
    /** One distinct timeout vote and the validators that signed it. */
    public record Vote(ReplicaTimeout message, Signers signers) {}

    public TimeoutQC {
        votes = List.copyOf(votes);
    }

    /**
     * The commit vote that at least a subquorum of the signers reported as their high vote, if exactly one
     * such vote exists. If one does, that block may be final somewhere, so it must be reproposed.
     */
    public Optional<ReplicaCommit> highVote(ValidatorSchedule committee) {
        Map<ReplicaCommit, Long> weightPerVote = new HashMap<>();
        for (Vote v : votes) {
            v.message().highVote().ifPresent(hv -> weightPerVote.merge(hv, committee.weight(v.signers()), Long::sum));
        }
        List<ReplicaCommit> heavy = weightPerVote.entrySet().stream()
                .filter(e -> e.getValue() >= committee.subquorumThreshold())
                .map(Map.Entry::getKey)
                .toList();
        return heavy.size() == 1 ? Optional.of(heavy.get(0)) : Optional.empty();
    }

    /** The commit QC of the highest view among the votes' high QCs. */
    public Optional<CommitQC> highQc() {
        CommitQC best = null;
        for (Vote v : votes) {
            CommitQC qc = v.message().highQc().orElse(null);
            if (qc != null && (best == null || qc.view().number() > best.view().number())) {
                best = qc;
            }
        }
        return Optional.ofNullable(best);
    }

    public Signers allSigners() {
        Signers all = null;
        for (Vote v : votes) {
            all = all == null ? v.signers() : all.union(v.signers());
        }
        return all;
    }

    /**
     * Checks every vote (same view, valid content), that signer sets are non-empty and pairwise disjoint and
     * together a quorum, and the aggregate signature over every (vote, signer) pair.
     */
    @Override
    public boolean raisesHighQcs(long highCommitQcView, long highTimeoutQcView) {
        return view.number() > highTimeoutQcView
                || highQc().map(qc -> qc.raisesHighQcs(highCommitQcView, highTimeoutQcView))
                        .orElse(false);
    }

    @Override
    public void verifyUncached(Epoch epoch, QcVerifier nested) throws InvalidMessageException {
        view.verify(epoch);
        ValidatorSchedule committee = epoch.committee();
        InvalidMessageException.check(!votes.isEmpty(), "timeout QC has no votes");
        Signers all = Signers.empty(committee.size());
        List<BlsAggregateSignature.Signer> keys = new java.util.ArrayList<>();
        for (Vote v : votes) {
            InvalidMessageException.check(
                    v.message().view().equals(view),
                    "timeout QC for " + view + " holds a vote for "
                            + v.message().view());
            InvalidMessageException.check(
                    v.signers().size() == committee.size(),
                    "timeout QC signer bitmap has " + v.signers().size() + " bits for a committee of "
                            + committee.size());
            InvalidMessageException.check(!v.signers().isEmpty(), "timeout QC holds a vote without signers");
            InvalidMessageException.check(!v.signers().intersects(all), "timeout QC counts a signer twice");
            all = all.union(v.signers());
            v.message().verify(epoch, nested);
            byte[] hash = v.message().hash().keccak().bytes();
            v.signers()
                    .indices()
                    .forEach(i -> keys.add(new BlsAggregateSignature.Signer(
                            hash, committee.get(i).key())));
        }
        long weight = committee.weight(all);
        InvalidMessageException.check(
                weight >= committee.quorumThreshold(),
                "timeout QC signers weigh " + weight + ", below the quorum " + committee.quorumThreshold());
        InvalidMessageException.check(signature.verify(keys), "timeout QC aggregate signature is invalid");
    }

    @Override
    public ImpliedBlock impliedBlock(Epoch epoch) {
        Optional<CommitQC> highQc = highQc();
        Optional<ReplicaCommit> highVote = highVote(epoch.committee());
        if (highVote.isPresent()
                && (highQc.isEmpty()
                        || highVote.get().proposal().number()
                                > highQc.get().header().number())) {
            return new Reproposal(highVote.get().proposal());
        }
        return new FreshBlock(highQc.map(qc -> qc.header().number() + 1).orElse(epoch.firstBlock()));
    }

    @Override
    public String toString() {
        return "TimeoutQC(" + view + ", " + votes.size() + " distinct votes)";
    }
}
