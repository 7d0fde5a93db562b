package dev.tally.conformance;

/** Tally did not do what the model did: names the trace, the step, its action, and shows both sides. */
public final class Mismatch extends Exception {
    private final String trace;
    private final int step;

    Mismatch(String trace, int step, String action, String diff) {
        super("trace " + trace + ", step " + step + " (" + action + "):\n" + diff);
        this.trace = trace;
        this.step = step;
    }

    public String trace() {
        return trace;
    }

    public int step() {
        return step;
    }
}
