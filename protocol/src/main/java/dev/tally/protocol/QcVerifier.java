package dev.tally.protocol;

/**
 * Verifies quorum certificates. Messages nest QCs (a timeout vote carries its high QC, a timeout QC carries
 * many), so verification goes through this seam, letting a replica skip QCs it has already checked.
 */
public interface QcVerifier {
    void verify(ProposalJustification qc, Epoch epoch) throws InvalidMessageException;

    /** Checks every QC in full, every time. */
    QcVerifier DIRECT = (qc, epoch) -> qc.verifyUncached(epoch, QcVerifier.DIRECT);
}
