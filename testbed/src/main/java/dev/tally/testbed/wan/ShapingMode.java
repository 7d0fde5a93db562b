package dev.tally.testbed.wan;

import java.util.Locale;

/** How to shape the links: with netem if the kernel has it, else a relay ({@code AUTO}); or the one named. */
public enum ShapingMode {
    AUTO,
    NETEM,
    RELAY;

    /** {@code auto}, {@code netem} or {@code relay}; anything else throws, listing those. */
    public static ShapingMode parse(String text) {
        try {
            return valueOf(text.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--shaping is auto, netem or relay, not " + text, e);
        }
    }
}
