package dev.tally.microbench;

import dev.tally.crypto.BlsAggregateSignature;
import dev.tally.crypto.BlsPublicKey;
import dev.tally.crypto.BlsSecretKey;
import dev.tally.crypto.BlsSignature;
import dev.tally.crypto.Keccak256;
import dev.tally.crypto.NodePublicKey;
import dev.tally.crypto.NodeSecretKey;
import dev.tally.crypto.NodeSignature;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The primitives every message pays for: BLS12-381 (min_sig, via blst) signing and verification, aggregation
 * of a quorum and the one-message aggregate verification a commit QC does, Ed25519 (node identity), and
 * keccak-256 (message and payload hashes).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class BlsBenchmark {

    /** One key, a 32-byte message (what validators sign: a keccak-256 message hash) and its signature. */
    @State(Scope.Benchmark)
    public static class Single {
        BlsSecretKey key;
        BlsPublicKey publicKey;
        byte[] message;
        BlsSignature signature;
        NodeSecretKey nodeKey;
        NodePublicKey nodePublicKey;
        NodeSignature nodeSignature;
        byte[] kibibyte;

        @Setup
        public void setUp() {
            key = BlsSecretKey.fromSeed(ByteBuffer.allocate(32).putInt(0, 1).array());
            publicKey = key.publicKey();
            message = Keccak256.of("a consensus message".getBytes(java.nio.charset.StandardCharsets.UTF_8))
                    .bytes();
            signature = key.sign(message);
            if (!signature.verify(message, publicKey)) {
                throw new IllegalStateException("BLS signature does not verify");
            }
            byte[] seed = new byte[32];
            new Random(1).nextBytes(seed);
            nodeKey = NodeSecretKey.fromBytes(seed);
            nodePublicKey = nodeKey.publicKey();
            nodeSignature = nodeKey.sign(message);
            if (!nodePublicKey.verify(message, nodeSignature)) {
                throw new IllegalStateException("Ed25519 signature does not verify");
            }
            kibibyte = new byte[1024];
            new Random(2).nextBytes(kibibyte);
        }
    }

    /** A committee of n validators; the first quorum (n - f, n = 5f + 1) signed one message. */
    @State(Scope.Benchmark)
    public static class Quorum {
        @Param({"6", "100"})
        int n;

        byte[] message;
        List<BlsSignature> signatures;
        BlsAggregateSignature aggregate;
        List<BlsAggregateSignature.Signer> signers;

        @Setup
        public void setUp() {
            int f = (n - 1) / 5;
            int q = n - f;
            message = Keccak256.of(("commit vote " + n).getBytes(java.nio.charset.StandardCharsets.UTF_8))
                    .bytes();
            signatures = new ArrayList<>();
            signers = new ArrayList<>();
            for (int i = 0; i < q; i++) {
                BlsSecretKey k = BlsSecretKey.fromSeed(
                        ByteBuffer.allocate(32).putInt(0, i + 1).array());
                signatures.add(k.sign(message));
                signers.add(new BlsAggregateSignature.Signer(message, k.publicKey()));
            }
            aggregate = BlsAggregateSignature.aggregate(signatures);
            if (!aggregate.verify(signers)) {
                throw new IllegalStateException("aggregate does not verify");
            }
        }
    }

    @Benchmark
    public BlsSignature blsSign(Single s) {
        return s.key.sign(s.message);
    }

    @Benchmark
    public boolean blsVerify(Single s) {
        return s.signature.verify(s.message, s.publicKey);
    }

    /** Sums the quorum's signatures (what CommitQCBuilder.build does). */
    @Benchmark
    public BlsAggregateSignature blsAggregateQuorum(Quorum q) {
        return BlsAggregateSignature.aggregate(q.signatures);
    }

    /** Verifies the quorum's aggregate over one message: key sum plus one pairing check (CommitQC's check). */
    @Benchmark
    public boolean blsAggregateVerifyQuorum(Quorum q) {
        return q.aggregate.verify(q.signers);
    }

    @Benchmark
    public NodeSignature ed25519Sign(Single s) {
        return s.nodeKey.sign(s.message);
    }

    @Benchmark
    public boolean ed25519Verify(Single s) {
        return s.nodePublicKey.verify(s.message, s.nodeSignature);
    }

    @Benchmark
    public Keccak256 keccak256Of1KiB(Single s) {
        return Keccak256.of(s.kibibyte);
    }
}
