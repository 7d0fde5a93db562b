package dev.tally.protocol;

import dev.tally.crypto.BlsSecretKey;
import dev.tally.crypto.BlsSignature;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import supranational.blst.P1;
import supranational.blst.P1_Affine;

/** A chain of n equal-weight validators with deterministic keys, and helpers to sign and certify. */
public final class TestChain {
    public final List<BlsSecretKey> keys;
    public final Genesis genesis;
    public final Epoch epoch;

    public TestChain(int n) {
        this(n, 0);
    }

    public TestChain(int n, long firstBlock) {
        List<BlsSecretKey> ks = new ArrayList<>();
        List<ValidatorInfo> vs = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            BlsSecretKey k = BlsSecretKey.fromSeed(
                    ByteBuffer.allocate(32).putInt(0, i + 1).array());
            ks.add(k);
            vs.add(new ValidatorInfo(k.publicKey(), 1, true));
        }
        genesis = new Genesis(
                7,
                0,
                firstBlock,
                2,
                Optional.of(new ValidatorSchedule(vs, new LeaderSelection(1, LeaderSelection.Mode.ROUND_ROBIN))));
        // Order the keys as the schedule does, so keys.get(i) is validator i.
        ks.sort((a, b) -> a.publicKey().compareTo(b.publicKey()));
        keys = List.copyOf(ks);
        epoch = Epoch.of(genesis);
    }

    public ValidatorSchedule committee() {
        return epoch.committee();
    }

    public View view(long n) {
        return epoch.view(n);
    }

    public <M extends ChonkyMessage> Signed<M> sign(int validator, M m) {
        return Signed.sign(keys.get(validator), m);
    }

    public static Payload payload(String s) {
        return Payload.of(s.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    public ReplicaCommit vote(long view, long block, Payload p) {
        return new ReplicaCommit(view(view), new BlockHeader(block, p.hash()));
    }

    public CommitQC commitQc(ReplicaCommit vote, int... signers) {
        CommitQCBuilder b = new CommitQCBuilder(vote, committee());
        for (int i : signers) {
            b.add(sign(i, vote));
        }
        return b.build();
    }

    public CommitQC commitQc(long view, long block, Payload p) {
        return commitQc(vote(view, block, p), range(committee().size()));
    }

    public TimeoutQC timeoutQc(long view, List<ReplicaTimeout> votesPerSigner) {
        TimeoutQCBuilder b = new TimeoutQCBuilder(view(view), committee());
        for (int i = 0; i < votesPerSigner.size(); i++) {
            if (votesPerSigner.get(i) != null) {
                b.add(sign(i, votesPerSigner.get(i)));
            }
        }
        return b.build();
    }

    /**
     * {@code message} signed by {@code validator}, its signature plus a point of small order (outside the G1
     * subgroup), or minus it if {@code negated}, as a receiver decodes it: a signature is not subgroup-checked then.
     */
    public <M extends ChonkyMessage> Signed<M> signedWithSmallOrderPart(int validator, M message, boolean negated)
            throws DecodeException {
        Signed<M> signed = sign(validator, message);
        P1 part = smallOrderPoint();
        P1 sig = new P1(signed.signature().bytes()).add(negated ? part.neg() : part);
        Signed<M> bad = new Signed<>(message, signed.key(), BlsSignature.fromBytesForAggregation(sig.compress()));
        return cast(Codec.decodeSigned(Codec.encode(bad)));
    }

    /** r times the first curve point above x = 1, 2, ... outside G1: a point of the small-order part of the curve. */
    public static P1 smallOrderPoint() {
        BigInteger r = new BigInteger("73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001", 16);
        for (int x = 1; ; x++) {
            byte[] enc = new byte[48];
            enc[0] = (byte) 0x80; // compressed
            enc[47] = (byte) x;
            try {
                P1 t = new P1(new P1_Affine(enc)).mult(r);
                if (!t.is_inf()) {
                    return t;
                }
            } catch (RuntimeException notOnCurve) {
                // try the next x
            }
        }
    }

    @SuppressWarnings("unchecked") // a message decodes as its own kind
    private static <M extends ChonkyMessage> Signed<M> cast(Signed<ChonkyMessage> s) {
        return (Signed<M>) (Signed<?>) s;
    }

    public static int[] range(int n) {
        return java.util.stream.IntStream.range(0, n).toArray();
    }
}
