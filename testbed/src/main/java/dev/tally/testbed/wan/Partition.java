package dev.tally.testbed.wan;

import java.time.Duration;

/** A region cut off from the others from {@code start} to {@code end} after the run started (its first final block). */
public record Partition(String region, Duration start, Duration end) {
    public Partition {
        if (start.isNegative() || end.compareTo(start) <= 0) {
            throw new IllegalArgumentException("a partition must end after it starts, and start at 0 s or later: "
                    + start.toSeconds() + " s to " + end.toSeconds() + " s");
        }
    }

    /** Parses {@code REGION:START:END}, the times in seconds after the run starts. */
    public static Partition parse(String text) {
        String[] parts = text.split(":", -1);
        if (parts.length != 3 || parts[0].isBlank()) {
            throw new IllegalArgumentException(
                    "a partition is REGION:START:END (seconds), e.g. asia:20:35; got " + text);
        }
        try {
            return new Partition(
                    parts[0],
                    Duration.ofMillis(Math.round(Double.parseDouble(parts[1]) * 1000)),
                    Duration.ofMillis(Math.round(Double.parseDouble(parts[2]) * 1000)));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("a partition's START and END are seconds, e.g. asia:20:35; got " + text);
        }
    }

    @Override
    public String toString() {
        return region + " cut off from " + start.toMillis() / 1000.0 + " s to " + end.toMillis() / 1000.0 + " s";
    }
}
