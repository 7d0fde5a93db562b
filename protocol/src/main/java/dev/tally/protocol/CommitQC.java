package dev.tally.protocol;

import dev.tally.crypto.BlsAggregateSignature;

/** A quorum of commit votes for one block in one view: the block is final. */
public record CommitQC(ReplicaCommit message, Signers signers, BlsAggregateSignature signature) implements ProposalJustification {
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
    public String toString() {
        return "CommitQC(" + view() + ", " + header() + ", " + signers.count() + " signers)";
    }
}
