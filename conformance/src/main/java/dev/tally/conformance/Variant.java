package dev.tally.conformance;

import java.util.List;

/** A value of a sum type of the model (Option, Phase, Justification): its tag and its value. */
public record Variant(String tag, Object value) {
    private static final Object UNIT = List.of();

    public static Variant none() {
        return new Variant("None", UNIT);
    }

    public static Variant some(Object value) {
        return new Variant("Some", value);
    }

    /** A tag without a value, such as {@code PhaseCommit}. */
    public static Variant of(String tag) {
        return new Variant(tag, UNIT);
    }
}
