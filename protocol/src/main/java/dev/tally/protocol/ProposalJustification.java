package dev.tally.protocol;

/** Why a view may start: a commit QC or a timeout QC of the view before it. */
public sealed interface ProposalJustification permits CommitQC, TimeoutQC {
    /** The view this QC is for; it justifies the next one. */
    View view();

    /** Checks the QC on its own: chain, epoch, quorum weight, signatures. */
    void verify(Epoch epoch) throws InvalidMessageException;

    /** The block a proposal under this justification must be for. */
    ImpliedBlock impliedBlock(Epoch epoch);

    /** The block a justification makes the next leader propose: fresh (new payload) or a reproposal. */
    sealed interface ImpliedBlock {
        long number();
    }

    /** A new block at {@code number}: the leader supplies a fresh payload. */
    record FreshBlock(long number) implements ImpliedBlock {}

    /** A block that may already be final elsewhere: the leader must repropose exactly this header. */
    record Reproposal(BlockHeader header) implements ImpliedBlock {
        @Override
        public long number() {
            return header.number();
        }
    }
}
