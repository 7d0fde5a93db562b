package dev.tally.consensus;

import dev.tally.protocol.ChonkyMessage;
import dev.tally.protocol.FinalBlock;
import dev.tally.protocol.Payload;
import dev.tally.protocol.ReplicaState;
import dev.tally.protocol.Signed;
import dev.tally.protocol.View;

/**
 * What the consensus core asks of its surroundings. The driver executes a step's outputs in order, and a
 * {@link PersistState} must be durable before any later output of the same step is executed: that is how a
 * vote never leaves the node before the state that forbids a conflicting vote.
 */
public sealed interface Output {
    /** Write the replica state durably (fsync) before executing the next output. */
    record PersistState(ReplicaState state) implements Output {}

    /** Send to every validator of the committee, this node included. */
    record Broadcast(Signed<? extends ChonkyMessage> message) implements Output {}

    /** A block became final here: store it after its predecessor. */
    record FinalizeBlock(FinalBlock block) implements Output {}

    /** Ask the execution layer for a payload for a new block; answer with {@link Input.PayloadProposed}. */
    record ProposePayload(View view, long blockNumber) implements Output {}

    /** Ask the execution layer to check a proposed payload; answer with {@link Input.PayloadVerified}. */
    record VerifyPayload(View view, long blockNumber, Payload payload) implements Output {}

    /** Deliver {@link Input.TimerExpired} at this time (milliseconds on the driver's clock); replaces any earlier timer. */
    record SetTimer(long deadlineMillis) implements Output {}
}
