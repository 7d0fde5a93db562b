package dev.tally.node.rpc;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A request's params, by name (an object, or a GET query whose values are text) or by position (an array).
 * Numbers may come as JSON numbers or decimal text; bytes as hex text, with or without {@code 0x}.
 */
public record RpcParams(JsonNode params) {
    /** The param by name, or by position in an array; null when it is not given (or given as null). */
    private JsonNode find(String name, int position) {
        JsonNode v = params.isArray() ? params.get(position) : params.get(name);
        return v == null || v.isNull() ? null : v;
    }

    private JsonNode get(String name, int position) throws RpcException {
        JsonNode v = find(name, position);
        if (v == null) {
            throw new RpcException(
                    RpcException.INVALID_PARAMS,
                    "missing param \"" + name + "\" (by name, or at position " + position + ")");
        }
        return v;
    }

    public long nonNegativeLong(String name, int position) throws RpcException {
        JsonNode v = get(name, position);
        long n;
        if (v.isIntegralNumber() && v.canConvertToLong()) {
            n = v.longValue();
        } else if (v.isTextual()) {
            try {
                n = Long.parseLong(v.textValue().strip());
            } catch (NumberFormatException e) {
                throw new RpcException(
                        RpcException.INVALID_PARAMS,
                        "param \"" + name + "\" must be a number, got \"" + v.textValue() + "\"");
            }
        } else {
            throw new RpcException(RpcException.INVALID_PARAMS, "param \"" + name + "\" must be a number, got " + v);
        }
        if (n < 0) {
            throw new RpcException(
                    RpcException.INVALID_PARAMS, "param \"" + name + "\" must not be negative, got " + n);
        }
        return n;
    }

    /** An optional number from {@code min} to {@code max}; {@code absent} when the param is not given. */
    public long longBetween(String name, int position, long min, long max, long absent) throws RpcException {
        if (find(name, position) == null) {
            return absent;
        }
        long n = nonNegativeLong(name, position);
        if (n < min || n > max) {
            throw new RpcException(
                    RpcException.INVALID_PARAMS,
                    "param \"" + name + "\" must be from " + min + " to " + max + ", got " + n);
        }
        return n;
    }

    public byte[] hex(String name, int position) throws RpcException {
        return hex(get(name, position), "param \"" + name + "\"");
    }

    /** An array of 1 to {@code max} hex texts; a bad item is named by its index ({@code txs[3]}). */
    public List<byte[]> hexArray(String name, int position, int max) throws RpcException {
        JsonNode v = get(name, position);
        if (!v.isArray() || v.isEmpty() || v.size() > max) {
            throw new RpcException(
                    RpcException.INVALID_PARAMS,
                    "param \"" + name + "\" must be an array of 1 to " + max + " hex texts, got "
                            + (v.isArray()
                                    ? v.size() + " items"
                                    : v.getNodeType().name().toLowerCase(Locale.ROOT)));
        }
        List<byte[]> out = new ArrayList<>(v.size());
        for (int i = 0; i < v.size(); i++) {
            out.add(hex(v.get(i), name + "[" + i + "]"));
        }
        return out;
    }

    private static byte[] hex(JsonNode v, String what) throws RpcException {
        if (!v.isTextual()) {
            throw new RpcException(RpcException.INVALID_PARAMS, what + " must be hex text, got " + v);
        }
        String text = v.textValue().strip();
        if (text.startsWith("0x")) {
            text = text.substring(2);
        }
        try {
            return HexFormat.of().parseHex(text);
        } catch (IllegalArgumentException e) {
            throw new RpcException(RpcException.INVALID_PARAMS, what + " is not hex: " + e.getMessage());
        }
    }

    /** Every param as text, by name; positional ones are named "0", "1", ... (an application query's params). */
    public Map<String, String> texts() {
        Map<String, String> texts = new LinkedHashMap<>();
        if (params.isArray()) {
            for (int i = 0; i < params.size(); i++) {
                texts.put(Integer.toString(i), text(params.get(i)));
            }
        } else {
            params.properties().forEach(e -> texts.put(e.getKey(), text(e.getValue())));
        }
        return texts;
    }

    private static String text(JsonNode v) {
        return v.isValueNode() ? v.asText() : v.toString();
    }
}
