package dev.tally.storage;

import dev.tally.protocol.Codec;
import dev.tally.protocol.FinalBlock;
import dev.tally.protocol.Payload;
import dev.tally.protocol.Phase;
import dev.tally.protocol.Proposal;
import dev.tally.protocol.ReplicaCommit;
import dev.tally.protocol.ReplicaState;
import dev.tally.protocol.TestChain;
import java.util.List;
import java.util.Optional;

/** Final blocks and replica states of a {@link TestChain}, for the storage tests. */
final class Blocks {
    private Blocks() {}

    static Payload payload(long n) {
        return TestChain.payload("block " + n);
    }

    /** The canonical block {@code n} of {@code chain}: payload "block n", certified in view n by everyone. */
    static FinalBlock block(TestChain chain, long n) {
        Payload p = payload(n);
        return new FinalBlock(p, chain.commitQc(n, n, p));
    }

    /** A different, valid block at number {@code n}. */
    static FinalBlock otherBlock(TestChain chain, long n) {
        Payload p = TestChain.payload("other block " + n);
        return new FinalBlock(p, chain.commitQc(n + 1000, n, p));
    }

    /** A block whose payload is not the one its commit QC certifies. */
    static FinalBlock mismatchedBlock(TestChain chain, long n) {
        return new FinalBlock(TestChain.payload("not block " + n), chain.commitQc(n, n, payload(n)));
    }

    static List<FinalBlock> blocks(TestChain chain, long from, long toInclusive) {
        return java.util.stream.LongStream.rangeClosed(from, toInclusive)
                .mapToObj(n -> block(chain, n))
                .toList();
    }

    /** A replica state at {@code view} that has voted for block {@code view} and holds a commit QC. */
    static ReplicaState state(TestChain chain, long view) {
        Payload p = payload(view);
        ReplicaCommit vote = chain.vote(view, view, p);
        return new ReplicaState(
                0,
                view,
                Phase.COMMIT,
                Optional.of(vote),
                Optional.of(chain.commitQc(view, view, p)),
                Optional.empty(),
                List.of(new Proposal(view, p)));
    }

    static byte[] bytes(FinalBlock b) {
        return Codec.encode(b);
    }

    static byte[] bytes(ReplicaState s) {
        return Codec.encode(s);
    }
}
