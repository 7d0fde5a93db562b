package dev.tally.protocol;

/** Bytes that are not a valid encoding of the expected message; the message names the field at fault. */
public class DecodeException extends Exception {
    public DecodeException(String message) {
        super(message);
    }

    public DecodeException(String message, Throwable cause) {
        super(message, cause);
    }
}
