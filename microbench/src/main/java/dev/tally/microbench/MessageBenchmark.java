package dev.tally.microbench;

import dev.tally.protocol.ChonkyMessage;
import dev.tally.protocol.Codec;
import dev.tally.protocol.CommitQC;
import dev.tally.protocol.DecodeException;
import dev.tally.protocol.LeaderProposal;
import dev.tally.protocol.MessageHash;
import dev.tally.protocol.ReplicaNewView;
import dev.tally.protocol.ReplicaTimeout;
import dev.tally.protocol.Signed;
import dev.tally.protocol.TimeoutQC;
import java.util.Optional;
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
 * Canonical encoding, decoding and hashing of signed consensus messages. QCs inside messages are real
 * quorum QCs of an n-validator committee, so their size (signer bitmaps, nested QCs) is realistic:
 * <ul>
 *   <li>proposal: a fresh 1 KiB payload justified by a commit QC;</li>
 *   <li>commit: a commit vote (no QC);</li>
 *   <li>timeout: a timeout vote with its high vote and high commit QC;</li>
 *   <li>new_view: a new-view carrying a timeout QC of one distinct vote (with high vote and high QC).</li>
 * </ul>
 * Decoding includes what {@link Codec#decodeSigned} checks: BLS point decompression and subgroup checks of the
 * author key, the signature (a commit vote's is decompressed only: its quorum's sum is checked) and every aggregate
 * signature (not the signatures themselves).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Benchmark)
public class MessageBenchmark {
    @Param({"proposal", "commit", "timeout", "new_view"})
    String kind;

    @Param({"6", "100"})
    int n;

    Signed<? extends ChonkyMessage> signed;
    byte[] encoded;

    @Setup
    public void setUp() throws DecodeException {
        BenchChain chain = new BenchChain(n);
        long view = 10;
        CommitQC qc = chain.commitQc(chain.vote(view - 1, 4, BenchChain.payload(1024, 4)));
        ChonkyMessage m = switch (kind) {
            case "proposal" -> new LeaderProposal(Optional.of(BenchChain.payload(1024, 5)), qc);
            case "commit" -> chain.vote(view, 5, BenchChain.payload(1024, 5));
            case "timeout" ->
                new ReplicaTimeout(
                        chain.view(view),
                        Optional.of(chain.vote(view, 5, BenchChain.payload(1024, 5))),
                        Optional.of(qc));
            case "new_view" -> {
                TimeoutQC tqc = chain.uniformTimeoutQc(view, 5);
                yield new ReplicaNewView(tqc);
            }
            default -> throw new IllegalArgumentException("unknown kind " + kind);
        };
        signed = chain.sign(chain.leaderIndex(m.view().number()), m);
        encoded = Codec.encode(signed);
        if (!Codec.decodeSigned(encoded).equals(signed)) {
            throw new IllegalStateException(kind + " does not round-trip");
        }
        System.out.println();
        System.out.println("# " + kind + " n=" + n + ": " + encoded.length + " bytes encoded");
    }

    @Benchmark
    public byte[] encode() {
        return Codec.encode(signed);
    }

    @Benchmark
    public Signed<ChonkyMessage> decode() throws DecodeException {
        return Codec.decodeSigned(encoded);
    }

    /** keccak-256 of the canonical envelope: what is signed and what votes are keyed by. */
    @Benchmark
    public MessageHash hash() {
        return signed.message().hash();
    }

    /** What every received message costs before its content is looked at: hash plus one BLS verification. */
    @Benchmark
    public boolean verifySignature() {
        return signed.verifySignature();
    }
}
