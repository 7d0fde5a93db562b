package dev.tally.crypto;

import java.math.BigInteger;
import java.security.SecureRandom;
import java.util.List;
import supranational.blst.BLST_ERROR;
import supranational.blst.P1;
import supranational.blst.P1_Affine;
import supranational.blst.Pairing;

/**
 * A BLS12-381 signature (compressed G1 point). Decoded with {@link #fromBytes}, or made by signing, it is known to lie
 * in the G1 subgroup; decoded with {@link #fromBytesForAggregation} it is only known to lie on the curve, and its
 * subgroup is checked by whatever verifies it: {@link #verify} (blst's core_verify refuses a point outside G1) or
 * {@link BlsAggregateSignature#aggregate}, which checks the sum.
 */
public final class BlsSignature extends FixedBytes {
    public static final String TEXT_PREFIX = "validator:signature:bls12_381:";

    private final P1_Affine point;
    private final boolean inSubgroup;

    private BlsSignature(byte[] compressed, P1_Affine point, boolean inSubgroup) {
        super(compressed, Bls.SIGNATURE_LENGTH, "BLS signature");
        this.point = point;
        this.inSubgroup = inSubgroup;
    }

    static BlsSignature fromPoint(P1 point) {
        return new BlsSignature(point.compress(), point.to_affine(), true);
    }

    public static BlsSignature fromBytes(byte[] compressed) {
        return new BlsSignature(compressed, decodeG1(compressed, "BLS signature"), true);
    }

    /**
     * Decodes a signature that will be summed into an aggregate before it is verified (a commit vote): decompressed,
     * so on the curve, but not checked to lie in the G1 subgroup, which costs more than the rest of its decoding. The
     * aggregate's one subgroup check stands for all of its parts (docs/PROTOCOL.md section 10).
     */
    public static BlsSignature fromBytesForAggregation(byte[] compressed) {
        return new BlsSignature(compressed, decompressG1(compressed, "BLS signature"), false);
    }

    public static BlsSignature fromText(String text) {
        return fromBytes(TextFormat.decode(TEXT_PREFIX, text));
    }

    public String toText() {
        return TextFormat.encode(TEXT_PREFIX, raw());
    }

    /** True iff this is a signature of {@code message} by {@code key}; false for a point outside the G1 subgroup. */
    public boolean verify(byte[] message, BlsPublicKey key) {
        return verify(point, message, key, Bls.DST);
    }

    /** One signature of a batch ({@link #verifyAll}): {@code signature} of {@code message} by {@code key}. */
    public record Check(BlsSignature signature, byte[] message, BlsPublicKey key) {}

    private static final SecureRandom WEIGHTS = new SecureRandom();

    /**
     * True iff every signature of {@code checks} is valid, checked together: a Miller loop per signature and one final
     * exponentiation in all, against two and one for each signature alone (about half the cost). Each signature and
     * its message's hash enter the product multiplied by a fresh random 64-bit weight: without it, two bad signatures
     * whose errors cancel would pass together; with it, bad signatures pass with probability at most 2^-64. blst
     * checks each signature's subgroup as it enters. False says only that some signature is bad: verify them one by
     * one to learn which.
     */
    public static boolean verifyAll(List<Check> checks) {
        if (checks.isEmpty()) {
            return true;
        }
        if (checks.size() == 1) {
            Check c = checks.getFirst();
            return c.signature().verify(c.message(), c.key());
        }
        Pairing pairing = new Pairing(true, Bls.DST);
        for (Check c : checks) {
            BLST_ERROR added = pairing.mul_n_aggregate(c.key().point(), c.signature().point, weight(), c.message());
            if (added != BLST_ERROR.BLST_SUCCESS) {
                return false;
            }
        }
        pairing.commit();
        return pairing.finalverify();
    }

    /**
     * Whether each signature of {@code checks} is valid: {@link #verifyAll} first, and only if that fails (and there is
     * more than one) each alone, to tell which.
     */
    public static boolean[] verifyEach(List<Check> checks) {
        boolean[] valid = new boolean[checks.size()];
        boolean allValid = verifyAll(checks);
        for (int i = 0; i < valid.length; i++) {
            Check c = checks.get(i);
            valid[i] = allValid || (valid.length > 1 && c.signature().verify(c.message(), c.key()));
        }
        return valid;
    }

    /** A random weight of 64 bits, never zero (a zero weight would leave its signature out of the check). */
    private static BigInteger weight() {
        BigInteger w;
        do {
            w = new BigInteger(64, WEIGHTS);
        } while (w.signum() == 0);
        return w;
    }

    P1_Affine point() {
        return point;
    }

    /** Whether the point is known to lie in the G1 subgroup (false only for {@link #fromBytesForAggregation}). */
    boolean inSubgroup() {
        return inSubgroup;
    }

    /**
     * blst's core_verify checks that the signature lies in the G1 subgroup before its pairing check (it answers
     * BLST_POINT_NOT_IN_GROUP otherwise; BlsTest pins it), which is what makes verifying a signature decoded
     * {@link #fromBytesForAggregation} alone sound.
     */
    static boolean verify(P1_Affine sig, byte[] message, BlsPublicKey key, String dst) {
        return sig.core_verify(key.point(), true, message, dst) == BLST_ERROR.BLST_SUCCESS;
    }

    /** Decodes a compressed G1 point that must lie in the subgroup (infinity allowed, as in blst's sig_validate). */
    static P1_Affine decodeG1(byte[] compressed, String what) {
        P1_Affine p = decompressG1(compressed, what);
        if (!p.in_group()) {
            throw new InvalidEncodingException(what + " is not in the G1 subgroup");
        }
        return p;
    }

    /** Decodes a compressed G1 point; blst's decompression refuses an x with no point of the curve above it. */
    private static P1_Affine decompressG1(byte[] compressed, String what) {
        if (compressed.length != Bls.SIGNATURE_LENGTH) {
            throw new InvalidEncodingException(what + " must be 48 bytes, got " + compressed.length);
        }
        try {
            return new P1_Affine(compressed);
        } catch (RuntimeException e) {
            throw new InvalidEncodingException(what + " does not decode: " + e.getMessage(), e);
        }
    }

    @Override
    public String toString() {
        return "sig:" + hex().substring(0, 16);
    }
}
