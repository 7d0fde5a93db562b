package dev.tally.node.executor;

/** The final blocks stored: [first, last], with {@code last = first - 1} when there are none. */
public record StoredRange(long first, long last) {
    public boolean isEmpty() {
        return last < first;
    }
}
