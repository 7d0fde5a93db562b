package dev.tally.network;

import java.io.IOException;

/** A peer broke the wire protocol (oversized or malformed frame, exceeded limit, bad handshake); the connection is closed. */
public class ProtocolException extends IOException {
    public ProtocolException(String message) {
        super(message);
    }

    public ProtocolException(String message, Throwable cause) {
        super(message, cause);
    }
}
