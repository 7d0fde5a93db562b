package dev.tally.crypto;

import supranational.blst.BLST_ERROR;
import supranational.blst.P1;
import supranational.blst.P1_Affine;

/** A BLS12-381 signature (compressed G1 point), checked to be in the subgroup when decoded. */
public final class BlsSignature extends FixedBytes {
    public static final String TEXT_PREFIX = "validator:signature:bls12_381:";

    private final P1_Affine point;

    private BlsSignature(byte[] compressed, P1_Affine point) {
        super(compressed, Bls.SIGNATURE_LENGTH, "BLS signature");
        this.point = point;
    }

    static BlsSignature fromPoint(P1 point) {
        return new BlsSignature(point.compress(), point.to_affine());
    }

    public static BlsSignature fromBytes(byte[] compressed) {
        return new BlsSignature(compressed, decodeG1(compressed, "BLS signature"));
    }

    public static BlsSignature fromText(String text) {
        return fromBytes(TextFormat.decode(TEXT_PREFIX, text));
    }

    public String toText() {
        return TextFormat.encode(TEXT_PREFIX, raw());
    }

    /** True iff this is a signature of {@code message} by {@code key}. */
    public boolean verify(byte[] message, BlsPublicKey key) {
        return verify(point, message, key, Bls.DST);
    }

    P1_Affine point() {
        return point;
    }

    static boolean verify(P1_Affine sig, byte[] message, BlsPublicKey key, String dst) {
        return sig.core_verify(key.point(), true, message, dst) == BLST_ERROR.BLST_SUCCESS;
    }

    /** Decodes a compressed G1 point that must lie in the subgroup (infinity allowed, as in blst's sig_validate). */
    static P1_Affine decodeG1(byte[] compressed, String what) {
        if (compressed.length != Bls.SIGNATURE_LENGTH) {
            throw new InvalidEncodingException(what + " must be 48 bytes, got " + compressed.length);
        }
        P1_Affine p;
        try {
            p = new P1_Affine(compressed);
        } catch (RuntimeException e) {
            throw new InvalidEncodingException(what + " does not decode: " + e.getMessage(), e);
        }
        if (!p.in_group()) {
            throw new InvalidEncodingException(what + " is not in the G1 subgroup");
        }
        return p;
    }

    @Override
    public String toString() {
        return "sig:" + hex().substring(0, 16);
    }
}
