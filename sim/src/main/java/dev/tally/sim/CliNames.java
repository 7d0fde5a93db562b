package dev.tally.sim;

import java.util.Arrays;
import java.util.Locale;

/** The command-line spelling of the simulator's enums: lower case, dashes for underscores. */
public final class CliNames {
    private CliNames() {}

    public static String of(Enum<?> value) {
        return value.name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** The constant spelled {@code text}, or an error naming the choices. */
    public static <E extends Enum<E>> E parse(Class<E> type, String text, String what) {
        for (E e : type.getEnumConstants()) {
            if (of(e).equals(text)) {
                return e;
            }
        }
        throw new IllegalArgumentException("unknown " + what + " '" + text + "'; expected one of "
                + Arrays.stream(type.getEnumConstants()).map(CliNames::of).toList());
    }
}
