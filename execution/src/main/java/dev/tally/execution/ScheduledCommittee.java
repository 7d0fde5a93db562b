package dev.tally.execution;

import dev.tally.protocol.ValidatorSchedule;
import java.util.Objects;

/** A committee that takes over from block {@code activationBlock} on (that block is the first it finalizes). */
public record ScheduledCommittee(long activationBlock, ValidatorSchedule committee) {
    public ScheduledCommittee {
        if (activationBlock < 0) {
            throw new IllegalArgumentException("activation block " + activationBlock + " is negative");
        }
        Objects.requireNonNull(committee, "committee");
    }
}
