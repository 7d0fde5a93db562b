package dev.tally.microbench;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import supranational.blst.P1;
import supranational.blst.P1_Affine;
import supranational.blst.P2;
import supranational.blst.P2_Affine;
import supranational.blst.SecretKey;

/**
 * Why aggregation grows with the quorum: blst's {@code P1.aggregate} / {@code P2.aggregate} (used by
 * BlsAggregateSignature for signatures and key sums) check that the point is in the subgroup before adding it,
 * while {@code add} only adds. Tally's BlsSignature and BlsPublicKey are subgroup-checked once when decoded.
 * One call adds one point to a running sum.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Thread)
public class BlstPointAddBenchmark {
    P1_Affine signature;
    P2_Affine key;
    P1 sum1;
    P2 sum2;

    @Setup
    public void setUp() {
        SecretKey sk = new SecretKey();
        sk.keygen(new byte[32]);
        signature = new P1()
                .hash_to(new byte[] {1}, "BENCH", new byte[0])
                .sign_with(sk)
                .to_affine();
        key = new P2(sk).to_affine();
        sum1 = new P1();
        sum2 = new P2();
    }

    @Benchmark
    public P1 g1AggregateChecked() {
        sum1.aggregate(signature);
        return sum1;
    }

    @Benchmark
    public P1 g1AddUnchecked() {
        return sum1.add(signature);
    }

    @Benchmark
    public P2 g2AggregateChecked() {
        sum2.aggregate(key);
        return sum2;
    }

    @Benchmark
    public P2 g2AddUnchecked() {
        return sum2.add(key);
    }
}
