package dev.tally.testbed.chaos;

import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Set;

/**
 * What a chaos run runs; build one with {@link #builder(Path)}.
 *
 * @param dir where the network lives; must not hold one
 * @param duration how long faults are injected
 * @param seed the seed of the fault schedule
 * @param viewTimeout the network's view timeout
 * @param recoveryTimeout how long the network may take to finalize again after the faults stop or a halt ends
 * @param faults the kinds of fault injected
 */
public record ChaosOptions(
        int validators,
        Duration duration,
        long seed,
        Path dir,
        Duration viewTimeout,
        Duration recoveryTimeout,
        Set<Fault> faults) {
    public ChaosOptions {
        faults = faults.isEmpty() ? EnumSet.noneOf(Fault.class) : EnumSet.copyOf(faults);
    }

    /** Options for a network in {@code dir}: 6 validators, 300 s of every kind of fault, seed 0, timeouts 2 s and 90 s. */
    public static Builder builder(Path dir) {
        return new Builder(dir);
    }

    /** Options by name. */
    public static final class Builder {
        private final Path dir;
        private int validators = 6;
        private Duration duration = Duration.ofSeconds(300);
        private long seed;
        private Duration viewTimeout = Duration.ofSeconds(2);
        private Duration recoveryTimeout = Duration.ofSeconds(90);
        private Set<Fault> faults = EnumSet.allOf(Fault.class);

        private Builder(Path dir) {
            this.dir = dir;
        }

        public Builder validators(int n) {
            this.validators = n;
            return this;
        }

        public Builder duration(Duration d) {
            this.duration = d;
            return this;
        }

        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        public Builder viewTimeout(Duration d) {
            this.viewTimeout = d;
            return this;
        }

        public Builder recoveryTimeout(Duration d) {
            this.recoveryTimeout = d;
            return this;
        }

        public Builder faults(Set<Fault> kinds) {
            this.faults = kinds;
            return this;
        }

        public ChaosOptions build() {
            return new ChaosOptions(validators, duration, seed, dir, viewTimeout, recoveryTimeout, faults);
        }
    }
}
