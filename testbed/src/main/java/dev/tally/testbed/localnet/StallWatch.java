package dev.tally.testbed.localnet;

import java.time.Duration;
import java.util.Locale;
import java.util.Optional;

/**
 * The localnet console's stall lines: one when no new final block was seen for the threshold (saying how long), and
 * one when blocks come again (saying how long the stall lasted). Until the first new block the wait is the start's
 * allowance instead: the nodes' processes start, connect and make their first block in that time, which on a small
 * machine takes longer than a stall of a running chain. Fed the newest block number the monitor knows and the time;
 * not thread-safe (the monitor's one thread feeds it).
 */
public final class StallWatch {
    private final long thresholdNanos;
    private final long startAllowanceNanos;
    private long lastBlock = Long.MIN_VALUE;
    private long lastBlockAt;
    private boolean started; // a new block came since watching began
    private boolean stalled;

    /**
     * Starts watching at {@code nowNanos}, as if a block had just come; {@code startAllowance} (at least the
     * threshold) is how long the first new block may take.
     */
    public StallWatch(Duration threshold, Duration startAllowance, long nowNanos) {
        if (threshold.isNegative() || threshold.isZero()) {
            throw new IllegalArgumentException("the stall threshold must be positive, got " + threshold);
        }
        if (startAllowance.compareTo(threshold) < 0) {
            throw new IllegalArgumentException("the start allowance must be at least the stall threshold " + threshold
                    + ", got " + startAllowance);
        }
        this.thresholdNanos = threshold.toNanos();
        this.startAllowanceNanos = startAllowance.toNanos();
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
            started = true;
            if (stalled) {
                stalled = false;
                return Optional.of(String.format(
                        Locale.ROOT, "chain resumed: block %d, after %.1f s without a new block", block, quiet / 1e9));
            }
            return Optional.empty();
        }
        if (!stalled && nowNanos - lastBlockAt >= (started ? thresholdNanos : startAllowanceNanos)) {
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
