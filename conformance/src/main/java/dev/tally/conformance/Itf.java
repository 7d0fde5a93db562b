package dev.tally.conformance;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tukaani.xz.XZInputStream;

/**
 * Reads the Informal Trace Format (ITF) that Quint writes with {@code --mbt}: JSON, here xz-compressed. Streams
 * the JSON and keeps only the state variables the replay reads (the model's ghost variables and vote stores are
 * the bulk of a file). Values become plain Java values so that the model's sets and records compare by content:
 * integers are {@code Long}, {@code #set} a {@code Set}, {@code #map} and records a {@code Map}, {@code #tup} and
 * lists a {@code List}, a variant a {@link Variant}.
 */
public final class Itf {
    /** The state variables the replay reads; a trace without one of them is refused. */
    static final List<String> REQUIRED_VARS = List.of(
            "replica_state",
            "leader",
            "msgs_proposal",
            "msgs_signed_commit",
            "msgs_signed_timeout",
            "msgs_new_view",
            "proposer_view");

    private static final String ACTION = "mbt::actionTaken";
    private static final String PICKS = "mbt::nondetPicks";
    private static final JsonFactory JSON = new JsonFactory();

    private Itf() {}

    /** Reads an xz-compressed trace; {@code name} names it in errors. */
    public static Trace readXz(String name, InputStream compressed) throws TraceFormatException {
        try (InputStream in = new XZInputStream(compressed);
                JsonParser json = JSON.createParser(in)) {
            return parse(name, json);
        } catch (JsonProcessingException e) {
            throw new TraceFormatException(
                    name,
                    "not valid JSON (" + e.getOriginalMessage() + " at line "
                            + e.getLocation().getLineNr() + ", column "
                            + e.getLocation().getColumnNr() + ")");
        } catch (IOException e) {
            // xz's EOFException for a cut stream has no message: say what it means instead of printing "null".
            String detail = e.getMessage() != null ? e.getMessage() : "the file ends before the stream does";
            throw new TraceFormatException(name, "not a complete xz stream (" + detail + ")");
        }
    }

    private static Trace parse(String name, JsonParser json) throws IOException, TraceFormatException {
        if (json.nextToken() != JsonToken.START_OBJECT) {
            throw new TraceFormatException(name, "not an ITF trace: the top level is not a JSON object");
        }
        List<Trace.Step> steps = null;
        while (json.nextToken() == JsonToken.FIELD_NAME) {
            String field = json.currentName();
            JsonToken value = json.nextToken();
            if (field.equals("states") && value == JsonToken.START_ARRAY) {
                steps = new ArrayList<>();
                while (json.nextToken() == JsonToken.START_OBJECT) {
                    steps.add(step(name, steps.size(), json));
                }
            } else {
                json.skipChildren();
            }
        }
        if (steps == null) {
            throw new TraceFormatException(name, "not an ITF trace: no \"states\" array");
        }
        if (steps.isEmpty()) {
            throw new TraceFormatException(name, "the trace has no states");
        }
        if (!steps.get(0).action().equals("init")) {
            throw new TraceFormatException(
                    name, "state 0 comes from \"" + steps.get(0).action() + "\", not from init");
        }
        return new Trace(name, List.copyOf(steps));
    }

    private static Trace.Step step(String name, int index, JsonParser json) throws IOException, TraceFormatException {
        String where = "state " + index;
        Object action = null;
        Object picks = null;
        Map<String, Object> vars = new HashMap<>();
        while (json.nextToken() == JsonToken.FIELD_NAME) {
            String field = json.currentName();
            json.nextToken();
            String var = field.substring(field.lastIndexOf(':') + 1);
            if (field.equals(ACTION)) {
                action = value(name, where, json);
            } else if (field.equals(PICKS)) {
                picks = value(name, where, json);
            } else if (REQUIRED_VARS.contains(var)) {
                vars.put(var, value(name, where + ", " + var, json));
            } else {
                json.skipChildren();
            }
        }
        if (!(action instanceof String a) || !(picks instanceof Map<?, ?> p)) {
            throw new TraceFormatException(
                    name,
                    where + " has no " + ACTION + " / " + PICKS + " (the trace was not written with quint run --mbt)");
        }
        for (String var : REQUIRED_VARS) {
            if (!vars.containsKey(var)) {
                throw new TraceFormatException(name, where + " lacks the state variable " + var);
            }
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> pickValues = (Map<String, Object>) p;
        return new Trace.Step(index, a, pickValues, vars);
    }

    /** Decodes the ITF value at the parser's current token; {@code where} locates it in errors. */
    private static Object value(String name, String where, JsonParser json) throws IOException, TraceFormatException {
        JsonToken token = json.currentToken();
        if (token == null) {
            throw new TraceFormatException(name, where + ": the file ends inside a value");
        }
        return switch (token) {
            case VALUE_STRING -> json.getText();
            case VALUE_TRUE, VALUE_FALSE -> json.getBooleanValue();
            case VALUE_NUMBER_INT -> json.getLongValue();
            case START_ARRAY -> {
                List<Object> list = new ArrayList<>();
                while (json.nextToken() != JsonToken.END_ARRAY) {
                    list.add(value(name, where, json));
                }
                yield List.copyOf(list);
            }
            case START_OBJECT -> {
                Map<String, Object> fields = new LinkedHashMap<>();
                while (json.nextToken() == JsonToken.FIELD_NAME) {
                    String field = json.currentName();
                    json.nextToken();
                    fields.put(field, value(name, where, json));
                }
                yield special(name, where, fields);
            }
            default -> throw new TraceFormatException(name, where + ": unexpected JSON " + token);
        };
    }

    /** An object that encodes an ITF value ({@code #bigint}, {@code #set}, ..., a variant), else a record. */
    private static Object special(String name, String where, Map<String, Object> fields) throws TraceFormatException {
        if (fields.size() == 1) {
            Map.Entry<String, Object> only = fields.entrySet().iterator().next();
            switch (only.getKey()) {
                case "#bigint" -> {
                    try {
                        return Long.parseLong(String.valueOf(only.getValue()));
                    } catch (NumberFormatException e) {
                        throw new TraceFormatException(
                                name, where + ": #bigint " + only.getValue() + " is not a 64-bit integer");
                    }
                }
                case "#set" -> {
                    return new HashSet<>(list(name, where, only.getValue()));
                }
                case "#tup" -> {
                    return list(name, where, only.getValue());
                }
                case "#map" -> {
                    Map<Object, Object> map = new LinkedHashMap<>();
                    for (Object pair : list(name, where, only.getValue())) {
                        if (!(pair instanceof List<?> kv) || kv.size() != 2) {
                            throw new TraceFormatException(
                                    name, where + ": a #map entry is not a [key, value] pair: " + pair);
                        }
                        map.put(kv.get(0), kv.get(1));
                    }
                    return map;
                }
                default -> {}
            }
        }
        if (fields.size() == 2 && fields.get("tag") instanceof String tag && fields.containsKey("value")) {
            return new Variant(tag, fields.get("value"));
        }
        fields.keySet().removeIf(k -> k.startsWith("#"));
        return fields;
    }

    private static List<?> list(String name, String where, Object value) throws TraceFormatException {
        if (!(value instanceof List<?> l)) {
            throw new TraceFormatException(name, where + ": expected a JSON array, got " + value);
        }
        return l;
    }
}
