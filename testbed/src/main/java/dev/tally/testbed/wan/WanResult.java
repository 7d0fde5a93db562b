package dev.tally.testbed.wan;

import dev.tally.testbed.loadtest.LatencyStats;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * What a {@link Wan} run saw on the watched node: each final block, when it was seen (after the run started) and its
 * proposal-to-final latency as the node measured it (from its own proposal or its vote to the commit QC).
 */
public record WanResult(List<Partition> partitions, List<Observed> blocks, Duration duration, String watched) {
    public WanResult {
        partitions = List.copyOf(partitions);
        blocks = List.copyOf(blocks);
    }

    /** A final block, seen {@code at} after the run started (those final before it: at its start). */
    public record Observed(long number, Duration at, OptionalLong proposalToFinalMillis) {}

    /** The blocks seen in {@code [from, to)}. */
    public List<Observed> between(Duration from, Duration to) {
        return blocks.stream()
                .filter(b -> b.at().compareTo(from) >= 0 && b.at().compareTo(to) < 0)
                .toList();
    }

    /** Proposal-to-final latency of the blocks seen in {@code [from, to)}. */
    public LatencyStats.Summary latency(Duration from, Duration to) {
        LatencyStats stats = new LatencyStats();
        for (Observed b : between(from, to)) {
            b.proposalToFinalMillis().ifPresent(ms -> stats.add(ms * 1_000_000));
        }
        return stats.summary();
    }

    /** When the first block after {@code at} was seen, if one was. */
    public Optional<Duration> firstBlockAfter(Duration at) {
        return blocks.stream()
                .map(Observed::at)
                .filter(t -> t.compareTo(at) > 0)
                .findFirst();
    }

    /**
     * The report: blocks/s and latency over the run after {@code warmup} (partitions included), then per partition
     * the blocks before, during and after it, and how long after healing the first block came.
     */
    public List<String> report(Duration warmup) {
        List<String> lines = new ArrayList<>();
        LatencyStats.Summary s = latency(warmup, duration);
        double window = (duration.toMillis() - warmup.toMillis()) / 1000.0;
        lines.add(String.format(
                Locale.ROOT,
                "%s, %.0f s after a %d s warm-up: %d blocks, %.2f blocks/s; proposal to final p50 %.0f ms, p99 %.0f ms,"
                        + " max %.0f ms (%d blocks measured)",
                watched,
                window,
                warmup.toSeconds(),
                between(warmup, duration).size(),
                between(warmup, duration).size() / window,
                s.p50(),
                s.p99(),
                s.max(),
                s.count()));
        for (Partition p : partitions) {
            lines.add(String.format(
                    Locale.ROOT,
                    "partition %s: %d blocks before it, %d while %s was cut off, %d after it healed; first block %s",
                    p,
                    between(Duration.ZERO, p.start()).size(),
                    between(p.start(), p.end()).size(),
                    p.region(),
                    between(p.end(), duration).size(),
                    firstBlockAfter(p.end())
                            .map(t -> String.format(
                                    Locale.ROOT,
                                    "%.1f s after healing",
                                    (t.toMillis() - p.end().toMillis()) / 1000.0))
                            .orElse("never after healing")));
        }
        return lines;
    }
}
