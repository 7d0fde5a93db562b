package dev.tally.execution;

import java.util.Objects;

/** What became of a pushed transaction. */
public sealed interface TransactionResult {
    /** Queued for a future block. */
    record Accepted() implements TransactionResult {}

    /** Already queued; nothing changed. */
    record Duplicate() implements TransactionResult {}

    /**
     * Not queued: {@code kind} names the rule in a few stable words (metrics count refusals by it, so an execution
     * layer should keep its kinds few), {@code reason} says why in full (too large, mempool full, ...).
     */
    record Rejected(String kind, String reason) implements TransactionResult {
        /** A transaction with no bytes. */
        public static final String EMPTY = "empty";
        /** A transaction above the size limit. */
        public static final String TOO_LARGE = "too_large";
        /** No room left in the mempool. */
        public static final String MEMPOOL_FULL = "mempool_full";
        /** The kind of a refusal that names none. */
        public static final String OTHER = "other";

        public Rejected {
            Objects.requireNonNull(kind, "kind");
            Objects.requireNonNull(reason, "reason");
        }

        /** A refusal of kind {@link #OTHER}. */
        public Rejected(String reason) {
            this(OTHER, reason);
        }
    }
}
