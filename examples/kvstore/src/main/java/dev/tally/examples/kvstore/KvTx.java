package dev.tally.examples.kvstore;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * A key-value store transaction: set a key to a value, or delete a key. Two encodings, told apart by the first byte:
 * JSON ({@code {"op":"set","key":"k","value":"v"}}, {@code {"op":"delete","key":"k"}}; keys and values are text) or
 * binary (op byte 1 = set, 2 = delete; key length as 2 bytes big-endian; key; for a set, the value: the rest).
 */
public sealed interface KvTx {
    /** The longest key, in bytes. */
    int MAX_KEY = 256;
    /** The longest value, in bytes. */
    int MAX_VALUE = 4096;
    /** The longest transaction, in bytes. */
    int MAX_TX = 8192;

    byte[] key();

    record Set(byte[] key, byte[] value) implements KvTx {}

    record Delete(byte[] key) implements KvTx {}

    /** Binary encoding. */
    default byte[] encode() {
        byte[] value = this instanceof Set s ? s.value() : new byte[0];
        return ByteBuffer.allocate(3 + key().length + value.length)
                .put((byte) (this instanceof Set ? 1 : 2))
                .putShort((short) key().length)
                .put(key())
                .put(value)
                .array();
    }

    /** JSON encoding (key and value as UTF-8 text). */
    default byte[] encodeJson() {
        ObjectNode o = JSON.createObjectNode();
        o.put("op", this instanceof Set ? "set" : "delete");
        o.put("key", new String(key(), StandardCharsets.UTF_8));
        if (this instanceof Set s) {
            o.put("value", new String(s.value(), StandardCharsets.UTF_8));
        }
        return o.toString().getBytes(StandardCharsets.UTF_8);
    }

    static KvTx set(String key, String value) {
        return new Set(key.getBytes(StandardCharsets.UTF_8), value.getBytes(StandardCharsets.UTF_8));
    }

    static KvTx delete(String key) {
        return new Delete(key.getBytes(StandardCharsets.UTF_8));
    }

    ObjectMapper JSON = new ObjectMapper();

    /**
     * Parses either encoding.
     *
     * @throws IllegalArgumentException naming what is wrong
     */
    static KvTx parse(byte[] tx) {
        if (tx.length == 0) {
            throw new IllegalArgumentException("empty transaction");
        }
        if (tx.length > MAX_TX) {
            throw new IllegalArgumentException("transaction of " + tx.length + " bytes, above the limit of " + MAX_TX);
        }
        KvTx parsed = tx[0] == '{' ? parseJson(tx) : parseBinary(tx);
        if (parsed.key().length == 0 || parsed.key().length > MAX_KEY) {
            throw new IllegalArgumentException(
                    "key of " + parsed.key().length + " bytes; a key is 1 to " + MAX_KEY + " bytes");
        }
        if (parsed instanceof Set s && s.value().length > MAX_VALUE) {
            throw new IllegalArgumentException(
                    "value of " + s.value().length + " bytes, above the limit of " + MAX_VALUE);
        }
        return parsed;
    }

    private static KvTx parseBinary(byte[] tx) {
        if (tx.length < 3 || (tx[0] != 1 && tx[0] != 2)) {
            throw new IllegalArgumentException("not a transaction: binary ones start with op 1 (set) or 2 (delete)"
                    + " and a 2-byte key length, JSON ones with '{'");
        }
        ByteBuffer in = ByteBuffer.wrap(tx);
        byte op = in.get();
        int keyLength = Short.toUnsignedInt(in.getShort());
        if (keyLength > in.remaining()) {
            throw new IllegalArgumentException("key length " + keyLength + " runs past the transaction's end");
        }
        byte[] key = new byte[keyLength];
        in.get(key);
        byte[] rest = new byte[in.remaining()];
        in.get(rest);
        if (op == 2 && rest.length > 0) {
            throw new IllegalArgumentException(
                    "a delete carries no value, got " + rest.length + " bytes after the key");
        }
        return op == 1 ? new Set(key, rest) : new Delete(key);
    }

    private static KvTx parseJson(byte[] tx) {
        JsonNode o;
        try {
            o = JSON.readTree(tx);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException("malformed JSON: " + e.getOriginalMessage());
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException("unreadable JSON: " + e.getMessage());
        }
        java.util.Set<String> fields = new java.util.HashSet<>();
        o.fieldNames().forEachRemaining(fields::add);
        String op = o.path("op").asText("");
        java.util.Set<String> expected =
                op.equals("set") ? java.util.Set.of("op", "key", "value") : java.util.Set.of("op", "key");
        if (!op.equals("set") && !op.equals("delete")) {
            throw new IllegalArgumentException("\"op\" must be \"set\" or \"delete\", got " + o.get("op"));
        }
        if (!fields.equals(expected)) {
            throw new IllegalArgumentException("a " + op + " has exactly the fields " + expected + ", got " + fields);
        }
        byte[] key = text(o, "key");
        return op.equals("set") ? new Set(key, text(o, "value")) : new Delete(key);
    }

    private static byte[] text(JsonNode o, String field) {
        if (!o.get(field).isTextual()) {
            throw new IllegalArgumentException("\"" + field + "\" must be text, got " + o.get(field));
        }
        return o.get(field).textValue().getBytes(StandardCharsets.UTF_8);
    }
}
