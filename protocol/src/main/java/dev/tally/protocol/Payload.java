package dev.tally.protocol;

import com.google.protobuf.ByteString;
import dev.tally.crypto.Keccak256;

/** The opaque content of a block, produced and checked by the execution layer. */
public record Payload(ByteString bytes) {
    public static Payload of(byte[] bytes) {
        return new Payload(ByteString.copyFrom(bytes));
    }

    public PayloadHash hash() {
        return new PayloadHash(Keccak256.of(bytes.toByteArray()));
    }

    public int size() {
        return bytes.size();
    }

    @Override
    public String toString() {
        return "Payload(" + bytes.size() + " bytes)";
    }
}
