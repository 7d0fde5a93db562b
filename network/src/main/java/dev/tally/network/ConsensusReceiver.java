package dev.tally.network;

import dev.tally.crypto.BlsPublicKey;
import dev.tally.network.proto.Net;
import dev.tally.protocol.ChonkyMessage;
import dev.tally.protocol.Codec;
import dev.tally.protocol.CommitQC;
import dev.tally.protocol.Epoch;
import dev.tally.protocol.InvalidMessageException;
import dev.tally.protocol.LeaderProposal;
import dev.tally.protocol.ReplicaCommit;
import dev.tally.protocol.ReplicaNewView;
import dev.tally.protocol.ReplicaTimeout;
import dev.tally.protocol.Signed;
import dev.tally.protocol.ValidatorSchedule;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The receiving side of the {@link ConsensusMesh}: a peer's consensus message parsed, dropped if of another epoch or
 * stale for the replica, verified on the thread that read it (its signature in one batch with those that other
 * peers' messages bring at the same moment: {@link SignatureBatcher}) and offered to the {@link ConsensusInbox}.
 * Messages come as one-way frames ({@link #receive}) or, from builds before those, as RPCs answered once the replica
 * took them ({@link #handle}).
 */
final class ConsensusReceiver {
    private static final Logger log = LoggerFactory.getLogger(ConsensusReceiver.class);
    /** How long a message of the next epoch waits for this node to switch to it. */
    private static final Duration EPOCH_WAIT = Duration.ofSeconds(2);
    /** The answer to every consensus RPC (empty, so never changed), sent once the message is taken or dropped. */
    private static final byte[] ACK = Net.ConsensusResp.getDefaultInstance().toByteArray();

    private final ConsensusInbox inbox;
    private final CachingQcVerifier qcs;
    private final SignatureCheck signatures;
    private final Supplier<Epoch> epoch;
    private final BooleanSupplier closed;
    /** The last timeout and new-view message verified from each validator (see {@link #checked}). */
    private final Map<ResendKey, Verified> lastVerified = new ConcurrentHashMap<>();

    private final LongAdder resentUnverified = new LongAdder();

    private record ResendKey(BlsPublicKey peer, Class<?> kind) {}

    /** Its bytes name its epoch, checked against this node's before the look-up: equal bytes, same epoch. */
    private record Verified(byte[] bytes, Signed<ChonkyMessage> message) {}

    /** {@code epoch} is the mesh's current epoch, {@code closed} whether the mesh closed. */
    ConsensusReceiver(
            ConsensusInbox inbox,
            CachingQcVerifier qcs,
            SignatureCheck signatures,
            Supplier<Epoch> epoch,
            BooleanSupplier closed) {
        this.inbox = inbox;
        this.qcs = qcs;
        this.signatures = signatures;
        this.epoch = epoch;
        this.closed = closed;
    }

    /** Forgets the messages verified in the epoch the mesh left. */
    void switchedEpoch() {
        lastVerified.clear();
    }

    /** Serves one consensus-message RPC from {@code peer} (on {@code conn}, null in tests): checks, delivers, acks. */
    byte[] handle(BlsPublicKey peer, byte[] request, Connection conn) throws Exception {
        ConsensusMessageEvent event = ConsensusMessageEvent.receiving(peer);
        String outcome = "refused"; // malformed or invalid: the exception closes the connection
        try {
            outcome = deliver(peer, request, conn, event, true);
            return ACK;
        } finally {
            ConsensusMessageEvent.end(event, outcome);
        }
    }

    /**
     * Takes one consensus message from {@code peer}'s stream connection, on its reader: checks it and hands it to the
     * replica's inbox without waiting for the replica (the inbox's slots bound what waits there; ADR 0006).
     */
    void receive(BlsPublicKey peer, byte[] message) throws Exception {
        ConsensusMessageEvent event = ConsensusMessageEvent.receiving(peer);
        String outcome = "refused"; // malformed or invalid: the exception closes the connection
        try {
            outcome = deliver(peer, message, null, event, false);
        } finally {
            ConsensusMessageEvent.end(event, outcome);
        }
    }

    /**
     * Checks a peer's message and hands it to the replica, then, if {@code awaitTaken}, waits until the replica took it
     * (or the connection {@code conn}, if not null, closed); returns what became of it (for the flight recorder).
     */
    private String deliver(
            BlsPublicKey peer, byte[] request, Connection conn, ConsensusMessageEvent event, boolean awaitTaken)
            throws Exception {
        Net.ConsensusReq req = NetCodec.parse(Net.ConsensusReq.parser(), request, "ConsensusReq");
        NetCodec.require(req.hasMsg(), "ConsensusReq.msg");
        byte[] signedBytes = req.getMsg().toByteArray();
        Codec.ParsedSigned parsed = Codec.parseSigned(signedBytes);
        if (event != null) {
            event.about(parsed.kind(), parsed.view().number());
        }
        long msgEpoch = parsed.view().epoch();
        // A message of the next epoch may come from a validator that switched a moment earlier: wait a little.
        long deadline = System.nanoTime() + EPOCH_WAIT.toNanos();
        while (msgEpoch > epoch.get().number() && System.nanoTime() < deadline && !closed.getAsBoolean()) {
            Thread.sleep(20);
        }
        Epoch current = epoch.get();
        if (msgEpoch != current.number()) {
            // Another epoch's message is stale (or early), not a fault of the peer: drop it, keep the connection.
            log.debug(
                    "dropped a message of epoch {} from {}: this node is in epoch {}",
                    msgEpoch,
                    peer,
                    current.number());
            return "other epoch";
        }
        // Stale for the replica (an old view, or a new-view message it does not act on): skip decoding its points
        // where its kind, view and author tell, and the pairings in any case.
        if (inbox.ignoredByReplica(parsed.kind(), parsed.view(), parsed.author())) {
            return "ignored";
        }
        CompletableFuture<Void> consumed;
        // The replica acts on one new-view message per view: the others of its view wait for that one (NewViewGate).
        try (NewViewGate.Turn turn = parsed.kind() == ReplicaNewView.class
                ? inbox.newViews().enter(parsed.view(), ConsensusMesh.POLL)
                : NewViewGate.none()) {
            if (turn.waited() && inbox.ignoredByReplica(parsed.kind(), parsed.view(), parsed.author())) {
                return "ignored";
            }
            Signed<ChonkyMessage> m = checked(peer, parsed, signedBytes, current);
            if (m == null) {
                return "ignored";
            }
            consumed = inbox.offer(m);
            turn.delivered();
            tally(m, current);
        }
        if (!awaitTaken) {
            return "offered";
        }
        // Back-pressure: acknowledge once the replica took it (or something newer replaced it).
        while (!ConsensusInbox.await(consumed, ConsensusMesh.POLL)) {
            if (conn != null && !conn.isOpen()) {
                return "connection closed";
            }
        }
        return "delivered";
    }

    /**
     * The message decoded and verified, or null if the replica would ignore it. A timeout or new-view message that is
     * a byte-for-byte copy of the last one verified from the same peer (so of the same epoch) is not verified again: a
     * replica re-sends both unchanged at every expiry of its view's timer, and again after a reconnect (at n = 100
     * while connections come up, each expiry brought every validator 99 of each to verify again).
     */
    private Signed<ChonkyMessage> checked(BlsPublicKey peer, Codec.ParsedSigned parsed, byte[] bytes, Epoch current)
            throws Exception {
        ResendKey key = new ResendKey(peer, parsed.kind());
        Verified last = lastVerified.get(key);
        if (last != null && Arrays.equals(last.bytes(), bytes)) {
            resentUnverified.increment();
            return inbox.ignoredByReplica(last.message()) ? null : last.message();
        }
        Signed<ChonkyMessage> m = parsed.decode();
        if (inbox.ignoredByReplica(m)) {
            return null;
        }
        verify(m, peer, current, qcs, signatures);
        if (m.message() instanceof ReplicaTimeout || m.message() instanceof ReplicaNewView) {
            lastVerified.put(key, new Verified(bytes, m));
        }
        return m;
    }

    /**
     * Counts a commit vote that went to the replica towards its view's quorum, for the {@link NewViewGate} (the
     * replica's own vote too: it counts in the QC the replica makes).
     */
    void tally(Signed<? extends ChonkyMessage> m, Epoch current) {
        if (m.message() instanceof ReplicaCommit) {
            ValidatorSchedule committee = current.committee();
            committee
                    .indexOf(m.key())
                    .ifPresent(i -> inbox.newViews()
                            .commitVote(
                                    m.message().view(),
                                    m.key(),
                                    committee.get(i).weight(),
                                    committee.quorumThreshold()));
        }
    }

    /** Copies of a peer's last timeout or new-view message taken without a second verification. */
    long resentUnverified() {
        return resentUnverified.sum();
    }

    /**
     * Everything that can be checked about a consensus message without the replica's state: it was signed by the
     * peer that sent it (validators send only their own messages), for this chain and epoch, by a committee member
     * (and for a proposal, by the view's leader), the signature is valid (but for votes: see below), and so are its
     * justification and QCs.
     */
    static void verify(
            Signed<ChonkyMessage> m, BlsPublicKey sender, Epoch epoch, CachingQcVerifier qcs, SignatureCheck signatures)
            throws InvalidMessageException, InterruptedException {
        if (!m.key().equals(sender)) {
            throw new InvalidMessageException("message signed by " + m.key() + " was sent by " + sender);
        }
        ChonkyMessage msg = m.message();
        msg.view().verify(epoch);
        if (msg instanceof LeaderProposal
                && !epoch.committee().leader(msg.view().number()).equals(m.key())) {
            throw new InvalidMessageException(
                    "proposal for " + msg.view() + " from " + m.key() + ", who does not lead it");
        }
        m.verifyMember(epoch);
        // The replica checks votes' signatures (commit and timeout) together, as the QC a quorum of them makes: one
        // pairing check per view instead of one per vote. The signer is the authenticated peer, so a bad one is its
        // own.
        if (!msg.isVote()) {
            InvalidMessageException.check(
                    signatures.valid(m.signature(), m.message().hash().keccak().bytes(), m.key()),
                    "bad signature on " + msg.getClass().getSimpleName() + " from " + m.key());
        }
        switch (msg) {
            // A replica holding a QC for the same vote as the proposal's takes its own instead
            // (Replica.withOwnCommitQc),
            // so that one's aggregate signature goes unchecked; the replica checks it if it does not hold such a QC.
            case LeaderProposal p ->
                p.verify(epoch, (qc, e) -> {
                    if (qc instanceof CommitQC c && qcs.certifies(c.message())) {
                        c.verifyQuorum(e);
                    } else {
                        qcs.verify(qc, e);
                    }
                });
            case ReplicaCommit c -> c.verify(epoch);
            case ReplicaTimeout t -> t.verify(epoch, qcs);
            case ReplicaNewView n -> n.verify(epoch, qcs);
        }
    }
}
