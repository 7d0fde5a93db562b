package dev.tally.node.embed;

/** A node could not start; the message names the cause (a port taken, a bad data directory, a failed replay, ...). */
public final class NodeStartException extends Exception {
    NodeStartException(String message, Throwable cause) {
        super(message, cause);
    }
}
