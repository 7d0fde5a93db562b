package dev.tally.network;

import dev.tally.crypto.BlsPublicKey;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;
import java.util.stream.Collectors;

/**
 * A validator's consensus connections, by peer: the one each peer opened to it, and the one its sender to each peer
 * sends on (one it dialled, or the peer's on the duplex endpoint: then one connection carries the pair's messages both
 * ways, docs/adr/0008). Thread-safe: the mesh's senders and acceptors write it, metrics and the debug page read it.
 */
public final class ConsensusLinks {
    /** A consensus connection on {@code endpoint}; {@code dialled} if this validator opened it. */
    record Link(Connection conn, Preface.Endpoint endpoint, boolean dialled) {
        /** Whether the peer's messages arrive on it. */
        boolean receives() {
            return !dialled || endpoint == Preface.Endpoint.CONSENSUS_DUPLEX;
        }
    }

    private final Map<BlsPublicKey, Link> inbound = new ConcurrentHashMap<>();
    private final Map<BlsPublicKey, Link> sending = new ConcurrentHashMap<>();

    /** Records the connection {@code peer} opened, closing an earlier one of its; forgotten once it closes. */
    void accepted(BlsPublicKey peer, Link link) {
        Link old = inbound.put(peer, link);
        if (old != null) {
            old.conn().close("replaced by a new connection from the same validator");
        }
        link.conn().onClose(reason -> inbound.remove(peer, link));
    }

    /** The open connection {@code peer} opened to this validator, if any. */
    Optional<Link> theirs(BlsPublicKey peer) {
        return Optional.ofNullable(inbound.get(peer)).filter(l -> l.conn().isOpen());
    }

    /** Whether {@code peer} has a duplex connection open to this validator (its sender then sends on it). */
    boolean sharesDuplex(BlsPublicKey peer) {
        return theirs(peer)
                .filter(l -> l.endpoint() == Preface.Endpoint.CONSENSUS_DUPLEX)
                .isPresent();
    }

    /** {@code link} is what this validator's sender to {@code peer} sends on now; a dialled one it replaces is closed. */
    void sendingOn(BlsPublicKey peer, Link link) {
        Link old = sending.put(peer, link);
        if (old != null && old.dialled()) {
            old.conn().close("replaced by a new connection");
        }
    }

    /** The sender to {@code peer} stopped sending on {@code link}. */
    void stoppedSendingOn(BlsPublicKey peer, Link link) {
        sending.remove(peer, link);
    }

    /** Closes the connections from validators that {@code member} no longer accepts. */
    void closeFromNonMembers(Predicate<BlsPublicKey> member) {
        for (var e : List.copyOf(inbound.entrySet())) {
            if (!member.test(e.getKey())) {
                e.getValue().conn().close("left the committee");
            }
        }
    }

    void closeAll(String reason) {
        sending.values().forEach(l -> l.conn().close(reason));
        inbound.values().forEach(l -> l.conn().close(reason));
    }

    /** Validators this one has a connection to send its messages on (one it dialled, or theirs). */
    public Set<BlsPublicKey> sendingTo() {
        return Set.copyOf(sending.keySet());
    }

    /** Validators whose messages this one receives, on a connection they opened or on a duplex one it dialled. */
    public Set<BlsPublicKey> receivingFrom() {
        Set<BlsPublicKey> from = new HashSet<>(inbound.keySet());
        from.addAll(sendingWhere(Link::receives));
        return Set.copyOf(from);
    }

    /**
     * Validators this one sends one-way frames to (the stream or duplex endpoint); those of {@link #sendingTo} not in
     * it run a build before one-way frames and take RPCs.
     */
    public Set<BlsPublicKey> sendingOneWay() {
        return sendingWhere(link -> link.endpoint().oneWay());
    }

    /** Validators this one sends to on the connection they opened (one connection for the pair). */
    public Set<BlsPublicKey> sendingOnTheirConnection() {
        return sendingWhere(link -> !link.dialled());
    }

    private Set<BlsPublicKey> sendingWhere(Predicate<Link> p) {
        return sending.entrySet().stream()
                .filter(e -> p.test(e.getValue()))
                .map(Map.Entry::getKey)
                .collect(Collectors.toUnmodifiableSet());
    }

    /** Open consensus connections, each counted once (one per pair of validators where both run this build). */
    public int connections() {
        return inbound.size() + sendingWhere(Link::dialled).size();
    }

    /** Bytes sent and received with a validator, over its current connections (both ways). */
    public Optional<long[]> peerTraffic(BlsPublicKey peer) {
        Link out = sending.get(peer);
        Link in = inbound.get(peer);
        Connection sendingOn = out == null ? null : out.conn();
        return Connection.trafficOf(sendingOn, in == null || in.conn() == sendingOn ? null : in.conn());
    }
}
