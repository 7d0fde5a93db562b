package dev.tally.protocol;

/** A well-formed message that breaks a protocol rule (wrong chain, bad signature, too little weight...). */
public class InvalidMessageException extends Exception {
    public InvalidMessageException(String message) {
        super(message);
    }

    public static void check(boolean ok, String message) throws InvalidMessageException {
        if (!ok) {
            throw new InvalidMessageException(message);
        }
    }
}
