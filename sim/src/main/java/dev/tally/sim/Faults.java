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
public record Faults(
        double dropRate,
        double duplicateRate,
        int maxDelayMillis,
        boolean partitions,
        int crashes,
        int wipes,
        long gstMillis) {
    /** No faults: delays up to 20 ms, stable from the start. */
    public static final Faults NONE = builder().build();

    public Faults {
        if (dropRate < 0 || dropRate > 1 || duplicateRate < 0 || duplicateRate > 1) {
            throw new IllegalArgumentException("rates must be in [0, 1]");
        }
        if (maxDelayMillis < 1 || crashes < 0 || wipes < 0 || gstMillis < 0) {
            throw new IllegalArgumentException("delay must be >= 1 ms; crashes, wipes and gst >= 0");
        }
    }

    /** Faults named one by one, starting from {@link #NONE}: {@code Faults.builder().dropRate(0.2).wipes(1).build()}. */
    public static Builder builder() {
        return new Builder();
    }

    /** Sets the components of {@link Faults} by name; those not set keep the values of {@link #NONE}. */
    public static final class Builder {
        private double dropRate;
        private double duplicateRate;
        private int maxDelayMillis = 20;
        private boolean partitions;
        private int crashes;
        private int wipes;
        private long gstMillis;

        private Builder() {}

        public Builder dropRate(double rate) {
            this.dropRate = rate;
            return this;
        }

        public Builder duplicateRate(double rate) {
            this.duplicateRate = rate;
            return this;
        }

        public Builder maxDelayMillis(int millis) {
            this.maxDelayMillis = millis;
            return this;
        }

        public Builder partitions(boolean changing) {
            this.partitions = changing;
            return this;
        }

        public Builder crashes(int count) {
            this.crashes = count;
            return this;
        }

        public Builder wipes(int count) {
            this.wipes = count;
            return this;
        }

        public Builder gstMillis(long millis) {
            this.gstMillis = millis;
            return this;
        }

        /** The faults, checked as {@link Faults} checks them. */
        public Faults build() {
            return new Faults(dropRate, duplicateRate, maxDelayMillis, partitions, crashes, wipes, gstMillis);
        }
    }

    @Override
    public String toString() {
        return String.format("drop %.2f, dup %.2f, delay <= %d ms", dropRate, duplicateRate, maxDelayMillis)
                + (partitions ? ", partitions" : "") + ", crashes " + crashes + ", wipes " + wipes + ", gst "
                + gstMillis + " ms";
    }
}
