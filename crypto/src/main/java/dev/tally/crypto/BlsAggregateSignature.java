package dev.tally.crypto;

import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import supranational.blst.P1;
import supranational.blst.P1_Affine;
import supranational.blst.P2;
import supranational.blst.Pairing;

/**
 * The sum of BLS signatures (a G1 point). Verification groups the signers by message and sums their
 * public keys, so a quorum that signed one message costs a single pairing pair.
 */
public final class BlsAggregateSignature extends FixedBytes {
    public static final String TEXT_PREFIX = "validator:aggregate_signature:bls12_381:";

    private final P1_Affine point;

    private BlsAggregateSignature(byte[] compressed, P1_Affine point) {
        super(compressed, Bls.SIGNATURE_LENGTH, "BLS aggregate signature");
        this.point = point;
    }

    public static BlsAggregateSignature fromBytes(byte[] compressed) {
        return new BlsAggregateSignature(compressed, BlsSignature.decodeG1(compressed, "BLS aggregate signature"));
    }

    /**
     * The sum of the given signatures; the empty sum is the point at infinity. Throws {@link InvalidEncodingException}
     * if the sum lies outside the G1 subgroup, which only a signature decoded
     * {@link BlsSignature#fromBytesForAggregation} can cause: see {@link #sum}.
     */
    public static BlsAggregateSignature aggregate(Collection<BlsSignature> signatures) {
        return sum(signatures)
                .orElseThrow(() -> new InvalidEncodingException(
                        "the sum of " + signatures.size() + " BLS signatures is not in the G1 subgroup"));
    }

    /**
     * The sum of the given signatures if it lies in the G1 subgroup. Parts whose subgroup was not checked (decoded
     * {@link BlsSignature#fromBytesForAggregation}) are checked here once, on the sum: an aggregate is only ever a
     * point of G1, whoever verifies it. Parts outside G1 whose components of small order cancel in the sum leave the
     * sum of their G1 parts, so the aggregate verifies exactly when those G1 parts are valid signatures
     * (docs/PROTOCOL.md section 10); a part outside G1 that does not cancel makes the sum fail here.
     */
    public static Optional<BlsAggregateSignature> sum(Collection<BlsSignature> signatures) {
        P1 sum = new P1();
        boolean partsInSubgroup = true;
        for (BlsSignature s : signatures) {
            // Plain addition: blst's aggregate() would check each point's subgroup (about 45 µs a signature), which
            // was done when it was made or decoded, or is done once on the sum below.
            sum.add(s.point());
            partsInSubgroup &= s.inSubgroup();
        }
        if (!partsInSubgroup && !sum.in_group()) {
            return Optional.empty();
        }
        return Optional.of(new BlsAggregateSignature(sum.compress(), sum.to_affine()));
    }

    /** One signer of an aggregate: the message it signed and its key. */
    public record Signer(byte[] message, BlsPublicKey key) {}

    /** True iff this aggregate is exactly the sum of one signature per signer over its message. */
    public boolean verify(List<Signer> signers) {
        if (signers.isEmpty()) {
            return false;
        }
        Map<MessageKey, P2> keysPerMessage = new HashMap<>();
        for (Signer s : signers) {
            // Keys were checked (subgroup, not infinity) when decoded: plain addition, no per-key re-check.
            keysPerMessage
                    .computeIfAbsent(new MessageKey(s.message()), m -> new P2())
                    .add(s.key().point());
        }
        Pairing pairing = new Pairing(true, Bls.DST);
        P1_Affine sig = point;
        for (Map.Entry<MessageKey, P2> e : keysPerMessage.entrySet()) {
            var keySum = e.getValue();
            if (keySum.is_inf()) {
                return false; // keys that cancel out would let a forged aggregate through
            }
            if (pairing.aggregate(keySum.to_affine(), sig, e.getKey().bytes())
                    != supranational.blst.BLST_ERROR.BLST_SUCCESS) {
                return false;
            }
            sig = null; // the signature enters the pairing product once
        }
        pairing.commit();
        return pairing.finalverify();
    }

    private record MessageKey(byte[] bytes) {
        @Override
        public boolean equals(Object o) {
            return o instanceof MessageKey m && Arrays.equals(bytes, m.bytes);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(bytes);
        }
    }

    @Override
    public String toString() {
        return "aggsig:" + hex().substring(0, 16);
    }
}
