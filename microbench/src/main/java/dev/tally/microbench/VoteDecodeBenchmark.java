package dev.tally.microbench;

import dev.tally.protocol.ChonkyMessage;
import dev.tally.protocol.Codec;
import dev.tally.protocol.DecodeException;
import dev.tally.protocol.ReplicaCommit;
import dev.tally.protocol.Signed;
import dev.tally.protocol.UnknownFields;
import dev.tally.protocol.proto.Validator;
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
import supranational.blst.P1_Affine;

/**
 * Where decoding one received commit vote goes (issue 16): {@code decode} is all of {@link Codec#decodeSigned};
 * {@code parse} is the protobuf parse with its checks as far as kind, view and author ({@link Codec#parseSigned},
 * the author key coming from the decoded-key cache, as on a node); {@code decompress} is blst's G1 decompression of
 * the 48-byte signature (which puts the point on the curve); {@code subgroupCheck} is blst's {@code in_group} of
 * that point, the check that can be left to the quorum's aggregate; {@code unknownFields} is the walk of the parsed
 * message that refuses unknown fields (part of {@code parse}).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Benchmark)
public class VoteDecodeBenchmark {
    byte[] encoded;
    byte[] signature;
    P1_Affine point;
    Validator.Signed parsed;

    @Setup
    public void setUp() throws DecodeException {
        BenchChain chain = new BenchChain(6);
        Signed<ReplicaCommit> vote = chain.sign(1, chain.vote(10, 5, BenchChain.payload(1024, 5)));
        encoded = Codec.encode(vote);
        signature = vote.signature().bytes();
        point = new P1_Affine(signature);
        try {
            parsed = Validator.Signed.parseFrom(encoded);
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            throw new DecodeException("vote does not parse: " + e.getMessage(), e);
        }
        Codec.decodeSigned(encoded); // the author's key enters the decoded-key cache, as on a node
    }

    @Benchmark
    public Signed<ChonkyMessage> decode() throws DecodeException {
        return Codec.decodeSigned(encoded);
    }

    @Benchmark
    public Codec.ParsedSigned parse() throws DecodeException {
        return Codec.parseSigned(encoded);
    }

    @Benchmark
    public Validator.Signed unknownFields() throws DecodeException {
        UnknownFields.reject(parsed, "Signed");
        return parsed;
    }

    @Benchmark
    public P1_Affine decompress() {
        return new P1_Affine(signature);
    }

    @Benchmark
    public boolean subgroupCheck() {
        return point.in_group();
    }
}
