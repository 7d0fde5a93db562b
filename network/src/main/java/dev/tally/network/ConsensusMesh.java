package dev.tally.network;

import dev.tally.crypto.BlsPublicKey;
import dev.tally.crypto.BlsSecretKey;
import dev.tally.protocol.ChonkyMessage;
import dev.tally.protocol.Epoch;
import dev.tally.protocol.Signed;
import dev.tally.protocol.ValidatorSchedule;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The consensus network: a full mesh of the committee. This validator keeps an outbound connection to every other
 * validator (address from discovery, else from the static config; reconnecting with backoff) and sends its messages
 * over it; it accepts inbound connections only from committee members (the consensus handshake proves the key) and
 * receives their messages on them. Received messages are checked on the verifier pool (in parallel, never on the
 * replica's thread) and delivered to the {@link ConsensusInbox}. This validator's own messages reach its inbox
 * directly.
 *
 * <p>Messages travel as one-way frames on the consensus stream endpoint; with a validator whose build predates it
 * (it closes such a connection unanswered), as RPCs acknowledged once taken, on the consensus endpoint
 * (docs/adr/0006-consensus-messages-as-one-way-frames.md). Both are served.
 */
public final class ConsensusMesh implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ConsensusMesh.class);
    static final Duration POLL = Duration.ofMillis(250);
    /** How often a public address given by a host name that does not resolve yet is tried again. */
    private static final Duration RESOLVE_RETRY = Duration.ofSeconds(1);
    /** Outbound connections in set-up (connect and handshakes) at once; see {@link #dial}. */
    static final int MAX_DIALS = 8;

    private final NetworkConfig config;
    private final BlsSecretKey key;
    private volatile Epoch epoch;
    private final ValidatorAddressBook book;
    private final ConsensusInbox inbox;
    private final Traffic traffic = new Traffic();
    private final OutgoingConsensusPool pool = new OutgoingConsensusPool();
    private final Map<BlsPublicKey, Connection> inbound = new ConcurrentHashMap<>();
    private final Map<BlsPublicKey, Outbound> outbound = new ConcurrentHashMap<>();

    /** A sending connection; {@code oneWay} on the stream endpoint, else on the RPC one of earlier builds. */
    private record Outbound(Connection conn, boolean oneWay) {}

    private final List<Thread> threads = new ArrayList<>();
    /** The reconnect backoff of each validator's sender, woken when that validator connects to this one. */
    private final Map<BlsPublicKey, Backoff> backoffs = new ConcurrentHashMap<>();
    /** The sender thread of each validator this one keeps an outbound connection to; guarded by this. */
    private final Map<BlsPublicKey, Thread> senders = new java.util.HashMap<>();
    /** Checks received messages and hands them to the inbox. */
    private final ConsensusReceiver receiver;
    /** Checks the signatures of handshakes and messages, together when they come at once. */
    private final SignatureCheck signatures;

    /** Dials in progress; fair, so senders dial in the order they asked (see {@link #dialOrder}). */
    private final Semaphore dials = new Semaphore(MAX_DIALS, true);

    private volatile boolean closed;

    ConsensusMesh(NetworkConfig config, ValidatorAddressBook book, ConsensusInbox inbox, CachingQcVerifier qcs) {
        this(config, book, inbox, qcs, SignatureBatcher.shared(config.verifierThreads));
    }

    /** With the given check of handshakes' and messages' signatures: tests hold or count the checks with it. */
    ConsensusMesh(
            NetworkConfig config,
            ValidatorAddressBook book,
            ConsensusInbox inbox,
            CachingQcVerifier qcs,
            SignatureCheck signatures) {
        this.config = config;
        this.key = config.validatorKey.orElseThrow(
                () -> new IllegalArgumentException("the consensus mesh needs a validator key"));
        this.epoch = config.epoch;
        this.book = book;
        this.inbox = inbox;
        this.signatures = signatures;
        this.receiver = new ConsensusReceiver(inbox, qcs, signatures, () -> epoch, () -> closed);
    }

    /** Starts maintaining a connection to every other validator of the committee and announces our address. */
    void start(InetSocketAddress publicAddress) {
        startSenders();
        threads.add(Thread.ofVirtual().name("consensus-announce").start(() -> {
            try {
                announce(publicAddress);
            } catch (InterruptedException e) {
                // closing
            }
        }));
    }

    /**
     * Announces {@code publicAddress} now and every announce interval. A host name is resolved at each announcement;
     * while it does not resolve (a pod's DNS name appears a moment after the pod starts) it is retried every second.
     */
    private void announce(InetSocketAddress publicAddress) throws InterruptedException {
        boolean warned = false;
        while (!closed) {
            InetSocketAddress resolved;
            try {
                resolved = Preface.resolve(publicAddress);
            } catch (UnknownHostException e) {
                if (!warned) {
                    log.warn("public address {}: {}; announcing it once it does", publicAddress, e.getMessage());
                    warned = true;
                }
                Thread.sleep(RESOLVE_RETRY);
                continue;
            }
            warned = false;
            book.announce(key, resolved);
            Thread.sleep(config.announceInterval);
        }
    }

    /**
     * Moves the mesh to the committee of {@code next}: connects to its new members, drops the links to validators
     * that left, and from now on verifies messages against {@code next} (those of other epochs are dropped).
     */
    synchronized void switchEpoch(Epoch next) {
        Epoch old = epoch;
        epoch = next;
        log.info(
                "consensus: epoch {} -> {} ({} validators from block {})",
                old.number(),
                next.number(),
                next.committee().size(),
                next.firstBlock());
        startSenders();
        receiver.switchedEpoch();
        for (var e : List.copyOf(inbound.entrySet())) {
            if (!book.isMember(e.getKey())) {
                e.getValue().close("left the committee");
            }
        }
    }

    /** The epoch whose messages this mesh carries. */
    public Epoch epoch() {
        return epoch;
    }

    /** Starts a sender for every other member of the committee that has none, if this validator is a member. */
    private synchronized void startSenders() {
        ValidatorSchedule committee = epoch.committee();
        if (!committee.contains(key.publicKey())) {
            log.info(
                    "validator {} is not in the committee of epoch {}: it sends nothing",
                    key.publicKey(),
                    epoch.number());
            return;
        }
        for (BlsPublicKey peer : dialOrder(committee, key.publicKey())) {
            if (!senders.containsKey(peer) && !closed) {
                senders.put(
                        peer, Thread.ofVirtual().name("consensus-out " + peer).start(() -> maintain(peer)));
            }
        }
    }

    /**
     * The other members of {@code committee} in the order {@code self} first dials them: starting after itself and
     * wrapping around. When a whole committee starts at once, each validator is then dialled by a few peers at a time
     * instead of by all of them first (which overran its accept rate and timed their handshakes out).
     */
    static List<BlsPublicKey> dialOrder(ValidatorSchedule committee, BlsPublicKey self) {
        List<BlsPublicKey> members =
                committee.validators().stream().map(v -> v.key()).toList();
        int at = members.indexOf(self);
        List<BlsPublicKey> order = new ArrayList<>(members.size());
        for (int i = 1; i <= members.size(); i++) {
            BlsPublicKey peer = members.get(Math.floorMod(at + i, members.size()));
            if (!peer.equals(self)) {
                order.add(peer);
            }
        }
        return order;
    }

    /** Whether the sender of {@code peer} goes on; if not, it is unregistered (atomically with the check). */
    private synchronized boolean keepSending(BlsPublicKey peer) {
        ValidatorSchedule committee = epoch.committee();
        if (!closed && committee.contains(peer) && committee.contains(key.publicKey())) {
            return true;
        }
        senders.remove(peer);
        return false;
    }

    /** Sends a message to every validator of the committee, this one included. Never blocks on the network. */
    public void broadcast(Signed<? extends ChonkyMessage> message) {
        pool.put(message);
        inbox.offerLocal(message);
    }

    /** Bytes sent and received on the consensus endpoint, over all connections. */
    public Traffic traffic() {
        return traffic;
    }

    /** Bytes sent and received with a validator, over its current connections (both ways). */
    public Optional<long[]> peerTraffic(BlsPublicKey peer) {
        Outbound out = outbound.get(peer);
        return Connection.trafficOf(out == null ? null : out.conn(), inbound.get(peer));
    }

    public ConsensusInbox inbox() {
        return inbox;
    }

    /** Validators with an open outbound (sending) connection. */
    public java.util.Set<BlsPublicKey> connectedOutbound() {
        return java.util.Set.copyOf(outbound.keySet());
    }

    /**
     * Validators this one sends one-way frames to (the consensus stream endpoint); those of {@link #connectedOutbound}
     * not in it run a build before that endpoint and take RPCs.
     */
    public java.util.Set<BlsPublicKey> sendingOneWay() {
        return outbound.entrySet().stream()
                .filter(e -> e.getValue().oneWay())
                .map(Map.Entry::getKey)
                .collect(java.util.stream.Collectors.toUnmodifiableSet());
    }

    /** Validators with an open inbound (receiving) connection. */
    public java.util.Set<BlsPublicKey> connectedInbound() {
        return java.util.Set.copyOf(inbound.keySet());
    }

    /** Closes the connections to and from a validator (they are re-established); for tests and operators. */
    public void disconnect(BlsPublicKey peer) {
        Optional.ofNullable(outbound.get(peer)).ifPresent(o -> o.conn().close("disconnected locally"));
        Optional.ofNullable(inbound.get(peer)).ifPresent(c -> c.close("disconnected locally"));
    }

    private InetSocketAddress addressOf(BlsPublicKey peer) {
        return book.get(peer).map(SignedNetAddress::address).orElse(config.validatorAddresses.get(peer));
    }

    private void maintain(BlsPublicKey peer) {
        Backoff backoff = new Backoff(config.reconnectMin, config.reconnectMax);
        backoffs.put(peer, backoff);
        try {
            while (keepSending(peer)) {
                long since = book.changes(); // before the look: an address learnt meanwhile ends the wait at once
                InetSocketAddress addr = addressOf(peer);
                if (addr == null) {
                    book.awaitChange(since, Duration.ofSeconds(1));
                    continue;
                }
                long started = System.nanoTime();
                try {
                    runOutbound(peer, addr);
                } catch (IOException e) {
                    log.info("consensus connection to {} at {}: {}", peer, addr, e.getMessage());
                }
                if (Duration.ofNanos(System.nanoTime() - started).compareTo(Duration.ofSeconds(10)) > 0) {
                    backoff.reset();
                }
                if (!closed) {
                    backoff.sleep();
                }
            }
        } catch (InterruptedException e) {
            // closing
        } finally {
            backoffs.remove(peer, backoff);
            synchronized (this) {
                senders.remove(peer, Thread.currentThread());
            }
        }
    }

    private void runOutbound(BlsPublicKey peer, InetSocketAddress addr) throws IOException, InterruptedException {
        Dialled dialled = dial(peer, addr);
        NoiseStream stream = dialled.stream();
        Connection conn = new Connection(
                        "consensus-out " + peer + " @" + addr,
                        stream,
                        config.rpc,
                        Map.of(),
                        config.ping.orElse(null),
                        config.ping.orElse(null))
                .countInto(traffic)
                .start();
        Outbound link = new Outbound(conn, dialled.oneWay());
        Outbound old = outbound.put(peer, link);
        if (old != null) {
            old.conn().close("replaced by a new connection");
        }
        log.info("consensus: connected to {} at {}{}", peer, addr, dialled.oneWay() ? "" : " (consensus RPC endpoint)");
        try {
            if (dialled.oneWay()) {
                sendMessages(peer, conn);
            } else {
                callWithMessages(peer, conn);
            }
        } finally {
            conn.close("consensus sender stopped");
            outbound.remove(peer, link);
        }
    }

    /**
     * Sends the pool's messages as one-way frames while the connection is open: at most {@link Rpc#inflight()} wait in
     * its write queue, so what the pool replaces meanwhile is never sent.
     */
    private void sendMessages(BlsPublicKey peer, Connection conn) throws IOException, InterruptedException {
        long[] cursor = OutgoingConsensusPool.newCursor();
        while (conn.isOpen() && !closed && epoch.committee().contains(peer)) {
            OutgoingConsensusPool.Outgoing m = nextReserved(conn, cursor);
            if (m == null) {
                continue;
            }
            ChonkyMessage sent = m.message().message();
            ConsensusMessageEvent event = ConsensusMessageEvent.sending(
                    peer, sent.getClass(), sent.view().number());
            conn.sendReserved(Rpc.CONSENSUS, m.request(), () -> ConsensusMessageEvent.end(event, "written"));
        }
    }

    /** Sends the pool's messages as RPCs, each on its own thread until acknowledged, three at a time. */
    private void callWithMessages(BlsPublicKey peer, Connection conn) throws InterruptedException {
        long[] cursor = OutgoingConsensusPool.newCursor();
        while (conn.isOpen() && !closed && epoch.committee().contains(peer)) {
            OutgoingConsensusPool.Outgoing m = nextReserved(conn, cursor);
            if (m == null) {
                continue;
            }
            byte[] req = m.request();
            ChonkyMessage sent = m.message().message();
            Thread.ofVirtual().name("consensus-send " + peer).start(() -> {
                ConsensusMessageEvent event = ConsensusMessageEvent.sending(
                        peer, sent.getClass(), sent.view().number());
                String outcome = "failed";
                try {
                    conn.callReserved(Rpc.CONSENSUS, req, null);
                    outcome = "acknowledged";
                } catch (IOException e) {
                    log.debug("consensus send to {} failed: {}", peer, e.getMessage());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } finally {
                    conn.release(Rpc.CONSENSUS);
                    ConsensusMessageEvent.end(event, outcome);
                }
            });
        }
    }

    /**
     * The pool's next message for {@code conn}, with an in-flight slot held for it; null (and no slot held) when no
     * slot came free within {@link #POLL} (a slow peer, or a connection that died with messages in flight) or the
     * connection or the mesh closed.
     */
    private OutgoingConsensusPool.Outgoing nextReserved(Connection conn, long[] cursor) throws InterruptedException {
        if (!conn.reserve(Rpc.CONSENSUS, POLL)) {
            return null;
        }
        OutgoingConsensusPool.Outgoing m = null;
        try {
            while (m == null && conn.isOpen() && !closed) {
                m = pool.next(cursor, POLL);
            }
        } finally {
            if (m == null) {
                conn.release(Rpc.CONSENSUS);
            }
        }
        return m;
    }

    /**
     * Connects and runs the handshakes, at most {@link #MAX_DIALS} at a time: a node's 99 senders starting at once
     * (n = 100) ran their handshakes, each a few milliseconds of CPU, concurrently on a busy machine, so most took longer
     * than the handshake timeout, failed, and backed off: 40 of 99 peers connected after two minutes.
     */
    private Dialled dial(BlsPublicKey peer, InetSocketAddress addr) throws IOException, InterruptedException {
        dials.acquire();
        try {
            if (!config.consensusRpcOnly) {
                // A peer that cannot be reached fails here, with no second try on the other endpoint.
                NoiseStream stream = Preface.connect(addr, Preface.Endpoint.CONSENSUS_STREAM, Preface.TIMEOUT);
                try {
                    return new Dialled(handshake(stream, peer), true);
                } catch (EOFException | SocketException e) {
                    // A build before the stream endpoint refuses its unknown name by closing: speak its endpoint.
                    log.info(
                            "consensus: {} at {} closed the connection unanswered on the stream endpoint ({}): trying"
                                    + " the consensus RPC endpoint of earlier builds",
                            peer,
                            addr,
                            e.getMessage());
                }
            }
            return new Dialled(
                    handshake(Preface.connect(addr, Preface.Endpoint.CONSENSUS, Preface.TIMEOUT), peer), false);
        } finally {
            dials.release();
        }
    }

    /** A connection whose handshakes are done; {@code oneWay} if on the consensus stream endpoint. */
    private record Dialled(NoiseStream stream, boolean oneWay) {}

    /**
     * Runs the consensus handshake on a connection whose preface is done, closing it on failure; an EOF or a reset
     * means the peer closed it before answering ours.
     */
    private NoiseStream handshake(NoiseStream stream, BlsPublicKey peer) throws IOException {
        try {
            Handshake.consensusOutbound(stream, key, epoch.genesis(), peer, signatures);
            stream.socket().setSoTimeout(0);
        } catch (IOException e) {
            stream.close();
            throw e;
        }
        return stream;
    }

    /**
     * Serves an inbound consensus connection whose preface is done: on the stream endpoint ({@code oneWay}) its
     * messages are one-way frames, else RPCs.
     */
    void acceptInbound(NoiseStream stream, String remote, boolean oneWay) throws IOException {
        // Members of the next committee too: a validator that switched epochs a moment before this one connects early.
        BlsPublicKey peer = Handshake.consensusInbound(stream, key, epoch.genesis(), book::isMember, signatures);
        stream.socket().setSoTimeout(0);
        Connection[] self = new Connection[1];
        Connection conn = new Connection(
                        "consensus-in " + peer + " @" + remote,
                        stream,
                        config.rpc,
                        oneWay ? Map.of() : Map.of(Rpc.CONSENSUS, req -> receiver.handle(peer, req, self[0])),
                        config.ping.orElse(null),
                        config.ping.orElse(null))
                .countInto(traffic);
        if (oneWay) {
            conn.serveMessages(Rpc.CONSENSUS, message -> receiver.receive(peer, message));
        }
        self[0] = conn;
        Connection old = inbound.put(peer, conn);
        if (old != null) {
            old.close("replaced by a new connection from the same validator");
        }
        conn.onClose(reason -> inbound.remove(peer, conn));
        conn.start();
        // It is up: if our connection to it waits out a backoff (it was not listening yet), try again now.
        Backoff backoff = backoffs.get(peer);
        if (backoff != null) {
            backoff.wake();
        }
    }

    /**
     * Signatures of handshakes and messages checked so far (0 if unbatched): by this process's batcher, which the nodes
     * of an in-process network share.
     */
    public long signaturesChecked() {
        return signatures instanceof SignatureBatcher b ? b.checked() : 0;
    }

    /** The batches {@link #signaturesChecked} were checked in: their ratio is the mean batch size. */
    public long signatureBatches() {
        return signatures instanceof SignatureBatcher b ? b.batches() : 0;
    }

    /** Copies of a peer's last timeout or new-view message taken without a second verification. */
    public long resentUnverified() {
        return receiver.resentUnverified();
    }

    /** The receiving side, for tests that hand it messages directly. */
    ConsensusReceiver receiver() {
        return receiver;
    }

    @Override
    public void close() {
        closed = true;
        threads.forEach(Thread::interrupt);
        synchronized (this) {
            senders.values().forEach(Thread::interrupt);
        }
        outbound.values().forEach(o -> o.conn().close("shutting down"));
        inbound.values().forEach(c -> c.close("shutting down"));
    }
}
