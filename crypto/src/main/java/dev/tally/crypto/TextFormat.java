package dev.tally.crypto;

import java.util.HexFormat;

/** The `prefix:hex` text forms of keys, signatures and hashes used in configs, logs and the CLI. */
public final class TextFormat {
    private TextFormat() {}

    public static String encode(String prefix, byte[] bytes) {
        return prefix + HexFormat.of().formatHex(bytes);
    }

    /** Decodes `prefix<hex>`, naming the expected prefix when the text does not carry it. */
    public static byte[] decode(String prefix, String text) {
        String t = text.strip();
        if (!t.startsWith(prefix)) {
            throw new InvalidEncodingException(
                    "expected text starting with '" + prefix + "', got '" + abbreviate(t) + "'");
        }
        try {
            return HexFormat.of().parseHex(t.substring(prefix.length()));
        } catch (IllegalArgumentException e) {
            throw new InvalidEncodingException("bad hex after '" + prefix + "': " + e.getMessage(), e);
        }
    }

    /** Never echo a whole (possibly secret) value back into an error message. */
    private static String abbreviate(String t) {
        return t.length() <= 40 ? t : t.substring(0, 40) + "...";
    }
}
