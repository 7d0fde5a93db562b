package dev.tally.network;

/** The peer failed the preface or endpoint handshake: wrong genesis, wrong or unknown key, bad signature... */
public final class HandshakeException extends ProtocolException {
    public HandshakeException(String message) {
        super(message);
    }

    public HandshakeException(String message, Throwable cause) {
        super(message, cause);
    }
}
