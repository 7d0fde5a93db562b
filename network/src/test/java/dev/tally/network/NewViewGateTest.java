package dev.tally.network;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tally.crypto.NodeSecretKey;
import dev.tally.network.ConsensusInbox.ReplicaPosition;
import dev.tally.protocol.ChonkyMessage;
import dev.tally.protocol.Codec;
import dev.tally.protocol.InvalidMessageException;
import dev.tally.protocol.Payload;
import dev.tally.protocol.ReplicaCommit;
import dev.tally.protocol.ReplicaNewView;
import dev.tally.protocol.Signed;
import dev.tally.protocol.TestChain;
import dev.tally.protocol.View;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** New-view messages for one view go through verification one at a time, and never wait long. */
class NewViewGateTest {
    static final int N = 7;
    static final TestChain CHAIN = new TestChain(N);
    static final Payload P = TestChain.payload("gate");
    /** The replica is in view V; peers that formed the commit QC of view V first send new-view messages for V + 1. */
    static final long V = 10;

    static final View NEXT = CHAIN.view(V + 1);

    /** The replica in view {@code v}, entered by the commit QC of the view before. */
    static ReplicaPosition inView(long v) {
        return new ReplicaPosition(0, v, CHAIN.committee().leader(v), v - 1, -1, false, false);
    }

    /** Validator {@code i}'s new-view message for V + 1: its QC has a signer set of its own (all but {@code i}). */
    static Signed<ReplicaNewView> newView(int i) {
        ReplicaCommit vote = CHAIN.vote(V, 3, P);
        int[] allBut = IntStream.range(0, N).filter(j -> j != i).toArray();
        return CHAIN.sign(i, new ReplicaNewView(CHAIN.commitQc(vote, allBut)));
    }

    static byte[] request(Signed<? extends ChonkyMessage> m) {
        return new OutgoingConsensusPool.Outgoing(m).request();
    }

    /** The mesh of validator 0, not started: the tests hand it requests as its connections would. */
    static ConsensusMesh mesh(ConsensusInbox inbox) {
        return mesh(inbox, TestNets.ALONE);
    }

    /** As {@link #mesh(ConsensusInbox)}, checking signatures with {@code signatures}. */
    static ConsensusMesh mesh(ConsensusInbox inbox, SignatureCheck signatures) {
        NetworkConfig config = TestNets.config(NodeSecretKey.generate(), CHAIN)
                .validatorKey(CHAIN.keys.get(0))
                .build();
        return new ConsensusMesh(
                config, new ValidatorAddressBook(CHAIN.committee()), inbox, new CachingQcVerifier(64), signatures);
    }

    /** Validator {@code from}'s request handled on a thread of its own, as its connection would; failures noted. */
    static Thread handle(ConsensusMesh mesh, int from, byte[] request, Queue<Throwable> failures) {
        return Thread.ofPlatform().start(() -> {
            try {
                mesh.receiver().handle(CHAIN.keys.get(from).publicKey(), request, null);
            } catch (Throwable t) {
                failures.add(t);
            }
        });
    }

    /** Waits until {@code t} parks with a timeout: a handler waiting at the gate. */
    static void awaitWaiting(Thread t) throws InterruptedException {
        TestNets.await(
                "a handler waiting at the gate",
                Duration.ofSeconds(10),
                () -> t.getState() == Thread.State.TIMED_WAITING);
    }

    /** A message for V + 1 enters {@code gate} on a thread of its own, as a handler would; its turn goes to {@code turn}. */
    static Thread enterOnAThread(NewViewGate gate, NewViewGate.Turn[] turn) {
        return Thread.ofPlatform().start(() -> {
            try {
                turn[0] = gate.enter(NEXT, Duration.ofSeconds(30));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
    }

    @Test
    void theFirstNewViewOfAViewGoesOnAtOnceAndTheOthersAreNotVerified() throws Exception {
        ConsensusInbox inbox = new ConsensusInbox();
        inbox.replicaAt(inView(V));
        ConsensusMesh mesh = mesh(inbox);
        List<byte[]> requests = new ArrayList<>();
        for (int i = 1; i < N; i++) {
            requests.add(request(newView(i)));
        }
        // Warm up the pairing code, so the first message's time below is its verification's, not class loading's.
        ConsensusReceiver.verify(
                Codec.decodeSigned(Codec.encode(newView(1))),
                CHAIN.keys.get(1).publicKey(),
                CHAIN.epoch,
                new CachingQcVerifier(1),
                TestNets.ALONE);
        Queue<Throwable> failures = new ConcurrentLinkedQueue<>();
        List<Thread> handlers = new ArrayList<>();
        long start = System.nanoTime();
        for (int i = 1; i < N; i++) {
            handlers.add(handle(mesh, i, requests.get(i - 1), failures));
        }
        // The replica stand-in: takes the first, and publishes its new view a moment later, after its step.
        assertThat(inbox.poll(Duration.ofSeconds(10))).isNotNull();
        long firstMillis = (System.nanoTime() - start) / 1_000_000;
        Thread.sleep(50);
        inbox.replicaAt(inView(V + 1));
        int delivered = 1;
        while (handlers.stream().anyMatch(Thread::isAlive)) {
            if (inbox.poll(Duration.ofMillis(50)) != null) {
                delivered++;
            }
        }
        for (Thread h : handlers) {
            h.join();
        }
        assertThat(failures).isEmpty();
        assertThat(delivered)
                .as("new-view messages verified and delivered, of %d for the same view", N - 1)
                .isLessThanOrEqualTo(2);
        assertThat(inbox.ignoredUnverified()).isGreaterThanOrEqualTo(N - 1 - 2);
        assertThat(firstMillis).as("the first message waits for no other").isLessThan(ConsensusMesh.POLL.toMillis());
        assertThat(inbox.newViews().heldViews())
                .as("the replica is in view V + 1: nothing left held")
                .isZero();
    }

    @Test
    void noNewViewOfTheNextViewIsVerifiedWhileTheVotesReceivedWeighAQuorum() throws Exception {
        ConsensusInbox inbox = new ConsensusInbox();
        inbox.replicaAt(inView(V));
        AtomicInteger checks = new AtomicInteger();
        ConsensusMesh mesh = mesh(inbox, (signature, message, key) -> {
            checks.incrementAndGet();
            return TestNets.ALONE.valid(signature, message, key);
        });
        // Six of seven votes for V: a quorum (n - f = 6). Votes' signatures are left to the replica's QC check.
        for (int i = 1; i < N; i++) {
            mesh.receiver().receive(CHAIN.keys.get(i).publicKey(), request(CHAIN.sign(i, CHAIN.vote(V, 3, P))));
        }
        assertThat(checks).hasValue(0);
        Queue<Throwable> failures = new ConcurrentLinkedQueue<>();
        Thread handler = handle(mesh, 1, request(newView(1)), failures);
        awaitWaiting(handler);
        assertThat(checks).as("the new-view message waits, unverified").hasValue(0);
        // The replica makes the QC from those votes and moves to V + 1: the message is one it ignores.
        inbox.replicaAt(inView(V + 1));
        handler.join(Duration.ofSeconds(10));
        assertThat(failures).isEmpty();
        assertThat(checks).as("never verified").hasValue(0);
        assertThat(inbox.ignoredUnverified()).isEqualTo(1);
    }

    /** A gate whose replica is in view V, six of seven votes for V (a quorum) gone to it. */
    static NewViewGate inViewVWithAQuorumOfItsVotes() {
        NewViewGate gate = new NewViewGate();
        gate.replicaAt(inView(V));
        for (int i = 1; i < N; i++) {
            gate.commitVote(
                    CHAIN.view(V),
                    CHAIN.keys.get(i).publicKey(),
                    1,
                    CHAIN.committee().quorumThreshold());
        }
        return gate;
    }

    @Test
    void whenTheReplicaDoesNotMakeTheQcAfterAllTheNewViewsTakeTurnsAgain() throws Exception {
        NewViewGate gate = inViewVWithAQuorumOfItsVotes();
        // The replica stays in V (say its quorum's signatures did not check out): past the wait, one message at a time.
        NewViewGate.Turn first = gate.enter(NEXT, Duration.ofMillis(100));
        assertThat(first.held())
                .as("the first takes the turn once the wait is over")
                .isTrue();
        assertThat(first.waited()).isTrue();
        NewViewGate.Turn[] second = new NewViewGate.Turn[1];
        Thread t = enterOnAThread(gate, second);
        awaitWaiting(t);
        first.close();
        t.join(Duration.ofSeconds(10));
        assertThat(second[0].held())
                .as("the next takes it when the first fails")
                .isTrue();
    }

    @Test
    void votesOfAViewTheReplicaLeftHoldNothingBack() throws Exception {
        NewViewGate gate = inViewVWithAQuorumOfItsVotes();
        gate.replicaAt(inView(V + 1)); // it made the QC of V
        // The view after, ended by a timeout QC (no commit votes): its new-view messages take turns at once.
        NewViewGate.Turn turn = gate.enter(CHAIN.view(V + 2), Duration.ofSeconds(5));
        assertThat(turn.held()).isTrue();
        assertThat(turn.waited()).isFalse();
    }

    @Test
    void belowAQuorumOfVotesTheFirstNewViewOfTheNextViewIsVerifiedAtOnce() throws Exception {
        ConsensusInbox inbox = new ConsensusInbox();
        inbox.replicaAt(inView(V));
        ConsensusMesh mesh = mesh(inbox);
        for (int i = 2; i < N; i++) { // five of seven
            mesh.receiver().receive(CHAIN.keys.get(i).publicKey(), request(CHAIN.sign(i, CHAIN.vote(V, 3, P))));
        }
        mesh.receiver().receive(CHAIN.keys.get(1).publicKey(), request(newView(1)));
        List<Signed<ChonkyMessage>> got = new ArrayList<>();
        inbox.drainTo(got, 2 * N);
        assertThat(got).contains((Signed) newView(1));
    }

    @Test
    void anInvalidFirstNewViewDoesNotHoldUpAValidOne() throws Exception {
        ConsensusInbox inbox = new ConsensusInbox();
        inbox.replicaAt(inView(V));
        // The first signature check (the forged message's) is held until the valid message waits at the gate.
        CountDownLatch firstStarted = new CountDownLatch(1);
        CountDownLatch releaseFirst = new CountDownLatch(1);
        AtomicBoolean first = new AtomicBoolean(true);
        ConsensusMesh mesh = mesh(inbox, (signature, message, key) -> {
            if (first.getAndSet(false)) {
                firstStarted.countDown();
                releaseFirst.await();
            }
            return TestNets.ALONE.valid(signature, message, key);
        });
        Signed<ReplicaNewView> valid = newView(1);
        ReplicaNewView m = newView(2).message();
        Signed<ReplicaNewView> forged =
                new Signed<>(m, CHAIN.keys.get(2).publicKey(), CHAIN.sign(3, m).signature());
        Queue<Throwable> forgedFailures = new ConcurrentLinkedQueue<>();
        Queue<Throwable> validFailures = new ConcurrentLinkedQueue<>();
        Thread a = handle(mesh, 2, request(forged), forgedFailures);
        assertThat(firstStarted.await(10, TimeUnit.SECONDS)).isTrue();
        Thread b = handle(mesh, 1, request(valid), validFailures);
        awaitWaiting(b);
        long released = System.nanoTime();
        releaseFirst.countDown();
        Signed<ChonkyMessage> got = inbox.poll(Duration.ofSeconds(10));
        long afterMillis = (System.nanoTime() - released) / 1_000_000;
        a.join();
        b.join();
        assertThat(forgedFailures).singleElement().isInstanceOf(InvalidMessageException.class);
        assertThat(validFailures).isEmpty();
        assertThat(got).isEqualTo((Signed) valid);
        // Without the release on failure it would wait out the gate's bound (250 ms from its arrival).
        assertThat(afterMillis)
                .as("the valid message goes on when the forged one fails")
                .isLessThan(150);
    }

    @Test
    void aFailedTurnPassesAtOnceToTheNextMessage() throws Exception {
        NewViewGate gate = new NewViewGate();
        gate.replicaAt(inView(V));
        NewViewGate.Turn holder = gate.enter(NEXT, Duration.ofSeconds(30));
        assertThat(holder.held()).isTrue();
        assertThat(holder.waited()).isFalse();
        NewViewGate.Turn[] next = new NewViewGate.Turn[1];
        Thread t = enterOnAThread(gate, next);
        awaitWaiting(t);
        holder.close(); // failed: not delivered
        t.join(Duration.ofSeconds(10));
        assertThat(t.isAlive()).as("the waiting message took the turn").isFalse();
        assertThat(next[0].held()).isTrue();
        assertThat(next[0].waited()).isTrue();
    }

    @Test
    void aDeliveredTurnHoldsItsViewUntilTheReplicaGetsThere() throws Exception {
        NewViewGate gate = new NewViewGate();
        gate.replicaAt(inView(V));
        try (NewViewGate.Turn holder = gate.enter(NEXT, Duration.ofSeconds(30))) {
            holder.delivered();
        }
        NewViewGate.Turn[] next = new NewViewGate.Turn[1];
        Thread t = enterOnAThread(gate, next);
        awaitWaiting(t);
        gate.replicaAt(inView(V + 1));
        t.join(Duration.ofSeconds(10));
        assertThat(t.isAlive()).isFalse();
        assertThat(next[0].held()).as("the replica is there: nothing to hold").isFalse();
        assertThat(next[0].waited()).as("so it checks again").isTrue();
        assertThat(gate.heldViews()).isZero();
    }

    @Test
    void aWaitIsBoundedAndNothingWaitsWithoutAPositionOrWhileAwaitingReports() throws Exception {
        NewViewGate gate = new NewViewGate();
        assertThat(gate.enter(NEXT, Duration.ofSeconds(30)).held())
                .as("no position yet")
                .isFalse();
        gate.replicaAt(new ReplicaPosition(0, V, CHAIN.committee().leader(V), -1, -1, false, true));
        assertThat(gate.enter(NEXT, Duration.ofSeconds(30)).held())
                .as("awaiting reports, the replica looks at every new-view message")
                .isFalse();
        gate.replicaAt(inView(V));
        gate.enter(NEXT, Duration.ofSeconds(30)).delivered();
        assertThat(gate.enter(CHAIN.view(V + 2), Duration.ofSeconds(30)).held())
                .as("another view has a turn of its own")
                .isTrue();
        long start = System.nanoTime();
        NewViewGate.Turn late = gate.enter(NEXT, Duration.ofMillis(100));
        long waitedMillis = (System.nanoTime() - start) / 1_000_000;
        assertThat(late.held()).isFalse();
        assertThat(late.waited()).isTrue();
        assertThat(waitedMillis).isBetween(100L, 5_000L);
        gate.replicaAt(new ReplicaPosition(1, 0, CHAIN.committee().leader(0), -1, -1, false, false));
        assertThat(gate.heldViews())
                .as("a new epoch drops the turns of the last")
                .isZero();
    }
}
