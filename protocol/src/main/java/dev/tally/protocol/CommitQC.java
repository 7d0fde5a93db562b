package dev.tally.protocol;

import dev.tally.crypto.BlsAggregateSignature;

/** A quorum of commit votes for one block in one view: the block is final. */
public record CommitQC(ReplicaCommit message, Signers signers, BlsAggregateSignature signature)
        implements ProposalJustification {
    @Override
    public View view() {
        return message.view();
    }

    public BlockHeader header() {
        return message.proposal();
    }

    @Override
    public ImpliedBlock impliedBlock(Epoch epoch) {
        return new FreshBlock(header().number() + 1);
    }

    @Override
    public boolean raisesHighQcs(long highCommitQcView, long highTimeoutQcView) {
        return view().number() > highCommitQcView;
    }

    /** Checks the vote, that the signers are a quorum of the committee, and the aggregate signature. */
    @Override
    public void verifyUncached(Epoch epoch, QcVerifier nested) throws InvalidMessageException {
        verifyQuorum(epoch);
        ValidatorSchedule committee = epoch.committee();
        byte[] hash = message.hash().keccak().bytes();
        var keys = signers.indices()
                .mapToObj(i ->
                        new BlsAggregateSignature.Signer(hash, committee.get(i).key()))
                .toList();
        InvalidMessageException.check(signature.verify(keys), "commit QC aggregate signature is invalid");
    }

    /** Checks everything but the aggregate signature: the vote, and that the signers are a quorum of the committee. */
    public void verifyQuorum(Epoch epoch) throws InvalidMessageException {
        message.verify(epoch);
        ValidatorSchedule committee = epoch.committee();
        InvalidMessageException.check(
                signers.size() == committee.size(),
                "commit QC signer bitmap has " + signers.size() + " bits for a committee of " + committee.size());
        long weight = committee.weight(signers);
        InvalidMessageException.check(
                weight >= committee.quorumThreshold(),
                "commit QC signers weigh " + weight + ", below the quorum " + committee.quorumThreshold());
    }

    @Override
    public String toString() {
        return "CommitQC(" + view() + ", " + header() + ", " + signers.count() + " signers)";
    }
}
