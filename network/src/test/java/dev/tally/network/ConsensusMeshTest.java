package dev.tally.network;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tally.crypto.NodeSecretKey;
import dev.tally.protocol.ChonkyMessage;
import dev.tally.protocol.CommitQC;
import dev.tally.protocol.InvalidMessageException;
import dev.tally.protocol.LeaderProposal;
import dev.tally.protocol.Payload;
import dev.tally.protocol.ReplicaCommit;
import dev.tally.protocol.ReplicaNewView;
import dev.tally.protocol.ReplicaTimeout;
import dev.tally.protocol.Signed;
import dev.tally.protocol.TestChain;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Five validators on loopback: a full mesh, broadcast, re-send of the newest message per kind after a reconnect. */
class ConsensusMeshTest {
    static final int N = 5;
    static final TestChain CHAIN = new TestChain(N);
    static final List<InetSocketAddress> ADDRS = new ArrayList<>();
    static final List<NodeSecretKey> NODE_KEYS = new ArrayList<>();
    static final Network[] NETS = new Network[N];
    /** The pools keep the newest message per kind, so every test uses views above the previous test's. */
    static long base = 1000;

    static long views() {
        return base += 1000;
    }

    static Network start(int i) throws Exception {
        var b = TestNets.config(NODE_KEYS.get(i), CHAIN).listen(ADDRS.get(i)).validatorKey(CHAIN.keys.get(i));
        for (int j = 0; j < N; j++) {
            b.validatorAddress(CHAIN.keys.get(j).publicKey(), ADDRS.get(j));
        }
        return Network.start(b.build(), new TestNets.MemoryStore(0), new TestNets.MemoryStore(0), TestNets.NO_TXS);
    }

    @BeforeAll
    static void startMesh() throws Exception {
        for (int i = 0; i < N; i++) {
            ADDRS.add(LoopbackPorts.freeAddress());
            NODE_KEYS.add(NodeSecretKey.generate());
        }
        for (int i = 0; i < N; i++) {
            NETS[i] = start(i);
        }
        for (int i = 0; i < N; i++) {
            int k = i;
            TestNets.await(
                    "full mesh at " + i,
                    Duration.ofSeconds(20),
                    () -> NETS[k].consensus().get().links().sendingTo().size() == N - 1
                            && NETS[k].consensus().get().links().receivingFrom().size() == N - 1);
        }
    }

    @AfterAll
    static void stop() {
        for (Network n : NETS) {
            if (n != null) {
                n.close();
            }
        }
    }

    /**
     * The next {@code count} messages of this test: the tests share one mesh, and a message of an earlier test (of a
     * lower view: each test takes views above the last) may still arrive late, under load, re-sent after a reconnect.
     */
    static List<Signed<ChonkyMessage>> receive(Network n, int count) throws InterruptedException {
        List<Signed<ChonkyMessage>> got = new ArrayList<>();
        while (got.size() < count) {
            Signed<ChonkyMessage> m = n.inbox().poll(Duration.ofSeconds(10));
            assertThat(m).as("message %d of %d", got.size() + 1, count).isNotNull();
            if (m.message().view().number() >= base) {
                got.add(m);
            }
        }
        return got;
    }

    @Test
    void everyValidatorReceivesEveryBroadcastIncludingItsOwn() throws Exception {
        long v = views();
        Payload p = TestChain.payload("mesh");
        List<Signed<ReplicaCommit>> sent = new ArrayList<>();
        for (int i = 0; i < N; i++) {
            Signed<ReplicaCommit> m = CHAIN.sign(i, CHAIN.vote(v + i, 7, p));
            sent.add(m);
            NETS[i].broadcast(m);
        }
        for (int i = 0; i < N; i++) {
            Set<Object> got = new HashSet<>(receive(NETS[i], N));
            assertThat(got).containsExactlyInAnyOrderElementsOf(new HashSet<>(sent));
        }
        // Proposals with a QC justification are verified and delivered too.
        CommitQC qc = CHAIN.commitQc(v + 10, 8, p);
        int leader = CHAIN.committee().indexOf(CHAIN.committee().leader(v + 11)).orElseThrow();
        Signed<LeaderProposal> proposal =
                CHAIN.sign(leader, new LeaderProposal(Optional.of(TestChain.payload("next")), qc));
        NETS[leader].broadcast(proposal);
        for (int i = 0; i < N; i++) {
            assertThat(receive(NETS[i], 1)).containsExactly((Signed) proposal);
        }
    }

    @Test
    void newestMessagePerKindIsResentAfterAReconnect() throws Exception {
        int from = 0;
        int to = 3;
        long v = views();
        Payload p = TestChain.payload("resend");
        Signed<ReplicaCommit> oldCommit = CHAIN.sign(from, CHAIN.vote(v, 9, p));
        Signed<ReplicaCommit> newCommit = CHAIN.sign(from, CHAIN.vote(v + 1, 10, p));
        Signed<ReplicaTimeout> timeout =
                CHAIN.sign(from, new ReplicaTimeout(CHAIN.view(v + 1), Optional.empty(), Optional.empty()));
        Signed<ReplicaNewView> newView = CHAIN.sign(from, new ReplicaNewView(CHAIN.commitQc(v, 9, p)));
        // Stop the receiver first, so these are only queued for it.
        NETS[to].close();
        TestNets.await(
                "sender notices",
                Duration.ofSeconds(10),
                () -> !NETS[from]
                        .consensus()
                        .get()
                        .links()
                        .sendingTo()
                        .contains(CHAIN.keys.get(to).publicKey()));
        NETS[from].broadcast(oldCommit);
        NETS[from].broadcast(newCommit);
        NETS[from].broadcast(timeout);
        NETS[from].broadcast(newView);
        NETS[to] = start(to);
        List<Signed<ChonkyMessage>> got = receive(NETS[to], 3);
        assertThat(got).containsExactlyInAnyOrder((Signed) newCommit, (Signed) timeout, (Signed) newView);
        assertThat(NETS[to].inbox().poll(Duration.ofMillis(300))).isNull();
        for (int i = 0; i < N; i++) {
            if (i != to) {
                NETS[i].inbox().drainTo(new ArrayList<>(), 100);
            }
        }
        int k = to;
        TestNets.await(
                "mesh restored",
                Duration.ofSeconds(20),
                () -> NETS[k].consensus().get().links().sendingTo().size() == N - 1);
    }

    @Test
    void aLateProposalReachesAReplicaOnlyWhileItLacksTheBlock() throws Exception {
        // Led by validator 0, whose pool the next tests' messages (sent by 0, of far later views) clear.
        long v = views();
        while (CHAIN.committee().indexOf(CHAIN.committee().leader(v + 1)).orElseThrow() != 0) {
            v++;
        }
        int leader = 0;
        int to = 1;
        Payload p = TestChain.payload("late");
        Signed<LeaderProposal> late = CHAIN.sign(leader, new LeaderProposal(Optional.of(p), CHAIN.commitQc(v, 7, p)));
        // The others' votes made the QC of view v + 1 (block 8) first: the replica is in view v + 2 without block 8.
        var at = new ConsensusInbox.ReplicaPosition(0, v + 2, CHAIN.committee().leader(v + 2), v + 1, -1, true, false);
        NETS[to].inbox().replicaAt(at);
        NETS[leader].broadcast(late);
        assertThat(receive(NETS[to], 1)).containsExactly((Signed) late);
        NETS[to].inbox().replicaAt(new ConsensusInbox.ReplicaPosition(0, v + 2, at.leader(), v + 1, -1, false, false));
        Signed<LeaderProposal> again = CHAIN.sign(
                leader, new LeaderProposal(Optional.of(TestChain.payload("again")), CHAIN.commitQc(v, 7, p)));
        NETS[leader].broadcast(again);
        assertThat(NETS[to].inbox().poll(Duration.ofMillis(500)))
                .as("block 8 is final there now")
                .isNull();
        NETS[to].inbox()
                .replicaAt(new ConsensusInbox.ReplicaPosition(
                        0, 0, CHAIN.committee().leader(0), -1, -1, false, false));
        // Clean-up for the next tests, best effort: the others take what came of the two proposals (the second
        // replaces the first if that was not taken yet). Under load one may still arrive later; the next tests take
        // views above this one's and skip it (see receive).
        for (int i = 0; i < N; i++) {
            Signed<ChonkyMessage> m = null;
            while (i != to && !again.equals(m)) {
                m = NETS[i].inbox().poll(Duration.ofSeconds(2));
                if (m == null) {
                    break;
                }
            }
        }
    }

    @Test
    void verificationRejectsForgedMisdirectedAndForeignMessages() {
        CachingQcVerifier qcs = new CachingQcVerifier(16);
        Payload p = TestChain.payload("x");
        Signed<ChonkyMessage> good = (Signed) CHAIN.sign(1, CHAIN.vote(5, 1, p));
        var sender = CHAIN.keys.get(1).publicKey();
        assertThatThrownBy(() ->
                        ConsensusReceiver.verify(good, CHAIN.keys.get(2).publicKey(), CHAIN.epoch, qcs, TestNets.ALONE))
                .isInstanceOf(InvalidMessageException.class)
                .hasMessageContaining("was sent by");
        ReplicaNewView newView = new ReplicaNewView(CHAIN.commitQc(4, 1, p));
        Signed<ChonkyMessage> forged =
                new Signed<>(newView, sender, CHAIN.sign(2, newView).signature());
        assertThatThrownBy(() -> ConsensusReceiver.verify(forged, sender, CHAIN.epoch, qcs, TestNets.ALONE))
                .isInstanceOf(InvalidMessageException.class)
                .hasMessageContaining("bad signature");
        // Votes' signatures (commit and timeout) are left to the replica, which checks a quorum of them at once.
        Signed<ChonkyMessage> badVote = new Signed<>(
                good.message(), sender, CHAIN.sign(2, CHAIN.vote(5, 1, p)).signature());
        assertThatCode(() -> ConsensusReceiver.verify(badVote, sender, CHAIN.epoch, qcs, TestNets.ALONE))
                .doesNotThrowAnyException();
        ReplicaTimeout timeout = new ReplicaTimeout(CHAIN.view(5), Optional.empty(), Optional.empty());
        Signed<ChonkyMessage> badTimeout =
                new Signed<>(timeout, sender, CHAIN.sign(2, timeout).signature());
        assertThatCode(() -> ConsensusReceiver.verify(badTimeout, sender, CHAIN.epoch, qcs, TestNets.ALONE))
                .doesNotThrowAnyException();
        var outsider = dev.tally.crypto.BlsSecretKey.generate();
        Signed<ChonkyMessage> outsiders = (Signed) Signed.sign(outsider, CHAIN.vote(5, 1, p));
        assertThatThrownBy(() ->
                        ConsensusReceiver.verify(outsiders, outsider.publicKey(), CHAIN.epoch, qcs, TestNets.ALONE))
                .isInstanceOf(InvalidMessageException.class)
                .hasMessageContaining("not a validator");
        TestChain other = new TestChain(N, 3);
        Signed<ChonkyMessage> foreign = (Signed) other.sign(1, other.vote(5, 4, p));
        assertThatThrownBy(() -> ConsensusReceiver.verify(
                        foreign, other.keys.get(1).publicKey(), CHAIN.epoch, qcs, TestNets.ALONE))
                .isInstanceOf(InvalidMessageException.class)
                .hasMessageContaining("another chain");
        int notLeader = (CHAIN.committee().indexOf(CHAIN.committee().leader(6)).orElseThrow() + 1) % N;
        Signed<ChonkyMessage> usurper =
                (Signed) CHAIN.sign(notLeader, new LeaderProposal(Optional.of(p), CHAIN.commitQc(5, 1, p)));
        assertThatThrownBy(() -> ConsensusReceiver.verify(
                        usurper, CHAIN.keys.get(notLeader).publicKey(), CHAIN.epoch, qcs, TestNets.ALONE))
                .isInstanceOf(InvalidMessageException.class)
                .hasMessageContaining("does not lead");
    }

    @Test
    void aProposalsQcForAVoteAVerifiedQcCertifiesNeedsNoPairing() throws Exception {
        CachingQcVerifier qcs = new CachingQcVerifier(16);
        Payload p = TestChain.payload("x");
        CommitQC own = CHAIN.commitQc(5, 1, p);
        CommitQC badSignature = new CommitQC(
                own.message(), own.signers(), CHAIN.commitQc(5, 2, p).signature());
        int leader = CHAIN.committee().indexOf(CHAIN.committee().leader(6)).orElseThrow();
        Signed<ChonkyMessage> proposal =
                (Signed) CHAIN.sign(leader, new LeaderProposal(Optional.of(TestChain.payload("y")), badSignature));
        var sender = CHAIN.keys.get(leader).publicKey();
        assertThatThrownBy(() -> ConsensusReceiver.verify(proposal, sender, CHAIN.epoch, qcs, TestNets.ALONE))
                .isInstanceOf(InvalidMessageException.class)
                .hasMessageContaining("aggregate signature is invalid");
        qcs.verify(own, CHAIN.epoch);
        assertThat(qcs.certifies(own.message())).isTrue();
        // The replica will take its own QC for that vote instead (Replica.withOwnCommitQc).
        assertThatCode(() -> ConsensusReceiver.verify(proposal, sender, CHAIN.epoch, qcs, TestNets.ALONE))
                .doesNotThrowAnyException();
        CommitQC tooFew =
                new CommitQC(own.message(), CHAIN.commitQc(own.message(), 1, 2).signers(), own.signature());
        Signed<ChonkyMessage> weak =
                (Signed) CHAIN.sign(leader, new LeaderProposal(Optional.of(TestChain.payload("y")), tooFew));
        assertThatThrownBy(() -> ConsensusReceiver.verify(weak, sender, CHAIN.epoch, qcs, TestNets.ALONE))
                .isInstanceOf(InvalidMessageException.class)
                .hasMessageContaining("below the quorum");
    }
}
