package dev.tally.sim;

import dev.tally.consensus.Output;
import dev.tally.protocol.ChonkyMessage;
import dev.tally.protocol.Signed;
import java.util.List;

/** What a node does with one of its replica's outputs, after its behaviour had its say. */
sealed interface Action {
    /** Carry out the output as an honest node does. */
    record Execute(Output output) implements Action {}

    /** Send a message to some nodes only (an equivocator's split). */
    record SendTo(List<Integer> nodes, Signed<? extends ChonkyMessage> message) implements Action {}
}
