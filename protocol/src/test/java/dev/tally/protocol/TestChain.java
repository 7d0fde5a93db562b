package dev.tally.protocol;

import dev.tally.crypto.BlsSecretKey;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

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

    public static int[] range(int n) {
        return java.util.stream.IntStream.range(0, n).toArray();
    }
}
