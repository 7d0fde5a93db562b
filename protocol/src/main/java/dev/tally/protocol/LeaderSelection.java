package dev.tally.protocol;

/** How views are assigned to leaders: each leader keeps {@code frequency} consecutive views (a turn). */
public record LeaderSelection(long frequency, Mode mode) {
    public enum Mode {
        /** Leaders take turns in schedule order. */
        ROUND_ROBIN,
        /** A leader is drawn per turn with probability proportional to its weight, from keccak256(turn). */
        WEIGHTED
    }

    public LeaderSelection {
        if (frequency <= 0) {
            throw new IllegalArgumentException(
                    "leader_selection.frequency must be at least 1, got " + Long.toUnsignedString(frequency));
        }
        if (mode == null) {
            throw new IllegalArgumentException("leader_selection.mode is required");
        }
    }
}
