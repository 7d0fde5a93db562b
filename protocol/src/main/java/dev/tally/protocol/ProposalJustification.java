package dev.tally.protocol;

/** Why a view may start: a commit QC or a timeout QC of the view before it. */
public sealed interface ProposalJustification permits CommitQC, TimeoutQC {
    /** The view this QC is for; it justifies the next one. */
    View view();

    /** Checks the QC on its own: chain, epoch, quorum weight, signatures. */
    default void verify(Epoch epoch) throws InvalidMessageException {
        QcVerifier.DIRECT.verify(this, epoch);
    }

    /** Checks this QC in full; QCs nested in it go through {@code nested}, which may have seen them before. */
    void verifyUncached(Epoch epoch, QcVerifier nested) throws InvalidMessageException;

    /**
     * Whether taking this justification in would raise the high QCs of a replica holding a commit QC of view
     * {@code highCommitQcView} and a timeout QC of view {@code highTimeoutQcView} (-1 for none); if not, it brings
     * that replica nothing.
     */
    boolean raisesHighQcs(long highCommitQcView, long highTimeoutQcView);

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
