package dev.tally.protocol;

import java.util.Optional;

/**
 * A leader's proposal for the view after its justification's. The payload is absent exactly when the
 * justification forces a reproposal (the block is then named by the justification's high vote).
 */
public record LeaderProposal(Optional<Payload> proposalPayload, ProposalJustification justification)
        implements ChonkyMessage {
    @Override
    public View view() {
        return justification.view().next();
    }

    /**
     * Checks the justification, and that the payload is present exactly when the justification implies a fresh
     * block (a reproposal names its block by the justification's high vote and carries no payload).
     */
    public void verify(Epoch epoch, QcVerifier qcs) throws InvalidMessageException {
        qcs.verify(justification, epoch);
        switch (justification.impliedBlock(epoch)) {
            case ProposalJustification.Reproposal r ->
                InvalidMessageException.check(
                        proposalPayload.isEmpty(),
                        "proposal carries a payload where its justification requires a reproposal of " + r.header());
            case ProposalJustification.FreshBlock f ->
                InvalidMessageException.check(
                        proposalPayload.isPresent(),
                        "proposal has no payload where its justification requires a new block " + f.number());
        }
    }

    @Override
    public String toString() {
        return "LeaderProposal(" + view() + ", "
                + proposalPayload.map(Payload::toString).orElse("reproposal") + ", justified by "
                + justification.getClass().getSimpleName() + ")";
    }
}
