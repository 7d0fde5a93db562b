package dev.tally.network;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import dev.tally.network.ConsensusInbox.ReplicaPosition;
import dev.tally.network.proto.Net;
import dev.tally.protocol.ChonkyMessage;
import dev.tally.protocol.Codec;
import dev.tally.protocol.CommitQC;
import dev.tally.protocol.InvalidMessageException;
import dev.tally.protocol.LeaderProposal;
import dev.tally.protocol.Payload;
import dev.tally.protocol.ReplicaCommit;
import dev.tally.protocol.ReplicaNewView;
import dev.tally.protocol.ReplicaTimeout;
import dev.tally.protocol.Signed;
import dev.tally.protocol.Signers;
import dev.tally.protocol.TestChain;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import supranational.blst.P1;

/** The building blocks: token bucket, inbox, outgoing pool, address book, QC cache. */
class UnitsTest {
    static final TestChain CHAIN = TestNets.chain();
    static final Payload P = TestChain.payload("u");

    @Test
    void tokenBucketAllowsABurstThenTheRate() throws Exception {
        TokenBucket b = new TokenBucket(3, Duration.ofMillis(100));
        for (int i = 0; i < 3; i++) {
            assertThat(b.tryAcquire()).isTrue();
        }
        assertThat(b.tryAcquire()).isFalse();
        long start = System.nanoTime();
        b.acquire();
        b.acquire();
        long ms = (System.nanoTime() - start) / 1_000_000;
        // The lower bound is the rule; the upper one only catches a bucket that never refills (a loaded CI
        // machine can stall a thread for long).
        assertThat(ms).isBetween(100L, 5_000L);
        assertThat(new TokenBucket(RpcConfig.Rate.UNLIMITED).reserve()).isZero();
    }

    @Test
    void messagesTheReplicaIgnoresAreRecognisedBeforeVerification() {
        ConsensusInbox inbox = new ConsensusInbox();
        Signed<ReplicaCommit> c4 = CHAIN.sign(0, CHAIN.vote(4, 1, P));
        assertThat(inbox.ignoredByReplica(c4)).as("no position reported yet").isFalse();
        var leader5 = CHAIN.committee().leader(5);
        inbox.replicaAt(
                new ReplicaPosition(0, 5, leader5, -1, 4, false, false)); // entered view 5 by a timeout QC of view 4
        assertThat(inbox.ignoredByReplica(c4)).as("an old view").isTrue();
        assertThat(inbox.ignoredByReplica(CHAIN.sign(0, CHAIN.vote(5, 1, P))))
                .as("a vote of the current view")
                .isFalse();
        int leader = CHAIN.keys.indexOf(CHAIN.keys.stream()
                .filter(k -> k.publicKey().equals(leader5))
                .findFirst()
                .orElseThrow());
        int other = (leader + 1) % CHAIN.keys.size();
        ReplicaNewView nv = new ReplicaNewView(CHAIN.commitQc(4, 1, P));
        assertThat(inbox.ignoredByReplica(CHAIN.sign(other, nv)))
                .as("current view's new-view, not from its leader")
                .isTrue();
        assertThat(inbox.ignoredByReplica(
                        ReplicaNewView.class, nv.view(), CHAIN.keys.get(other).publicKey()))
                .as("the same, told before decoding")
                .isTrue();
        assertThat(inbox.ignoredByReplica(ReplicaNewView.class, nv.view(), leader5))
                .as("the leader's: its QCs decide")
                .isFalse();
        assertThat(inbox.ignoredByReplica(CHAIN.sign(leader, nv)))
                .as("from the leader: it brings the commit QC")
                .isFalse();
        inbox.replicaAt(new ReplicaPosition(
                0, 5, leader5, 4, -1, false, false)); // entered view 5 by its own commit QC of view 4
        assertThat(inbox.ignoredByReplica(CHAIN.sign(leader, nv)))
                .as("the leader's, but the replica holds as high a QC")
                .isTrue();
        assertThat(inbox.ignoredByReplica(CHAIN.sign(other, new ReplicaNewView(CHAIN.commitQc(5, 2, P)))))
                .as("a later view")
                .isFalse();
        inbox.replicaAt(new ReplicaPosition(1, 0, leader5, -1, -1, false, false));
        assertThat(inbox.ignoredByReplica(c4))
                .as("another epoch: the epoch check decides")
                .isFalse();
        assertThat(inbox.ignoredUnverified()).isEqualTo(4);
    }

    @Test
    void aLateProposalPassesWhileTheReplicaLacksTheBlockOfItsHighQc() {
        ConsensusInbox inbox = new ConsensusInbox();
        var leader4 = CHAIN.committee().leader(4);
        int leader = CHAIN.keys.indexOf(CHAIN.keys.stream()
                .filter(k -> k.publicKey().equals(leader4))
                .findFirst()
                .orElseThrow());
        Signed<LeaderProposal> late = CHAIN.sign(leader, new LeaderProposal(Optional.of(P), CHAIN.commitQc(3, 1, P)));
        Signed<LeaderProposal> older = CHAIN.sign(0, new LeaderProposal(Optional.of(P), CHAIN.commitQc(2, 1, P)));
        // In view 5 by the commit QC of view 4, whose block the others' votes made final before its proposal came.
        inbox.replicaAt(new ReplicaPosition(0, 5, CHAIN.committee().leader(5), 4, -1, true, false));
        assertThat(inbox.ignoredByReplica(late))
                .as("it brings the payload the replica lacks")
                .isFalse();
        assertThat(inbox.ignoredByReplica(LeaderProposal.class, late.message().view(), leader4))
                .as("told before decoding")
                .isFalse();
        assertThat(inbox.ignoredByReplica(older))
                .as("a proposal of another old view")
                .isTrue();
        assertThat(inbox.ignoredByReplica(CHAIN.sign(0, CHAIN.vote(4, 2, P))))
                .as("an old vote")
                .isTrue();
        inbox.replicaAt(new ReplicaPosition(0, 5, CHAIN.committee().leader(5), 4, -1, false, false));
        assertThat(inbox.ignoredByReplica(late))
                .as("the block is final here: nothing to bring")
                .isTrue();
    }

    @Test
    void aReplicaWaitingForReportsSeesEveryNewViewMessage() {
        ConsensusInbox inbox = new ConsensusInbox();
        var leader5 = CHAIN.committee().leader(5);
        int other = (CHAIN.keys.indexOf(CHAIN.keys.stream()
                                .filter(k -> k.publicKey().equals(leader5))
                                .findFirst()
                                .orElseThrow())
                        + 1)
                % CHAIN.keys.size();
        Signed<ReplicaNewView> old = CHAIN.sign(other, new ReplicaNewView(CHAIN.commitQc(2, 1, P)));
        Signed<ReplicaNewView> current = CHAIN.sign(other, new ReplicaNewView(CHAIN.commitQc(4, 1, P)));
        inbox.replicaAt(new ReplicaPosition(0, 5, leader5, 4, -1, false, true));
        assertThat(inbox.ignoredByReplica(old))
                .as("a lagging validator's report counts too")
                .isFalse();
        assertThat(inbox.ignoredByReplica(current))
                .as("so does a non-leader's for the current view")
                .isFalse();
        inbox.replicaAt(new ReplicaPosition(0, 5, leader5, 4, -1, false, false));
        assertThat(inbox.ignoredByReplica(old)).isTrue();
        assertThat(inbox.ignoredByReplica(current)).isTrue();
    }

    @Test
    void inboxKeepsTheNewestPerSignerAndKindAndAcknowledgesOnTake() throws Exception {
        ConsensusInbox inbox = new ConsensusInbox();
        Signed<ReplicaCommit> c5 = CHAIN.sign(0, CHAIN.vote(5, 1, P));
        Signed<ReplicaCommit> c6 = CHAIN.sign(0, CHAIN.vote(6, 1, P));
        Signed<ReplicaCommit> other = CHAIN.sign(1, CHAIN.vote(5, 1, P));
        Signed<ReplicaTimeout> t5 =
                CHAIN.sign(0, new ReplicaTimeout(CHAIN.view(5), Optional.empty(), Optional.empty()));
        CompletableFuture<Void> a5 = inbox.offer(c5);
        CompletableFuture<Void> aOther = inbox.offer(other);
        CompletableFuture<Void> aT = inbox.offer(t5);
        CompletableFuture<Void> a6 = inbox.offer(c6);
        assertThat(a5).isDone(); // superseded
        assertThat(inbox.offer(c5)).isDone(); // older than queued: dropped at once
        assertThat(inbox.size()).isEqualTo(3);
        assertThat(a6).isNotDone();
        // c6 took c5's place in line.
        assertThat(inbox.take()).isEqualTo(c6);
        assertThat(a6).isDone();
        List<Signed<ChonkyMessage>> rest = new ArrayList<>();
        assertThat(inbox.drainTo(rest, 10)).isEqualTo(2);
        assertThat(rest).containsExactly((Signed) other, (Signed) t5);
        assertThat(aOther).isDone();
        assertThat(aT).isDone();
        assertThat(inbox.poll(Duration.ofMillis(10))).isNull();
        // Bounded: however many messages one validator sends, one slot per kind.
        List<CompletableFuture<Void>> floodAcks = new ArrayList<>();
        for (int v = 10; v < 1000; v++) {
            floodAcks.add(inbox.offer(CHAIN.sign(2, CHAIN.vote(v, 1, P))));
        }
        assertThat(inbox.size()).isEqualTo(1);
        assertThat(floodAcks.subList(0, floodAcks.size() - 1))
                .as("a superseded message frees its sender at once")
                .allMatch(CompletableFuture::isDone);
        assertThat(floodAcks.getLast()).isNotDone();
    }

    @Test
    void outgoingPoolKeepsTheNewestPerKindAndDropsStaleViews() throws Exception {
        OutgoingConsensusPool pool = new OutgoingConsensusPool();
        long[] early = OutgoingConsensusPool.newCursor();
        Signed<ReplicaCommit> c5 = CHAIN.sign(0, CHAIN.vote(5, 1, P));
        pool.put(c5);
        assertThat(pool.next(early, Duration.ZERO).message()).isEqualTo(c5);
        Signed<ReplicaCommit> c4 = CHAIN.sign(0, CHAIN.vote(4, 1, P));
        pool.put(c4); // older: ignored
        assertThat(pool.next(early, Duration.ZERO)).isNull();
        Signed<ReplicaTimeout> t5 =
                CHAIN.sign(0, new ReplicaTimeout(CHAIN.view(5), Optional.empty(), Optional.empty()));
        Signed<ReplicaNewView> nv6 = CHAIN.sign(0, new ReplicaNewView(CHAIN.commitQc(5, 1, P)));
        pool.put(t5);
        pool.put(nv6);
        assertThat(pool.current()).containsExactly((Signed) c5, (Signed) t5, (Signed) nv6);
        assertThat(pool.next(early, Duration.ZERO).message()).isEqualTo(t5);
        assertThat(pool.next(early, Duration.ZERO).message()).isEqualTo(nv6);
        // A new-view for view 8 makes everything below view 7 stale.
        Signed<ReplicaNewView> nv8 = CHAIN.sign(0, new ReplicaNewView(CHAIN.commitQc(7, 2, P)));
        pool.put(nv8);
        assertThat(pool.current()).containsExactly((Signed) nv8);
        assertThat(pool.next(early, Duration.ZERO).message()).isEqualTo(nv8);
        assertThat(pool.next(early, Duration.ofMillis(5))).isNull();
    }

    @Test
    void outgoingPoolEncodesAMessageOnceForEveryConnection() throws Exception {
        OutgoingConsensusPool pool = new OutgoingConsensusPool();
        long[] toA = OutgoingConsensusPool.newCursor();
        long[] toB = OutgoingConsensusPool.newCursor();
        Signed<ReplicaNewView> nv = CHAIN.sign(0, new ReplicaNewView(CHAIN.commitQc(5, 1, P)));
        pool.put(nv);
        byte[] sentToA = pool.next(toA, Duration.ZERO).request();
        byte[] sentToB = pool.next(toB, Duration.ZERO).request();
        assertThat(sentToB).as("the same bytes, encoded once").isSameAs(sentToA);
        byte[] wire = Net.ConsensusReq.newBuilder()
                .setMsg(ByteString.copyFrom(Codec.encode(nv)))
                .build()
                .toByteArray();
        assertThat(sentToA).as("the wire format is unchanged").isEqualTo(wire);
    }

    @Test
    void addressBookWakesAWaiterOnAChangeAndOtherwiseAtTheTimeout() throws Exception {
        ValidatorAddressBook book = new ValidatorAddressBook(CHAIN.committee());
        InetSocketAddress a = new InetSocketAddress(InetAddress.getLoopbackAddress(), 1001);
        long since = book.changes();
        long started = System.nanoTime();
        book.awaitChange(since, Duration.ofMillis(100));
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isGreaterThanOrEqualTo(Duration.ofMillis(100));
        // A virtual thread waits (as gossip's address pushers do); an update from another thread ends its wait.
        CompletableFuture<Long> woke = new CompletableFuture<>();
        Thread waiter = Thread.ofVirtual().start(() -> {
            try {
                book.awaitChange(since, Duration.ofSeconds(30));
                woke.complete(book.changes());
            } catch (InterruptedException e) {
                woke.completeExceptionally(e);
            }
        });
        book.update(
                List.of(SignedNetAddress.sign(CHAIN.keys.get(1), a, 1, Instant.ofEpochSecond(1_700_000_000))),
                TestNets.ALONE);
        assertThat(woke.get(10, TimeUnit.SECONDS)).isGreaterThan(since);
        waiter.join();
    }

    @Test
    void aChangeSignalledBetweenALookAndTheWaitIsNotLost() throws Exception {
        ChangeSignal signal = new ChangeSignal();
        long since = signal.changes();
        signal.signal(); // after the waiter looked, before it waits: its wait must end at once, not at the timeout
        CompletableFuture<Long> woke = CompletableFuture.supplyAsync(() -> {
            try {
                signal.awaitChange(since, Duration.ofMinutes(1));
                return signal.changes();
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        assertThat(woke.get(10, TimeUnit.SECONDS)).isEqualTo(since + 1);
    }

    @Test
    void anAnnouncementSignedOutsideTheSubgroupDecodesAndIsRefused() throws Exception {
        ValidatorAddressBook book = new ValidatorAddressBook(CHAIN.committee());
        InetSocketAddress a = new InetSocketAddress(InetAddress.getLoopbackAddress(), 1001);
        Instant t = Instant.ofEpochSecond(1_700_000_000);
        SignedNetAddress valid = SignedNetAddress.sign(CHAIN.keys.get(0), a, 1, t);
        // Its valid signature plus a point of small order: not refused when decoded, but when verified.
        byte[] outside = new P1(valid.signature().bytes())
                .add(TestChain.smallOrderPoint())
                .compress();
        SignedNetAddress bad = NetCodec.decodeSignedNetAddress(NetCodec.encode(new SignedNetAddress(
                valid.key(), a, 1, t, dev.tally.crypto.BlsSignature.fromBytesForAggregation(outside))));
        assertThatThrownBy(() -> book.update(List.of(bad), TestNets.ALONE))
                .isInstanceOf(InvalidMessageException.class)
                .hasMessageContaining("bad signature");
        // In a batch (checked together first): the good one before it is taken, the bad one refused.
        SignedNetAddress other = SignedNetAddress.sign(CHAIN.keys.get(1), a, 1, t);
        assertThatThrownBy(() -> book.update(List.of(other, bad), TestNets.ALONE))
                .isInstanceOf(InvalidMessageException.class)
                .hasMessageContaining("bad signature");
        assertThat(book.get(CHAIN.keys.get(1).publicKey())).contains(other);
        assertThat(book.get(CHAIN.keys.get(0).publicKey())).isEmpty();
    }

    @Test
    void addressBookKeepsTheNewestValidAnnouncement() throws Exception {
        ValidatorAddressBook book = new ValidatorAddressBook(CHAIN.committee());
        InetSocketAddress a1 = new InetSocketAddress(InetAddress.getLoopbackAddress(), 1001);
        InetSocketAddress a2 = new InetSocketAddress(InetAddress.getLoopbackAddress(), 1002);
        Instant t = Instant.ofEpochSecond(1_700_000_000);
        SignedNetAddress v1 = SignedNetAddress.sign(CHAIN.keys.get(0), a1, 1, t);
        SignedNetAddress v2 = SignedNetAddress.sign(CHAIN.keys.get(0), a2, 2, t);
        List<SignedNetAddress> heard = new ArrayList<>();
        book.addListener(heard::add);
        assertThat(book.update(List.of(v2), TestNets.ALONE)).isEqualTo(1);
        assertThat(book.update(List.of(v1), TestNets.ALONE)).isZero();
        assertThat(book.get(CHAIN.keys.get(0).publicKey()).orElseThrow().address())
                .isEqualTo(a2);
        assertThat(heard).containsExactly(v2);
        // Round trip through the wire encoding.
        assertThat(NetCodec.decodeSignedNetAddress(NetCodec.encode(v2))).isEqualTo(v2);
        // A forged newer one is refused; a non-validator's is ignored; a batch naming a key twice is refused.
        SignedNetAddress forged = new SignedNetAddress(v2.key(), a1, 3, t, v1.signature());
        assertThatThrownBy(() -> book.update(List.of(forged), TestNets.ALONE))
                .isInstanceOf(InvalidMessageException.class);
        SignedNetAddress outsider =
                SignedNetAddress.sign(dev.tally.crypto.BlsSecretKey.fromSeed(new byte[32]), a1, 9, t);
        assertThat(book.update(List.of(outsider), TestNets.ALONE)).isZero();
        SignedNetAddress v3 = SignedNetAddress.sign(CHAIN.keys.get(1), a1, 3, t);
        assertThatThrownBy(() -> book.update(List.of(v3, v3), TestNets.ALONE))
                .isInstanceOf(InvalidMessageException.class);
        // Announcing bumps the version above anything known.
        SignedNetAddress mine = book.announce(CHAIN.keys.get(0), a1);
        assertThat(mine.isNewerThan(v2)).isTrue();
        assertThat(book.newerThan(java.util.Map.of(v2.key(), mine)))
                .extracting(SignedNetAddress::key)
                .doesNotContain(v2.key());
    }

    @Test
    void anAddressBatchIsCheckedTogetherAndItsFirstBadSignatureIsNamed() throws Exception {
        ValidatorAddressBook book = new ValidatorAddressBook(CHAIN.committee());
        Instant t = Instant.ofEpochSecond(1_700_000_000);
        List<SignedNetAddress> batch = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            InetSocketAddress a = new InetSocketAddress(InetAddress.getLoopbackAddress(), 1000 + i);
            batch.add(SignedNetAddress.sign(CHAIN.keys.get(i), a, 1, t));
        }
        SignedNetAddress third = batch.get(2);
        // Its version changed after signing: the signature no longer covers it.
        batch.set(2, new SignedNetAddress(third.key(), third.address(), 2, t, third.signature()));
        assertThatThrownBy(() -> book.update(batch, TestNets.ALONE))
                .isInstanceOf(InvalidMessageException.class)
                .hasMessageContaining(third.key().toString());
        assertThat(book.snapshot())
                .as("those before the bad one")
                .containsOnlyKeys(
                        CHAIN.keys.get(0).publicKey(), CHAIN.keys.get(1).publicKey());
        batch.set(2, third);
        assertThat(book.update(batch, TestNets.ALONE))
                .as("the two not held yet")
                .isEqualTo(2);
        assertThat(book.size()).isEqualTo(4);
    }

    @Test
    void qcCacheVerifiesOnceAndRefusesInvalidQcs() throws Exception {
        CachingQcVerifier qcs = new CachingQcVerifier(2);
        CommitQC qc = CHAIN.commitQc(3, 1, P);
        qcs.verify(qc, CHAIN.epoch);
        qcs.verify(qc, CHAIN.epoch);
        assertThat(qcs.hits()).isEqualTo(1);
        CommitQC weak = CHAIN.commitQc(CHAIN.vote(4, 1, P), 0, 1);
        assertThatThrownBy(() -> qcs.verify(weak, CHAIN.epoch)).isInstanceOf(InvalidMessageException.class);
        CommitQC wrongSigners = new CommitQC(qc.message(), Signers.of(4, 0, 1, 2), qc.signature());
        assertThatThrownBy(() -> qcs.verify(wrongSigners, CHAIN.epoch)).isInstanceOf(InvalidMessageException.class);
        qcs.verify(CHAIN.commitQc(5, 2, P), CHAIN.epoch);
        qcs.verify(CHAIN.commitQc(6, 3, P), CHAIN.epoch);
        assertThat(qcs.size()).isEqualTo(2);
    }

    @Test
    void aWakeEndsABackoffSleep() throws Exception {
        Backoff b = new Backoff(Duration.ofSeconds(30), Duration.ofSeconds(60));
        Thread sleeper = Thread.ofVirtual().start(() -> {
            try {
                b.sleep(); // 15 to 30 s unless woken
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (sleeper.isAlive() && System.nanoTime() < deadline) {
            b.wake(); // again until the sleep has begun: a wake before it has no effect
            sleeper.join(20);
        }
        assertThat(sleeper.isAlive()).as("still sleeping 5 s after the wake").isFalse();
    }

    @Test
    void aNodeAcceptsItsWholeCommitteeAtOnce() {
        TestChain big = new TestChain(100);
        NetworkConfig c =
                TestNets.config(dev.tally.crypto.NodeSecretKey.generate(), big).build();
        // Every validator's consensus connection and a gossip one, without waiting for the rate's refill.
        assertThat(c.acceptRate.burst()).isGreaterThanOrEqualTo(200);
    }
}
