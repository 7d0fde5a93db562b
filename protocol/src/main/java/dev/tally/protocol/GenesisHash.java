package dev.tally.protocol;

import dev.tally.crypto.Keccak256;
import dev.tally.crypto.TextFormat;

/** keccak-256 of the canonical encoding of a {@link Genesis}: names the chain in every view. */
public record GenesisHash(Keccak256 keccak) {
    public static final String TEXT_PREFIX = "genesis_hash:keccak256:";

    public static GenesisHash fromText(String text) {
        return new GenesisHash(new Keccak256(TextFormat.decode(TEXT_PREFIX, text)));
    }

    public String toText() {
        return TextFormat.encode(TEXT_PREFIX, keccak.bytes());
    }

    @Override
    public String toString() {
        return toText();
    }
}
