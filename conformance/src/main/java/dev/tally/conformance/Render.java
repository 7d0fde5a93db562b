package dev.tally.conformance;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/** Renders model values compactly for diffs: records as {@code {field: value}}, sets sorted, Options bare. */
final class Render {
    private Render() {}

    static String of(Object value) {
        return switch (value) {
            case null -> "null";
            case Variant v when v.tag().equals("None") -> "None";
            case Variant v when v.tag().equals("Some") -> of(v.value());
            case Variant v when v.value() instanceof List<?> l && l.isEmpty() -> v.tag();
            case Variant v -> v.tag() + "(" + of(v.value()) + ")";
            case Map<?, ?> m ->
                m.entrySet().stream()
                        .map(e -> of(e.getKey()) + ": " + of(e.getValue()))
                        .sorted()
                        .collect(Collectors.joining(", ", "{", "}"));
            case java.util.Set<?> s -> s.stream().map(Render::of).sorted().collect(Collectors.joining(", ", "{", "}"));
            case List<?> l -> l.stream().map(Render::of).collect(Collectors.joining(", ", "[", "]"));
            default -> value.toString();
        };
    }

    static String lines(Collection<?> values) {
        return values.isEmpty()
                ? "      (none)"
                : values.stream().map(v -> "      " + of(v)).sorted().collect(Collectors.joining("\n"));
    }
}
