package dev.tally.protocol;

import dev.tally.crypto.Keccak256;
import dev.tally.crypto.TextFormat;

/** keccak-256 of the canonical encoding of a validator message: the 32 bytes a validator signs. */
public record MessageHash(Keccak256 keccak) {
    public static final String TEXT_PREFIX = "validator_msg:keccak256:";

    public static MessageHash fromText(String text) {
        return new MessageHash(new Keccak256(TextFormat.decode(TEXT_PREFIX, text)));
    }

    public String toText() {
        return TextFormat.encode(TEXT_PREFIX, keccak.bytes());
    }

    @Override
    public String toString() {
        return toText();
    }
}
