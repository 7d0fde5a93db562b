package dev.tally.sim;

/** A broken invariant: which one (PROTOCOL.md section 7 names), when, and what exactly was seen. */
public record Violation(String invariant, long timeMillis, String detail) {
    @Override
    public String toString() {
        return invariant + " at t=" + timeMillis + " ms: " + detail;
    }
}
