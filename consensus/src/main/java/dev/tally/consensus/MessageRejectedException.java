package dev.tally.consensus;

import dev.tally.protocol.InvalidMessageException;

/** How a handler of the replica refuses a message: the rule it breaks, as a {@link Rejection}. */
final class MessageRejectedException extends InvalidMessageException {
    private final transient Rejection rejection;

    MessageRejectedException(Rejection rejection) {
        super(rejection.message());
        this.rejection = rejection;
    }

    Rejection rejection() {
        return rejection;
    }
}
