package dev.tally.node.config;

/** A config value the operator must fix; {@link #path()} names it, e.g. {@code genesis.validators[0].weight}. */
public final class ConfigException extends Exception {
    private final String path;

    public ConfigException(String path, String problem) {
        super(path + ": " + problem);
        this.path = path;
    }

    public String path() {
        return path;
    }
}
