package dev.tally.testbed.localnet;

import java.time.Duration;
import java.util.Locale;
import java.util.Optional;

/**
 * The localnet console's stall lines: one when no new final block was seen for the threshold (saying how long), and
 * one when blocks come again (saying how long the stall lasted). Fed the newest block number the monitor knows and
 * the time; not thread-safe (the monitor's one thread feeds it).
 */
public final class StallWatch {
    private final long thresholdNanos;
    private long lastBlock = Long.MIN_VALUE;
    private long lastBlockAt;
    private boolean stalled;

    /** Starts watching at {@code nowNanos}, as if a block had just come. */
    public StallWatch(Duration threshold, long nowNanos) {
        if (threshold.isNegative() || threshold.isZero()) {
            throw new IllegalArgumentException("the stall threshold must be positive, got " + threshold);
        }
        this.thresholdNanos = threshold.toNanos();
        this.lastBlockAt = nowNanos;
    }

    /**
     * The newest final block known at {@code nowNanos} ({@code -1} when none is): the line to print, if one is due.
     */
    public Optional<String> observe(long block, long nowNanos) {
        if (lastBlock == Long.MIN_VALUE) {
            lastBlock = block; // where the network stands when watching starts: not a new block
        } else if (block > lastBlock) {
            lastBlock = block;
            long quiet = nowNanos - lastBlockAt;
            lastBlockAt = nowNanos;
            if (stalled) {
                stalled = false;
                return Optional.of(String.format(
                        Locale.ROOT, "chain resumed: block %d, after %.1f s without a new block", block, quiet / 1e9));
            }
            return Optional.empty();
        }
        if (!stalled && nowNanos - lastBlockAt >= thresholdNanos) {
            stalled = true;
            return Optional.of(String.format(
                    Locale.ROOT,
                    "chain stalled: no new block for %.1f s (last block %s); the node logs say what is missing",
                    (nowNanos - lastBlockAt) / 1e9,
                    lastBlock < 0 ? "none" : Long.toString(lastBlock)));
        }
        return Optional.empty();
    }
}
