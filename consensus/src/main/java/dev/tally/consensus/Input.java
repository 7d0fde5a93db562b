package dev.tally.consensus;

import dev.tally.protocol.ChonkyMessage;
import dev.tally.protocol.Payload;
import dev.tally.protocol.Signed;
import dev.tally.protocol.View;

/** Everything that can happen to the consensus core. Each arrives with the current time. */
public sealed interface Input {
    /** The node starts (or restarts) from its persisted state. */
    record Start() implements Input {}

    /** A message from the network (or from this node to itself); not yet verified. */
    record MessageReceived(Signed<? extends ChonkyMessage> message) implements Input {}

    /** The deadline of the last {@link Output.SetTimer} has passed. Stale expiries are ignored. */
    record TimerExpired() implements Input {}

    /** The execution layer's answer to {@link Output.ProposePayload}. */
    record PayloadProposed(View view, long blockNumber, Payload payload) implements Input {}

    /** The execution layer's answer to {@link Output.VerifyPayload}; {@code reason} says why a payload was refused. */
    record PayloadVerified(View view, long blockNumber, Payload payload, boolean valid, String reason)
            implements Input {}

    /**
     * Storage progress: the range of final blocks durably stored, [first, last]; {@code last = first - 1} when
     * empty. The proposer and replica wait on it before building on or checking a block's successor.
     */
    record BlocksPersisted(long first, long last) implements Input {}
}
