package dev.tally.protocol;

import dev.tally.crypto.Keccak256;
import dev.tally.crypto.TextFormat;

/** keccak-256 of a block payload. */
public record PayloadHash(Keccak256 keccak) {
    public static final String TEXT_PREFIX = "payload:keccak256:";

    public static PayloadHash fromText(String text) {
        return new PayloadHash(new Keccak256(TextFormat.decode(TEXT_PREFIX, text)));
    }

    public String toText() {
        return TextFormat.encode(TEXT_PREFIX, keccak.bytes());
    }

    @Override
    public String toString() {
        return "payload:" + keccak.hex().substring(0, 12);
    }
}
