package dev.tally.node.executor;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tally.protocol.Payload;
import dev.tally.protocol.QcVerifier;
import dev.tally.protocol.ReplicaCommit;
import dev.tally.protocol.ReplicaNewView;
import dev.tally.protocol.ReplicaTimeout;
import dev.tally.protocol.Signed;
import dev.tally.protocol.TestChain;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class NetworkVerifiedTest {
    static final TestChain CHAIN = new TestChain(6);

    @Test
    void votesAreCheckedForTheNetworkLeavesThemToTheReplica() {
        NetworkVerified verifier = new NetworkVerified(QcVerifier.DIRECT);
        Payload p = TestChain.payload("x");
        Signed<ReplicaCommit> good = CHAIN.sign(1, CHAIN.vote(5, 1, p));
        Signed<ReplicaCommit> bad = new Signed<>(
                good.message(), good.key(), CHAIN.sign(2, good.message()).signature());
        assertThat(verifier.verifySignature(good)).isTrue();
        assertThat(verifier.verifySignature(bad)).isFalse();
        ReplicaTimeout timeout = new ReplicaTimeout(CHAIN.view(5), Optional.empty(), Optional.empty());
        assertThat(verifier.verifySignature(CHAIN.sign(1, timeout))).isTrue();
        assertThat(verifier.verifySignature(
                        new Signed<>(timeout, good.key(), CHAIN.sign(2, timeout).signature())))
                .isFalse();
        // Everything else passed ConsensusReceiver.verify, signature included, before it reached the inbox.
        ReplicaNewView newView = new ReplicaNewView(CHAIN.commitQc(4, 1, p));
        assertThat(verifier.verifySignature(new Signed<>(newView, good.key(), bad.signature())))
                .isTrue();
    }
}
