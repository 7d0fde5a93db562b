package dev.tally.storage;

/**
 * A storage operation failed or was refused. The message names the problem and where it is (the data directory
 * path, the record key or the block numbers involved), so that an operator can act on it without a stack trace.
 * Unchecked: a node cannot continue safely after a storage failure and should stop.
 */
public class StorageException extends RuntimeException {
    public StorageException(String message) {
        super(message);
    }

    public StorageException(String message, Throwable cause) {
        super(message, cause);
    }
}
