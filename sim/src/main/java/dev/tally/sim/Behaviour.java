package dev.tally.sim;

import dev.tally.consensus.Output;
import dev.tally.protocol.ChonkyMessage;
import dev.tally.protocol.Signed;
import java.util.ArrayList;
import java.util.List;

/** How a node turns its replica's outputs into actions: honestly, or as one of the faults the simulator models. */
interface Behaviour {
    List<Action> act(List<Output> outputs, SimNode self, SimWorld sim);

    /** Sees each message delivered to the node before its replica does, and may act on it. */
    default List<Action> observe(Signed<? extends ChonkyMessage> message, SimNode self, SimWorld sim) {
        return List.of();
    }

    /** What the node's replica gets of a message delivered to the node: the message itself, unless broken. */
    default Signed<? extends ChonkyMessage> receive(
            Signed<? extends ChonkyMessage> message, SimNode self, SimWorld sim) {
        return message;
    }

    Behaviour HONEST = (outputs, self, sim) -> executeAll(outputs);

    static List<Action> executeAll(List<Output> outputs) {
        List<Action> actions = new ArrayList<>(outputs.size());
        for (Output o : outputs) {
            actions.add(new Action.Execute(o));
        }
        return actions;
    }

    /** Rewrites only the broadcasts; every other output is executed as is. */
    interface BroadcastRewriter extends Behaviour {
        void rewrite(Signed<? extends ChonkyMessage> message, SimNode self, SimWorld sim, List<Action> into);

        @Override
        default List<Action> act(List<Output> outputs, SimNode self, SimWorld sim) {
            List<Action> actions = new ArrayList<>(outputs.size() + 2);
            for (Output o : outputs) {
                if (o instanceof Output.Broadcast b) {
                    rewrite(b.message(), self, sim, actions);
                } else {
                    actions.add(new Action.Execute(o));
                }
            }
            return actions;
        }
    }
}
