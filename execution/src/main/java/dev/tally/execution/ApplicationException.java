package dev.tally.execution;

/** The application failed to apply a final block: the node must stop, as going on would diverge from its peers. */
public final class ApplicationException extends RuntimeException {
    private final long block;

    public ApplicationException(long block, String problem, Throwable cause) {
        super("the application failed to apply block " + block + ": " + problem, cause);
        this.block = block;
    }

    /** The block that could not be applied. */
    public long block() {
        return block;
    }
}
