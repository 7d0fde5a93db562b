package dev.tally.consensus;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tally.crypto.BlsPublicKey;
import dev.tally.protocol.Payload;
import dev.tally.protocol.ReplicaCommit;
import dev.tally.protocol.Signed;
import dev.tally.protocol.TestChain;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class VoteBookTest {
    static final TestChain CHAIN = new TestChain(6);

    @Test
    void theWeightOfEachVoteFollowsItsSignersNewestVotes() {
        Map<BlsPublicKey, Long> weights = new HashMap<>();
        for (int i = 0; i < 6; i++) {
            weights.put(CHAIN.keys.get(i).publicKey(), (long) i + 1);
        }
        VoteBook<ReplicaCommit> book = new VoteBook<>(weights::get);
        Payload p = TestChain.payload("a");
        ReplicaCommit a = CHAIN.vote(5, 1, p);
        ReplicaCommit b = CHAIN.vote(5, 1, TestChain.payload("b"));
        ReplicaCommit later = CHAIN.vote(6, 2, p);
        Signed<ReplicaCommit> a0 = CHAIN.sign(0, a);
        book.put(a0);
        book.put(CHAIN.sign(1, a));
        book.put(CHAIN.sign(2, b));
        assertThat(book.weightOf(a)).isEqualTo(1 + 2);
        assertThat(book.weightOf(b)).isEqualTo(3);
        assertThat(book.weightIn(5))
                .as("the view's votes, whatever they are for")
                .isEqualTo(1 + 2 + 3);
        assertThat(book.votesFor(a))
                .extracting(Signed::key)
                .containsExactlyInAnyOrder(
                        CHAIN.keys.get(0).publicKey(), CHAIN.keys.get(1).publicKey());

        // A signer's newer vote moves its weight; a removed vote takes its weight along.
        book.put(CHAIN.sign(1, later));
        assertThat(book.weightOf(a)).isEqualTo(1);
        assertThat(book.weightOf(later)).isEqualTo(2);
        assertThat(book.weightIn(5)).isEqualTo(1 + 3);
        assertThat(book.weightIn(6)).isEqualTo(2);
        book.remove(a0);
        assertThat(book.weightOf(a)).isZero();
        assertThat(book.votesFor(a)).isEmpty();
        book.remove(a0); // twice: nothing left to take
        assertThat(book.weightOf(b)).isEqualTo(3);

        // Pruned views keep no weight, and a vote of a pruned view replaced later does not go negative.
        book.pruneBelow(6);
        assertThat(book.weightOf(b)).isZero();
        assertThat(book.weightIn(5)).isZero();
        book.put(CHAIN.sign(2, CHAIN.vote(7, 3, p)));
        assertThat(book.weightOf(b)).isZero();
        assertThat(book.weightOf(later)).isEqualTo(2);
    }
}
