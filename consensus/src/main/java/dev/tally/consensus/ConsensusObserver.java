package dev.tally.consensus;

import dev.tally.protocol.FinalBlock;
import dev.tally.protocol.ProposalJustification;

/**
 * What the consensus core reports for logs and metrics. Calls happen on the core's thread, inside a step;
 * implementations must be quick and must not call back into the core.
 */
public interface ConsensusObserver {
    /** A message was dropped: {@code kind} is the message kind, {@code reason} says why in the protocol's words. */
    default void messageRejected(String kind, String reason) {}

    default void viewStarted(long view, ProposalJustification justification) {}

    default void timedOut(long view) {}

    default void voted(long view, long blockNumber) {}

    default void proposed(long view, long blockNumber, boolean reproposal) {}

    default void finalized(FinalBlock block) {}

    /**
     * Started without a state past view 0 and first saw view {@code view}: this replica may have voted there
     * before its state was lost, so it neither votes nor proposes before view {@code firstVotingView}.
     */
    default void abstaining(long view, long firstVotingView) {}

    ConsensusObserver NONE = new ConsensusObserver() {};
}
