package dev.tally.testbed.chaos;

import java.util.Arrays;

/**
 * What the proxies do to traffic between nodes, now: a partition (nodes in different groups cannot talk), a delay
 * added to every chunk of bytes, and a probability of dropping a connection at each chunk. Immutable; the
 * {@link ChaosProxy proxies} read the current one at every chunk.
 *
 * @param group each node's group; {@code null}: no partition
 */
record LinkPolicy(int[] group, long delayMillis, double dropProbability) {
    static final LinkPolicy CLEAR = new LinkPolicy(null, 0, 0);

    /** Whether {@code from} (−1: unknown) may talk to {@code to}. */
    boolean allowed(int from, int to) {
        if (group == null) {
            return true;
        }
        return from >= 0 && group[from] == group[to];
    }

    LinkPolicy partition(int[] groups) {
        return new LinkPolicy(groups.clone(), delayMillis, dropProbability);
    }

    LinkPolicy withDelay(long millis) {
        return new LinkPolicy(group, millis, dropProbability);
    }

    LinkPolicy withDrop(double p) {
        return new LinkPolicy(group, delayMillis, p);
    }

    LinkPolicy healed() {
        return new LinkPolicy(null, delayMillis, dropProbability);
    }

    @Override
    public String toString() {
        return "LinkPolicy(groups " + Arrays.toString(group) + ", delay " + delayMillis + " ms, drop " + dropProbability
                + ")";
    }
}
