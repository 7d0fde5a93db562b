package dev.tally.execution;

import java.util.Objects;

/** The application's judgement of a transaction offered to the mempool. */
public sealed interface TxCheck {
    /** The mempool may take it. */
    record Ok() implements TxCheck {}

    /** Refused; {@code reason} goes back to the client that sent it. */
    record Refused(String reason) implements TxCheck {
        public Refused {
            Objects.requireNonNull(reason, "reason");
        }
    }

    static TxCheck ok() {
        return new Ok();
    }

    static TxCheck refused(String reason) {
        return new Refused(reason);
    }
}
