package dev.tally.consensus;

import dev.tally.crypto.BlsPublicKey;
import dev.tally.protocol.ValidatorSchedule;

/**
 * Who leads each view. A node always uses its epoch's schedule ({@link #of}); the function is injectable so that a
 * test can impose one, e.g. the arbitrary leader map a run of the formal model picks at its start.
 */
@FunctionalInterface
public interface LeaderSchedule {
    BlsPublicKey leader(long view);

    /** The leader selection of the validator schedule (PROTOCOL.md section 1). */
    static LeaderSchedule of(ValidatorSchedule committee) {
        return committee::leader;
    }
}
