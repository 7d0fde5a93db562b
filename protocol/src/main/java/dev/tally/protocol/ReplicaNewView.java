package dev.tally.protocol;

/** "Enter the view after my justification's": spreads the QC that ends a view to every replica. */
public record ReplicaNewView(ProposalJustification justification) implements ChonkyMessage {
    public void verify(Epoch epoch, QcVerifier qcs) throws InvalidMessageException {
        qcs.verify(justification, epoch);
    }

    /** The view this message starts: the one after the justification's. */
    @Override
    public View view() {
        return justification.view().next();
    }
}
