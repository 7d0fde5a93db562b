package dev.tally.node.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import java.util.Iterator;
import java.util.List;

/**
 * Strict reading of one JSON object: only the listed fields may appear, and each read checks presence and
 * JSON type itself, so every problem is reported with the path of the value at fault.
 */
final class ObjectFields {
    private final JsonNode node;
    private final String path;

    private ObjectFields(JsonNode node, String path) {
        this.node = node;
        this.path = path;
    }

    /** Checks that {@code node} is an object with no field outside {@code fields}. */
    static ObjectFields of(JsonNode node, String path, String... fields) throws ConfigException {
        if (node == null || !node.isObject()) {
            throw new ConfigException(path, "must be a JSON object, got " + describe(node));
        }
        List<String> known = List.of(fields);
        for (Iterator<String> names = node.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!known.contains(name)) {
                throw new ConfigException(
                        path + "." + name, "unknown field (expected " + String.join(", ", known) + ")");
            }
        }
        return new ObjectFields(node, path);
    }

    String path(String field) {
        return path + "." + field;
    }

    boolean has(String field) {
        JsonNode value = node.get(field);
        return value != null && !value.isNull();
    }

    JsonNode get(String field) throws ConfigException {
        JsonNode value = node.get(field);
        if (value == null) {
            throw new ConfigException(path(field), "missing (required field)");
        }
        return value;
    }

    ObjectFields object(String field, String... fields) throws ConfigException {
        return of(get(field), path(field), fields);
    }

    ArrayNode array(String field) throws ConfigException {
        JsonNode value = get(field);
        if (!value.isArray()) {
            throw new ConfigException(path(field), "must be a JSON array, got " + describe(value));
        }
        return (ArrayNode) value;
    }

    String text(String field) throws ConfigException {
        JsonNode value = get(field);
        if (!value.isTextual()) {
            throw new ConfigException(path(field), "must be a string, got " + describe(value));
        }
        return value.textValue();
    }

    boolean bool(String field) throws ConfigException {
        JsonNode value = get(field);
        if (!value.isBoolean()) {
            throw new ConfigException(path(field), "must be true or false, got " + describe(value));
        }
        return value.booleanValue();
    }

    /** An integer in [0, 2^63-1], written as a JSON integer (not 1.0, 1e3 or "1"). */
    long nonNegativeLong(String field) throws ConfigException {
        return integer(field, 0, "must be a non-negative integer (at most 2^63-1)");
    }

    /** An integer in [1, 2^63-1], written as a JSON integer. */
    long positiveLong(String field) throws ConfigException {
        return integer(field, 1, "must be a positive integer (at most 2^63-1)");
    }

    private long integer(String field, long min, String rule) throws ConfigException {
        JsonNode value = get(field);
        if (!value.isIntegralNumber() || !value.canConvertToLong() || value.longValue() < min) {
            throw new ConfigException(path(field), rule + ", got " + describe(value));
        }
        return value.longValue();
    }

    /** A short rendering of a JSON value for error messages. */
    static String describe(JsonNode value) {
        if (value == null || value.isMissingNode()) {
            return "nothing";
        }
        if (value.isObject()) {
            return "an object";
        }
        if (value.isArray()) {
            return "an array";
        }
        String json = value.toString();
        return json.length() <= 40 ? json : json.substring(0, 40) + "...";
    }
}
