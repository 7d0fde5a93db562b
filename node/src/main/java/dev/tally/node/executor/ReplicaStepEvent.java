package dev.tally.node.executor;

import dev.tally.consensus.Input;
import dev.tally.protocol.Phase;
import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Enabled;
import jdk.jfr.Event;
import jdk.jfr.EventType;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/**
 * One step of the replica loop, as a JFR event (off unless a recording enables it by name; off, it costs a flag test): the input, the replica's
 * view and phase after it, and how long the step and its outputs took (a synced state write included). With the
 * network's consensus-message events, a recording of every validator is a timeline of each view
 * (CONTRIBUTING.md, "Where a view's time goes").
 */
@Name("tally.ReplicaStep")
@Label("Replica step")
@Description("A replica step and the execution of its outputs")
@Category({"Tally", "Consensus"})
@StackTrace(false)
@Enabled(false)
final class ReplicaStepEvent extends Event {
    private static final EventType TYPE = EventType.getEventType(ReplicaStepEvent.class);

    @Label("Input")
    String input;

    @Label("View")
    long view;

    @Label("Phase")
    String phase;

    @Label("Outputs")
    int outputs;

    /** A started event, or null when no recording wants these events. */
    static ReplicaStepEvent start(Input input) {
        if (!TYPE.isEnabled()) {
            return null;
        }
        ReplicaStepEvent e = new ReplicaStepEvent();
        // A message is named by its kind: that is what a timeline of a view needs.
        e.input = input instanceof Input.MessageReceived m
                ? m.message().message().getClass().getSimpleName()
                : input.getClass().getSimpleName();
        e.begin();
        return e;
    }

    /** Ends and records {@code e}, if it was started. */
    static void end(ReplicaStepEvent e, long view, Phase phase, int outputs) {
        if (e != null) {
            e.view = view;
            e.phase = phase.name();
            e.outputs = outputs;
            e.commit();
        }
    }
}
