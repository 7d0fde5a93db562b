package dev.tally.consensus;

import dev.tally.protocol.FinalBlock;
import dev.tally.protocol.ProposalJustification;

/**
 * What the consensus core reports for logs and metrics. Calls happen on the core's thread, inside a step;
 * implementations must be quick and must not call back into the core.
 */
public interface ConsensusObserver {
    /**
     * A message was dropped: {@code kind} is the message kind ({@code PayloadProposed} for the execution layer's
     * payload for this leader), {@code rejection} the rule it breaks.
     */
    default void messageRejected(String kind, Rejection rejection) {}

    default void viewStarted(long view, ProposalJustification justification) {}

    default void timedOut(long view) {}

    default void voted(long view, long blockNumber) {}

    default void proposed(long view, long blockNumber, boolean reproposal) {}

    default void finalized(FinalBlock block) {}

    /**
     * Block {@code number} was just finalized with the payload of a proposal this replica did not vote for: it came
     * after the block's QC, or its payload was still being checked when the QC formed.
     */
    default void finalizedByLateProposal(long number) {}

    /**
     * Started without a state past view 0: this replica may have voted before its state was lost, so it signs
     * nothing (but view 0's timeout vote) before view {@code firstVotingView}, {@code Long.MAX_VALUE} while it waits
     * for other validators to show where the network is, 0 once they showed a new chain; {@code reason} says why,
     * with the figures.
     */
    default void abstaining(long firstVotingView, String reason) {}

    ConsensusObserver NONE = new ConsensusObserver() {};
}
