package dev.tally.crypto;

import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
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

    /** The sum of the given signatures; the empty sum is the point at infinity. */
    public static BlsAggregateSignature aggregate(Collection<BlsSignature> signatures) {
        P1 sum = new P1();
        for (BlsSignature s : signatures) {
            // Plain addition: every BlsSignature was checked to lie in the subgroup when it was made or decoded,
            // and blst's aggregate() would check each point again (about 30 µs a signature).
            sum.add(s.point());
        }
        return new BlsAggregateSignature(sum.compress(), sum.to_affine());
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
