package dev.tally.microbench;

import dev.tally.crypto.BlsSecretKey;
import dev.tally.protocol.BlockHeader;
import dev.tally.protocol.ChonkyMessage;
import dev.tally.protocol.CommitQC;
import dev.tally.protocol.CommitQCBuilder;
import dev.tally.protocol.Epoch;
import dev.tally.protocol.Genesis;
import dev.tally.protocol.LeaderSelection;
import dev.tally.protocol.Payload;
import dev.tally.protocol.ReplicaCommit;
import dev.tally.protocol.ReplicaTimeout;
import dev.tally.protocol.Signed;
import dev.tally.protocol.TimeoutQC;
import dev.tally.protocol.TimeoutQCBuilder;
import dev.tally.protocol.ValidatorInfo;
import dev.tally.protocol.ValidatorSchedule;
import dev.tally.protocol.View;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;

/**
 * A chain of n equal-weight validators with deterministic keys (the same seeds as the protocol tests'
 * TestChain), built on the public protocol API only so the benchmark jar needs no test classes.
 */
public final class BenchChain {
    public final List<BlsSecretKey> keys;
    public final Genesis genesis;
    public final Epoch epoch;

    public BenchChain(int n) {
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
                0,
                Genesis.PROTOCOL_VERSION,
                Optional.of(new ValidatorSchedule(vs, new LeaderSelection(1, LeaderSelection.Mode.ROUND_ROBIN))));
        ks.sort((a, b) -> a.publicKey().compareTo(b.publicKey())); // keys.get(i) is validator i
        keys = List.copyOf(ks);
        epoch = Epoch.of(genesis);
    }

    public ValidatorSchedule committee() {
        return epoch.committee();
    }

    public int size() {
        return keys.size();
    }

    /** The number of equal-weight validators that make a quorum (n - f with n = 5f + 1). */
    public int quorum() {
        return (int) committee().quorumThreshold();
    }

    public View view(long n) {
        return epoch.view(n);
    }

    public int leaderIndex(long view) {
        return committee().indexOf(committee().leader(view)).orElseThrow();
    }

    public <M extends ChonkyMessage> Signed<M> sign(int validator, M m) {
        return Signed.sign(keys.get(validator), m);
    }

    /** A payload of {@code size} pseudo-random bytes (seeded, so every run hashes the same bytes). */
    public static Payload payload(int size, long seed) {
        byte[] b = new byte[size];
        new Random(seed).nextBytes(b);
        return Payload.of(b);
    }

    public ReplicaCommit vote(long view, long block, Payload p) {
        return new ReplicaCommit(view(view), new BlockHeader(block, p.hash()));
    }

    /** A commit QC signed by the first quorum of validators (0 .. q-1). */
    public CommitQC commitQc(ReplicaCommit vote) {
        CommitQCBuilder b = new CommitQCBuilder(vote, committee());
        for (int i = 0; i < quorum(); i++) {
            b.add(sign(i, vote));
        }
        return b.build();
    }

    /** A timeout QC of the first quorum of validators; {@code votes.get(i)} is validator i's vote. */
    public TimeoutQC timeoutQc(long view, List<ReplicaTimeout> votes) {
        TimeoutQCBuilder b = new TimeoutQCBuilder(view(view), committee());
        for (int i = 0; i < votes.size(); i++) {
            b.add(sign(i, votes.get(i)));
        }
        return b.build();
    }

    /**
     * The usual timeout QC: a quorum that all voted commit for block {@code block} in {@code view - 1} (which did
     * not reach them as a QC) and all hold the commit QC of the block before: one distinct vote.
     */
    public TimeoutQC uniformTimeoutQc(long view, long block) {
        ReplicaCommit highVote = vote(view - 1, block, payload(64, block));
        CommitQC highQc = commitQc(vote(view - 2, block - 1, payload(64, block - 1)));
        ReplicaTimeout t = new ReplicaTimeout(view(view), Optional.of(highVote), Optional.of(highQc));
        List<ReplicaTimeout> votes = new ArrayList<>();
        for (int i = 0; i < quorum(); i++) {
            votes.add(t);
        }
        return timeoutQc(view, votes);
    }

    /**
     * The worst case for verification: every signer sent a different timeout vote (different high votes,
     * no high QC), so the aggregate signature covers q distinct messages.
     */
    public TimeoutQC distinctTimeoutQc(long view, long block) {
        List<ReplicaTimeout> votes = new ArrayList<>();
        for (int i = 0; i < quorum(); i++) {
            ReplicaCommit highVote = vote(view - 1, block, payload(64, 1000 + i));
            votes.add(new ReplicaTimeout(view(view), Optional.of(highVote), Optional.empty()));
        }
        return timeoutQc(view, votes);
    }
}
