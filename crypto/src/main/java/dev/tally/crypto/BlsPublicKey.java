package dev.tally.crypto;

import java.nio.ByteBuffer;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import supranational.blst.P2;
import supranational.blst.P2_Affine;

/**
 * A validator's BLS12-381 public key (compressed G2 point). Decoding rejects bad encodings, the point at
 * infinity and points outside the prime-order subgroup, so every instance is safe to verify against.
 */
public final class BlsPublicKey extends FixedBytes {
    public static final String TEXT_PREFIX = "validator:public:bls12_381:";

    private final P2_Affine point;

    private BlsPublicKey(byte[] compressed, P2_Affine point) {
        super(compressed, Bls.PUBLIC_KEY_LENGTH, "BLS public key");
        this.point = point;
    }

    static BlsPublicKey fromPoint(P2 point) {
        return new BlsPublicKey(point.compress(), point.to_affine());
    }

    /**
     * Keys decoded before. Every signed message names its author's key, and a node sees the same few committee
     * keys over and over: decompressing and subgroup-checking a G2 point each time costs tens of microseconds.
     * Bounded: cleared when full (only a flood of distinct keys fills it, and they cost what they always did).
     */
    private static final int DECODED_CAPACITY = 4096;

    private static final Map<ByteBuffer, BlsPublicKey> DECODED = new ConcurrentHashMap<>();

    public static BlsPublicKey fromBytes(byte[] compressed) {
        BlsPublicKey known = DECODED.get(ByteBuffer.wrap(compressed));
        if (known != null) {
            return known;
        }
        BlsPublicKey key = decode(compressed);
        if (DECODED.size() >= DECODED_CAPACITY) {
            DECODED.clear();
        }
        DECODED.put(ByteBuffer.wrap(key.raw()), key);
        return key;
    }

    private static BlsPublicKey decode(byte[] compressed) {
        if (compressed.length != Bls.PUBLIC_KEY_LENGTH) {
            throw new InvalidEncodingException("BLS public key must be 96 bytes, got " + compressed.length);
        }
        P2_Affine p;
        try {
            p = new P2_Affine(compressed);
        } catch (RuntimeException e) {
            throw new InvalidEncodingException("BLS public key does not decode: " + e.getMessage(), e);
        }
        if (p.is_inf()) {
            throw new InvalidEncodingException("BLS public key is the point at infinity");
        }
        if (!p.in_group()) {
            throw new InvalidEncodingException("BLS public key is not in the G2 subgroup");
        }
        return new BlsPublicKey(compressed, p);
    }

    public static BlsPublicKey fromText(String text) {
        return fromBytes(TextFormat.decode(TEXT_PREFIX, text));
    }

    public String toText() {
        return TextFormat.encode(TEXT_PREFIX, raw());
    }

    P2_Affine point() {
        return point;
    }

    @Override
    public String toString() {
        return "validator:" + hex().substring(0, 16);
    }
}
