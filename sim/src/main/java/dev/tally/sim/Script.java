package dev.tally.sim;

import dev.tally.protocol.ChonkyMessage;
import dev.tally.protocol.Signed;

/**
 * A test's hand on a run, for attacks the random faults would take too long to find: which sends and block
 * fetches get through, on top of the scenario's faults, and what a validator does instead of its planned
 * behaviour. It may wipe a node through {@link SimWorld#wipeSoon}.
 */
interface Script {
    /** Whether a message sent by node {@code from} reaches node {@code to}; {@code message} is null for block sync. */
    boolean passes(int from, int to, Signed<? extends ChonkyMessage> message, SimWorld sim);

    default Behaviour behaviour(int validator, Behaviour planned) {
        return planned;
    }

    Script NONE = (from, to, message, sim) -> true;
}
