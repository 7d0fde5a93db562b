package dev.tally.microbench;

import dev.tally.protocol.CommitQC;
import dev.tally.protocol.Epoch;
import dev.tally.protocol.InvalidMessageException;
import dev.tally.protocol.TimeoutQC;
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
 * Full, uncached QC verification ({@code verify(Epoch)} goes through {@code QcVerifier.DIRECT}): vote content,
 * quorum weight, message hashes, public-key sums and the pairing check; nested QCs are verified too.
 * <ul>
 *   <li>commitQc: a quorum (n - f) of commit votes for one block;</li>
 *   <li>timeoutQcUniform: a quorum that sent the same timeout vote (high vote + high commit QC, which is
 *       verified as well): one message, so one pairing pair plus the nested commit QC;</li>
 *   <li>timeoutQcDistinct: worst case, every signer sent a different timeout vote (no high QC): q messages,
 *       q pairing pairs.</li>
 * </ul>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Benchmark)
public class QcVerifyBenchmark {
    @Param({"6", "100"})
    int n;

    Epoch epoch;
    CommitQC commitQc;
    TimeoutQC uniformTimeoutQc;
    TimeoutQC distinctTimeoutQc;

    @Setup
    public void setUp() throws InvalidMessageException {
        BenchChain chain = new BenchChain(n);
        epoch = chain.epoch;
        commitQc = chain.commitQc(chain.vote(9, 4, BenchChain.payload(1024, 4)));
        uniformTimeoutQc = chain.uniformTimeoutQc(10, 5);
        distinctTimeoutQc = chain.distinctTimeoutQc(10, 5);
        commitQc.verify(epoch);
        uniformTimeoutQc.verify(epoch);
        distinctTimeoutQc.verify(epoch);
        if (distinctTimeoutQc.votes().size() != chain.quorum()
                || uniformTimeoutQc.votes().size() != 1) {
            throw new IllegalStateException("unexpected number of distinct timeout votes");
        }
    }

    @Benchmark
    public CommitQC commitQc() throws InvalidMessageException {
        commitQc.verify(epoch);
        return commitQc;
    }

    @Benchmark
    public TimeoutQC timeoutQcUniform() throws InvalidMessageException {
        uniformTimeoutQc.verify(epoch);
        return uniformTimeoutQc;
    }

    @Benchmark
    public TimeoutQC timeoutQcDistinct() throws InvalidMessageException {
        distinctTimeoutQc.verify(epoch);
        return distinctTimeoutQc;
    }
}
