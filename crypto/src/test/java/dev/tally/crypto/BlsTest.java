package dev.tally.crypto;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;
import supranational.blst.P1;
import supranational.blst.P1_Affine;

class BlsTest {
    /** The reference's hard-coded validator keys (its messages/tests). */
    static final List<String> REFERENCE_KEYS = List.of(
            "validator:secret:bls12_381:27cb45b1670a1ae8d376a85821d51c7f91ebc6e32788027a84758441aaf0a987",
            "validator:secret:bls12_381:20132edc08a529e927f155e710ae7295a2a0d249f1b1f37726894d1d0d8f0d81",
            "validator:secret:bls12_381:0946901f0a6650284726763b12de5da0f06df0016c8ec2144cf6b1903f1979a6",
            "validator:secret:bls12_381:3143a64c079b2f50545288d7c9b282281e05c97ac043228830a9660ddd63fea3",
            "validator:secret:bls12_381:5512f40d33844c1c8107aa630af764005ab6e13f6bf8edb59b4ca3683727e619");

    static BlsSecretKey key(int i) {
        return BlsSecretKey.fromText(REFERENCE_KEYS.get(i));
    }

    static byte[] hex(String s) {
        return HexFormat.of().parseHex(s);
    }

    /** Signatures are deterministic, so the reference's vectors pin hash-to-curve, the DST and the encoding. */
    @Test
    void reproducesReferenceSignatureVectors() {
        String[][] vectors = {
            {
                "2c8e94251621366d4502870b24d9790077d87111f355eee34fde1738170b3198",
                "8e89699b1499927d4686034dd9d0045348030303acf48a2e643c825a062aa16ed97ae367087571eff00af4b442f8884f"
            },
            {
                "f672a90ada640d8e0b7aaa54922279e926623964fbabceb462ab743670b6f066",
                "8a2e4950aed464347a3f40148a501a83cbce53ababa9e2d0792388e2b4f89431590df8bd43b63e1d684f70b3122e021d"
            },
            {
                "460e9bb9bce674fec1982a26306ea54b04cb23ea14b68dedcdfc4456e9321c66",
                "afb81f25ee659bac9e61d6ad2ce360a5460763bfdf2e327f0a8585f000e717d9a3eb5b2cc1459d0549ebe5df4fb195d9"
            },
            {
                "0f5fd2b98a46a183ff18fda648e71eeeef897a02adf2a7ce95835367fa44c79a",
                "a79777125067c0b00aa31ec0486a43f904919ae723496c13412350632c141882bea864bf3cceb5acefc217f3c79451c5"
            },
        };
        for (String[] v : vectors) {
            BlsSignature sig = key(0).sign(hex(v[0]));
            assertThat(sig.hex()).isEqualTo(v[1]);
            assertThat(BlsSignature.fromText("validator:signature:bls12_381:" + v[1])
                            .verify(hex(v[0]), key(0).publicKey()))
                    .isTrue();
        }
    }

    @Test
    void signatureRejectsOtherMessageAndOtherKey() {
        byte[] msg = new byte[32];
        BlsSignature sig = key(1).sign(msg);
        assertThat(sig.verify(msg, key(1).publicKey())).isTrue();
        assertThat(sig.verify(msg, key(2).publicKey())).isFalse();
        msg[31] = 1;
        assertThat(sig.verify(msg, key(1).publicKey())).isFalse();
    }

    @Test
    void textFormsRoundTrip() {
        BlsSecretKey sk = BlsSecretKey.generate();
        assertThat(BlsSecretKey.fromText(sk.toText())).isEqualTo(sk);
        assertThat(BlsPublicKey.fromText(sk.publicKey().toText())).isEqualTo(sk.publicKey());
        assertThat(sk.publicKey().toText())
                .startsWith("validator:public:bls12_381:")
                .hasSize(27 + 192);
        BlsProofOfPossession pop = sk.proofOfPossession();
        assertThat(BlsProofOfPossession.fromText(pop.toText())).isEqualTo(pop);
        assertThat(sk.toString()).doesNotContain(sk.toText().substring(27));
    }

    @Test
    void secretKeyOutsideScalarFieldIsRejected() {
        assertThatThrownBy(() -> BlsSecretKey.fromBytes(new byte[32])).hasMessageContaining("[1, r)");
        byte[] big = new byte[32];
        java.util.Arrays.fill(big, (byte) 0xff);
        assertThatThrownBy(() -> BlsSecretKey.fromBytes(big)).hasMessageContaining("[1, r)");
        assertThatThrownBy(() -> BlsSecretKey.fromText("node:secret:ed25519:00"))
                .hasMessageContaining("validator:secret:bls12_381:");
    }

    @Test
    void infinityPublicKeyIsRejected() {
        byte[] inf = new byte[96];
        inf[0] = (byte) 0xc0;
        assertThatThrownBy(() -> BlsPublicKey.fromBytes(inf)).hasMessageContaining("infinity");
    }

    @Test
    void aKeyDecodedAgainIsTheSameCheckedKeyAndABadOneIsRefusedEveryTime() {
        byte[] enc = BlsSecretKey.generate().publicKey().bytes();
        BlsPublicKey first = BlsPublicKey.fromBytes(enc);
        assertThat(BlsPublicKey.fromBytes(enc.clone())).isSameAs(first);
        byte[] outside = onCurveEncoding(96);
        for (int i = 0; i < 2; i++) {
            assertThatThrownBy(() -> BlsPublicKey.fromBytes(outside)).hasMessageContaining("not in the G2 subgroup");
        }
    }

    @Test
    void publicKeyOutsideSubgroupIsRejected() {
        // A random x on the curve is almost never in the prime-order subgroup (the cofactor is huge).
        byte[] enc = onCurveEncoding(96);
        assertThatThrownBy(() -> BlsPublicKey.fromBytes(enc)).hasMessageContaining("not in the G2 subgroup");
    }

    @Test
    void signatureOutsideSubgroupIsRejected() {
        byte[] enc = onCurveEncoding(48);
        assertThatThrownBy(() -> BlsSignature.fromBytes(enc)).hasMessageContaining("not in the G1 subgroup");
        assertThatThrownBy(() -> BlsAggregateSignature.fromBytes(enc)).hasMessageContaining("not in the G1 subgroup");
    }

    @Test
    void garbageEncodingsAreRejected() {
        assertThatThrownBy(() -> BlsPublicKey.fromBytes(new byte[95])).hasMessageContaining("96 bytes");
        assertThatThrownBy(() -> BlsSignature.fromBytes(new byte[48])).hasMessageContaining("does not decode");
    }

    private static byte[] onCurveEncoding(int length) {
        for (int x = 1; ; x++) {
            byte[] enc = new byte[length];
            enc[0] = (byte) 0x80; // compressed flag
            enc[length - 1] = (byte) x;
            enc[length - 2] = (byte) (x >> 8);
            try {
                if (length == 96) {
                    new supranational.blst.P2_Affine(enc);
                } else {
                    new supranational.blst.P1_Affine(enc);
                }
                return enc;
            } catch (RuntimeException notOnCurve) {
                // try the next x
            }
        }
    }

    @Test
    void proofOfPossession() {
        BlsSecretKey a = key(0);
        BlsSecretKey b = key(1);
        assertThat(a.proofOfPossession().verify(a.publicKey())).isTrue();
        assertThat(a.proofOfPossession().verify(b.publicKey())).isFalse();
        // A plain signature over the key bytes is not a proof of possession: the tags differ.
        BlsProofOfPossession forged =
                BlsProofOfPossession.fromBytes(a.sign(a.publicKey().bytes()).bytes());
        assertThat(forged.verify(a.publicKey())).isFalse();
    }

    @Test
    void aggregateOverOneMessage() {
        byte[] msg = hex("2c8e94251621366d4502870b24d9790077d87111f355eee34fde1738170b3198");
        List<BlsSignature> sigs = new ArrayList<>();
        List<BlsAggregateSignature.Signer> signers = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            sigs.add(key(i).sign(msg));
            signers.add(new BlsAggregateSignature.Signer(msg, key(i).publicKey()));
        }
        BlsAggregateSignature agg = BlsAggregateSignature.aggregate(sigs);
        assertThat(agg.verify(signers)).isTrue();
        assertThat(BlsAggregateSignature.fromBytes(agg.bytes()).verify(signers)).isTrue();
        // Too few signatures for the claimed signers.
        assertThat(BlsAggregateSignature.aggregate(sigs.subList(0, 3)).verify(signers))
                .isFalse();
        // Claimed signers missing one that signed.
        assertThat(agg.verify(signers.subList(0, 4))).isFalse();
        assertThat(agg.verify(List.of())).isFalse();
    }

    @Test
    void aggregateOverSeveralMessages() {
        List<BlsSignature> sigs = new ArrayList<>();
        List<BlsAggregateSignature.Signer> signers = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            byte[] msg = new byte[32];
            msg[0] = (byte) (i % 2);
            sigs.add(key(i).sign(msg));
            signers.add(new BlsAggregateSignature.Signer(msg, key(i).publicKey()));
        }
        assertThat(BlsAggregateSignature.aggregate(sigs).verify(signers)).isTrue();
        // Swap the messages two signers claim: must fail.
        List<BlsAggregateSignature.Signer> swapped = new ArrayList<>(signers);
        swapped.set(0, new BlsAggregateSignature.Signer(signers.get(1).message(), key(0).publicKey()));
        assertThat(BlsAggregateSignature.aggregate(sigs).verify(swapped)).isFalse();
    }

    /** A point of the curve's small-order part: r times a curve point outside G1 (r the order of G1). */
    private static P1 smallOrderPoint() {
        BigInteger r = new BigInteger("73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001", 16);
        P1 t = new P1(new P1_Affine(onCurveEncoding(48))).mult(r);
        assertThat(t.is_inf()).isFalse();
        assertThat(t.dup().mult(r).is_inf()).as("not of order r").isFalse();
        return t;
    }

    /** {@code key}'s signature of {@code msg} plus {@code part}, decoded as a commit vote's is: no subgroup check. */
    private static BlsSignature withPart(BlsSecretKey key, byte[] msg, P1 part) {
        byte[] enc = new P1(key.sign(msg).bytes()).add(part).compress();
        assertThatThrownBy(() -> BlsSignature.fromBytes(enc)).hasMessageContaining("not in the G1 subgroup");
        return BlsSignature.fromBytesForAggregation(enc);
    }

    @Test
    void aSignatureDecodedForAggregationOutsideTheSubgroupFailsVerificationAlone() {
        byte[] msg = new byte[32];
        BlsSignature bad = withPart(key(0), msg, smallOrderPoint());
        // Its G1 part is the valid signature: only the subgroup check (blst's core_verify) refuses it.
        assertThat(bad.verify(msg, key(0).publicKey())).isFalse();
        assertThat(BlsSignature.fromBytesForAggregation(key(0).sign(msg).bytes())
                        .verify(msg, key(0).publicKey()))
                .isTrue();
    }

    @Test
    void aSumOutsideTheSubgroupIsNeverAnAggregate() {
        byte[] msg = new byte[32];
        List<BlsSignature> sigs = new ArrayList<>(List.of(key(0).sign(msg), key(1).sign(msg)));
        sigs.add(withPart(key(2), msg, smallOrderPoint()));
        assertThat(BlsAggregateSignature.sum(sigs)).isEmpty();
        assertThatThrownBy(() -> BlsAggregateSignature.aggregate(sigs))
                .isInstanceOf(InvalidEncodingException.class)
                .hasMessageContaining("not in the G1 subgroup");
    }

    @Test
    void smallOrderPartsThatCancelLeaveTheAggregateOfTheSignersValidSignatures() {
        byte[] msg = new byte[32];
        P1 t = smallOrderPoint();
        BlsSignature plus = withPart(key(0), msg, t);
        BlsSignature minus = withPart(key(1), msg, t.dup().neg());
        assertThat(plus.verify(msg, key(0).publicKey())).isFalse();
        assertThat(minus.verify(msg, key(1).publicKey())).isFalse();
        List<BlsSignature> parts = List.of(plus, minus, key(2).sign(msg));
        BlsAggregateSignature agg = BlsAggregateSignature.sum(parts).orElseThrow();
        assertThat(agg)
                .as("the sum of the valid signatures")
                .isEqualTo(
                        BlsAggregateSignature.aggregate(List.of(key(0).sign(msg), key(1).sign(msg), key(2).sign(msg))));
        assertThat(agg.verify(List.of(
                        new BlsAggregateSignature.Signer(msg, key(0).publicKey()),
                        new BlsAggregateSignature.Signer(msg, key(1).publicKey()),
                        new BlsAggregateSignature.Signer(msg, key(2).publicKey()))))
                .isTrue();
    }

    /** Signatures of distinct messages by distinct keys, as a batch to verify. */
    private static List<BlsSignature.Check> batch(int size) {
        List<BlsSignature.Check> checks = new ArrayList<>();
        for (int i = 0; i < size; i++) {
            byte[] msg = ("message " + i).getBytes(StandardCharsets.US_ASCII);
            checks.add(new BlsSignature.Check(key(i).sign(msg), msg, key(i).publicKey()));
        }
        return checks;
    }

    @Test
    void aBatchOfValidSignaturesVerifiesTogether() {
        assertThat(BlsSignature.verifyAll(batch(5))).isTrue();
        assertThat(BlsSignature.verifyAll(batch(1))).isTrue();
        assertThat(BlsSignature.verifyAll(List.of())).isTrue();
    }

    @Test
    void oneBadSignatureFailsItsBatch() {
        for (int size : new int[] {1, 2, 5}) {
            List<BlsSignature.Check> checks = batch(size);
            BlsSignature.Check last = checks.getLast();
            checks.set(size - 1, new BlsSignature.Check(last.signature(), new byte[] {1}, last.key()));
            assertThat(BlsSignature.verifyAll(checks)).as("batch of %d", size).isFalse();
        }
    }

    @Test
    void eachSignatureOfABatchGetsItsOwnAnswer() {
        List<BlsSignature.Check> checks = batch(3);
        assertThat(BlsSignature.verifyEach(checks)).containsExactly(true, true, true);
        BlsSignature.Check middle = checks.get(1);
        checks.set(1, new BlsSignature.Check(middle.signature(), new byte[] {1}, middle.key()));
        assertThat(BlsSignature.verifyEach(checks)).containsExactly(true, false, true);
        assertThat(BlsSignature.verifyEach(checks.subList(1, 2))).containsExactly(false);
        assertThat(BlsSignature.verifyEach(List.of())).isEmpty();
    }

    @Test
    void badSignaturesWhoseErrorsCancelFailTheirBatch() {
        // Two signatures off by +d and -d: each is bad, their plain sum is that of the valid ones. Only the random
        // weights tell them apart.
        List<BlsSignature.Check> checks = batch(3);
        P1 d = new P1().hash_to(new byte[] {7}, Bls.DST);
        for (int i = 0; i < 2; i++) {
            BlsSignature.Check c = checks.get(i);
            P1 off = new P1(c.signature().bytes()).add(i == 0 ? d : d.dup().neg());
            checks.set(i, new BlsSignature.Check(BlsSignature.fromBytes(off.compress()), c.message(), c.key()));
            assertThat(checks.get(i).signature().verify(c.message(), c.key())).isFalse();
        }
        assertThat(BlsAggregateSignature.aggregate(
                        checks.stream().map(BlsSignature.Check::signature).toList()))
                .as("the plain sum is the valid signatures' sum")
                .isEqualTo(BlsAggregateSignature.aggregate(
                        batch(3).stream().map(BlsSignature.Check::signature).toList()));
        assertThat(BlsSignature.verifyAll(checks)).isFalse();
    }

    @Test
    void aSignatureOutsideTheSubgroupFailsItsBatch() {
        List<BlsSignature.Check> checks = batch(3);
        BlsSignature.Check c = checks.get(1);
        // Its G1 part is the valid signature: only the subgroup check refuses it.
        checks.set(1, new BlsSignature.Check(withPart(key(1), c.message(), smallOrderPoint()), c.message(), c.key()));
        assertThat(BlsSignature.verifyAll(checks)).isFalse();
    }

    @Test
    void emptyAggregateIsInfinity() {
        assertThat(BlsAggregateSignature.aggregate(List.of()).hex())
                .startsWith("c0")
                .matches("c0(00)+");
    }
}
