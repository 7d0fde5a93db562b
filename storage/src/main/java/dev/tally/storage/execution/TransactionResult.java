package dev.tally.storage.execution;

import java.util.Objects;

/** What became of a pushed transaction. */
public sealed interface TransactionResult {
    /** Queued for a future block. */
    record Accepted() implements TransactionResult {}

    /** Already queued; nothing changed. */
    record Duplicate() implements TransactionResult {}

    /** Not queued; {@code reason} says why (too large, mempool full, ...). */
    record Rejected(String reason) implements TransactionResult {
        public Rejected {
            Objects.requireNonNull(reason, "reason");
        }
    }
}
