package dev.tally.sim;

/**
 * The network and node faults of a scenario, all before the stabilisation time {@code gstMillis}; after it,
 * every message between live nodes arrives within {@code NetworkModel.STABLE_DELAY_MILLIS} and nothing crashes.
 *
 * @param dropRate chance a message is lost
 * @param duplicateRate chance a message arrives twice
 * @param maxDelayMillis delays are uniform in [1, maxDelayMillis]
 * @param partitions whether the nodes are split into changing groups that cannot reach each other
 * @param crashes how many crash-and-restart events (a crash may cut a node's step in the middle)
 * @param wipes how many times a node loses its whole data directory (blocks and replica state) and restarts
 * @param gstMillis when the network stabilises
 */
public record Faults(double dropRate, double duplicateRate, int maxDelayMillis, boolean partitions, int crashes, int wipes,
        long gstMillis) {
    public static final Faults NONE = new Faults(0, 0, 20, false, 0, 0, 0);

    public Faults {
        if (dropRate < 0 || dropRate > 1 || duplicateRate < 0 || duplicateRate > 1) {
            throw new IllegalArgumentException("rates must be in [0, 1]");
        }
        if (maxDelayMillis < 1 || crashes < 0 || wipes < 0 || gstMillis < 0) {
            throw new IllegalArgumentException("delay must be >= 1 ms; crashes, wipes and gst >= 0");
        }
    }

    @Override
    public String toString() {
        return String.format("drop %.2f, dup %.2f, delay <= %d ms", dropRate, duplicateRate, maxDelayMillis)
                + (partitions ? ", partitions" : "") + ", crashes " + crashes + ", wipes " + wipes + ", gst " + gstMillis + " ms";
    }
}
