package dev.tally.crypto;

/** Bytes or text that do not decode to a valid key, signature or hash; the message names the problem. */
public class InvalidEncodingException extends IllegalArgumentException {
    public InvalidEncodingException(String message) {
        super(message);
    }

    public InvalidEncodingException(String message, Throwable cause) {
        super(message, cause);
    }
}
