package dev.tally.consensus;

import dev.tally.crypto.BlsSecretKey;
import dev.tally.protocol.Epoch;

/**
 * A validator's consensus settings. The view timeout is a protocol constant: every validator of a chain
 * should use the same one. {@code checkInvariants} makes the replica check its own {@link Invariant}s after every
 * step (on unless switched off: see {@link #withInvariantChecks}).
 */
public record ConsensusConfig(
        BlsSecretKey validatorKey, Epoch epoch, long viewTimeoutMillis, int maxPayloadSize, boolean checkInvariants) {
    public static final long DEFAULT_VIEW_TIMEOUT_MILLIS = 2_000;
    public static final int DEFAULT_MAX_PAYLOAD_SIZE = 2_500_000;

    public ConsensusConfig {
        if (viewTimeoutMillis <= 0) {
            throw new IllegalArgumentException("view timeout must be positive, got " + viewTimeoutMillis + " ms");
        }
        if (maxPayloadSize <= 0) {
            throw new IllegalArgumentException("max payload size must be positive, got " + maxPayloadSize);
        }
        if (!epoch.committee().contains(validatorKey.publicKey())) {
            throw new IllegalArgumentException("validator key "
                    + validatorKey.publicKey().toText() + " is not in the committee of epoch " + epoch.number());
        }
    }

    /** Settings whose replica checks its invariants after every step. */
    public ConsensusConfig(BlsSecretKey validatorKey, Epoch epoch, long viewTimeoutMillis, int maxPayloadSize) {
        this(validatorKey, epoch, viewTimeoutMillis, maxPayloadSize, true);
    }

    /** These settings with the replica's self-check after every step on or off. */
    public ConsensusConfig withInvariantChecks(boolean on) {
        return new ConsensusConfig(validatorKey, epoch, viewTimeoutMillis, maxPayloadSize, on);
    }
}
