package dev.tally.node.executor;

/** A component of the node failed, and the node stopped because of it. */
public final class NodeFailedException extends Exception {
    private final String component;

    NodeFailedException(String component, Throwable cause) {
        super(component + " failed: " + cause.getMessage(), cause);
        this.component = component;
    }

    /** The name of the task that failed first, e.g. {@code replica}. */
    public String component() {
        return component;
    }
}
