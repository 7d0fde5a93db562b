package dev.tally.execution;

import java.util.HexFormat;
import java.util.Objects;

/** The application's state after block {@code block}, named by its root (the application hash). */
public record AppliedState(long block, byte[] root) {
    public AppliedState {
        Objects.requireNonNull(root, "root");
        root = root.clone();
    }

    @Override
    public byte[] root() {
        return root.clone();
    }

    /** The root in hex. */
    public String rootHex() {
        return HexFormat.of().formatHex(root);
    }

    @Override
    public String toString() {
        return "block " + block + " root " + rootHex();
    }
}
