package dev.tally.protocol;

import dev.tally.crypto.BlsPublicKey;

/** A validator in a schedule: its key, its voting weight (> 0), and whether it may lead views. */
public record ValidatorInfo(BlsPublicKey key, long weight, boolean leader) {
    public ValidatorInfo {
        if (weight <= 0) {
            throw new IllegalArgumentException("validator " + key + " has weight " + Long.toUnsignedString(weight)
                    + "; weights must be in [1, 2^63)");
        }
    }
}
