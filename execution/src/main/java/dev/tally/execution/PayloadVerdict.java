package dev.tally.execution;

import java.util.Objects;

/** The execution layer's judgement of a proposed payload. */
public sealed interface PayloadVerdict {
    /** The payload may be finalized. */
    record Valid() implements PayloadVerdict {}

    /** The payload must not be finalized; {@code reason} says why, for logs and the proposer's peers. */
    record Invalid(String reason) implements PayloadVerdict {
        public Invalid {
            Objects.requireNonNull(reason, "reason");
        }
    }

    // A factory, not a constant: a constant of a subclass in this interface could deadlock two threads that
    // initialize the interface and Valid at once (Valid's initialization starts the interface's: it has a default
    // method).
    static PayloadVerdict valid() {
        return new Valid();
    }

    static PayloadVerdict invalid(String reason) {
        return new Invalid(reason);
    }

    default boolean isValid() {
        return this instanceof Valid;
    }
}
