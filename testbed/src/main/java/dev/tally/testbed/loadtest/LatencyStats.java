package dev.tally.testbed.loadtest;

import java.util.Arrays;

/** A growable list of durations (nanoseconds) and its percentiles. Not thread-safe. */
public final class LatencyStats {
    private long[] values = new long[1024];
    private int size;

    public void add(long nanos) {
        if (size == values.length) {
            values = Arrays.copyOf(values, size * 2);
        }
        values[size++] = nanos;
    }

    public int count() {
        return size;
    }

    /** The summary: count and p50, p90, p99, max in milliseconds (nearest-rank percentiles); NaN when empty. */
    public Summary summary() {
        long[] sorted = Arrays.copyOf(values, size);
        Arrays.sort(sorted);
        return new Summary(
                size,
                ms(sorted, 0.50),
                ms(sorted, 0.90),
                ms(sorted, 0.99),
                size == 0 ? Double.NaN : sorted[size - 1] / 1e6);
    }

    private static double ms(long[] sorted, double q) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        int rank = (int) Math.ceil(q * sorted.length);
        return sorted[Math.max(0, rank - 1)] / 1e6;
    }

    public record Summary(int count, double p50, double p90, double p99, double max) {
        public boolean complete() {
            return count > 0 && Double.isFinite(p50) && Double.isFinite(max);
        }
    }
}
