package dev.tally.conformance;

import java.util.List;
import java.util.Map;

/**
 * One execution of the model: its states in order, each with the action that produced it and that action's
 * nondeterministic picks. State variables are named without their module prefix ({@code replica_state}, ...).
 */
public record Trace(String name, List<Step> steps) {
    public record Step(int index, String action, Map<String, Object> picks, Map<String, Object> vars) {
        public Object var(String name) {
            return vars.get(name);
        }

        /** The pick {@code name} of this step's action, if the action made it. */
        public java.util.Optional<Object> pick(String name) {
            Variant v = (Variant) picks.get(name);
            return v == null || v.tag().equals("None") ? java.util.Optional.empty() : java.util.Optional.of(v.value());
        }
    }
}
