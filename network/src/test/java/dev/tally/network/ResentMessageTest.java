package dev.tally.network;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tally.network.ConsensusInbox.ReplicaPosition;
import dev.tally.protocol.Payload;
import dev.tally.protocol.ReplicaNewView;
import dev.tally.protocol.ReplicaTimeout;
import dev.tally.protocol.Signed;
import dev.tally.protocol.TestChain;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** A replica re-sends its timeout and new-view messages unchanged at every expiry: a copy is not checked again. */
class ResentMessageTest {
    static final TestChain CHAIN = NewViewGateTest.CHAIN;
    static final long V = 20;

    /** A replica in view V; a mesh that delivers into its inbox and counts the signatures it checks (fresh per test). */
    final ConsensusInbox inbox = new ConsensusInbox();

    final AtomicInteger checks = new AtomicInteger();
    final ConsensusMesh mesh = NewViewGateTest.mesh(inbox, (signature, message, key) -> {
        checks.incrementAndGet();
        return TestNets.ALONE.valid(signature, message, key);
    });

    /** Validator {@code from}'s request, handled as its connection would, while a replica stand-in takes it. */
    Signed<?> deliver(int from, byte[] request) throws Exception {
        Thread handler = Thread.ofVirtual().start(() -> {
            try {
                mesh.receiver().handle(CHAIN.keys.get(from).publicKey(), request, null);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        Signed<?> taken = inbox.poll(Duration.ofSeconds(10));
        handler.join();
        return taken;
    }

    @BeforeEach
    void replicaInViewV() {
        inbox.replicaAt(new ReplicaPosition(0, V, CHAIN.committee().leader(V), V - 1, -1, false, false));
    }

    @Test
    void anUnchangedCopyOfAPeersLastNewViewIsTakenWithoutASecondCheck() throws Exception {
        Payload p = TestChain.payload("p");
        Signed<ReplicaNewView> newView = CHAIN.sign(1, new ReplicaNewView(CHAIN.commitQc(V, 1, p)));
        byte[] request = NewViewGateTest.request(newView);

        assertThat(deliver(1, request)).isEqualTo(newView);
        assertThat(deliver(1, request)).isEqualTo(newView);
        assertThat(deliver(1, request)).isEqualTo(newView);
        assertThat(checks).as("checks for three copies of one new-view message").hasValue(1);
        assertThat(mesh.resentUnverified()).isEqualTo(2);

        // A different message of the same peer is checked; the same bytes from another peer are refused.
        Signed<ReplicaNewView> next = CHAIN.sign(1, new ReplicaNewView(CHAIN.commitQc(V + 1, 2, p)));
        assertThat(deliver(1, NewViewGateTest.request(next))).isEqualTo(next);
        assertThat(checks).hasValue(2);
        assertThatThrownBy(() -> mesh.receiver().handle(CHAIN.keys.get(2).publicKey(), request, null))
                .hasMessageContaining("was sent by");
    }

    @Test
    void aTimeoutVotesSignatureIsLeftToTheReplicaAndItsCopiesAreTakenAsTheFirst() throws Exception {
        Signed<ReplicaTimeout> timeout =
                CHAIN.sign(1, new ReplicaTimeout(CHAIN.view(V), Optional.empty(), Optional.empty()));
        byte[] request = NewViewGateTest.request(timeout);

        assertThat(deliver(1, request)).isEqualTo(timeout);
        assertThat(deliver(1, request)).isEqualTo(timeout);
        assertThat(checks)
                .as("the replica checks timeout votes a quorum at a time")
                .hasValue(0);
        assertThat(mesh.resentUnverified()).isEqualTo(1);
    }
}
