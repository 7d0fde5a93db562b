package dev.tally.protocol;

import java.util.Optional;

/**
 * A leader's proposal for the view after its justification's. The payload is absent exactly when the
 * justification forces a reproposal (the block is then named by the justification's high vote).
 */
public record LeaderProposal(Optional<Payload> proposalPayload, ProposalJustification justification) implements ChonkyMessage {
    @Override
    public View view() {
        return justification.view().next();
    }

    @Override
    public String toString() {
        return "LeaderProposal(" + view() + ", " + proposalPayload.map(Payload::toString).orElse("reproposal")
                + ", justified by " + justification.getClass().getSimpleName() + ")";
    }
}
