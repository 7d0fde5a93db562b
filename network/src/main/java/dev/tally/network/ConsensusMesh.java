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
 * The consensus network: a full mesh of the committee, one connection per pair of validators. Of each pair, one
 * dials (address from discovery, else from the static config; reconnecting with backoff) and both send their
 * messages over that connection as one-way frames (the duplex endpoint); the other waits a grace period for it before
 * dialling too (docs/adr/0008-one-consensus-connection-per-pair.md). Inbound connections are accepted only from
 * committee members (the consensus handshake proves the key). Received messages are checked (never on the replica's
 * thread) and delivered to the {@link ConsensusInbox}. This validator's own messages reach its inbox directly.
 *
 * <p>With a validator whose build predates the duplex endpoint (it closes such a connection unanswered) each side
 * sends on a connection of its own, on the stream endpoint (one-way frames, docs/adr/0006), or with builds before
 * that as RPCs acknowledged once taken, on the consensus endpoint. All three are served.
 */
public final class ConsensusMesh implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ConsensusMesh.class);
    static final Duration POLL = Duration.ofMillis(250);
    /** How often a public address given by a host name that does not resolve yet is tried again. */
    private static final Duration RESOLVE_RETRY = Duration.ofSeconds(1);
    /** Outbound connections in set-up (connect and handshakes) at once; see {@link #dial}. */
    static final int MAX_DIALS = 8;
    /** The consensus endpoints, newest first: a dialler falls back along them (see {@link #dial}). */
    private static final List<Preface.Endpoint> ENDPOINTS =
            List.of(Preface.Endpoint.CONSENSUS_DUPLEX, Preface.Endpoint.CONSENSUS_STREAM, Preface.Endpoint.CONSENSUS);

    private final NetworkConfig config;
    private final BlsSecretKey key;
    private volatile Epoch epoch;
    private final ValidatorAddressBook book;
    private final ConsensusInbox inbox;
    private final Traffic traffic = new Traffic();
    private final OutgoingConsensusPool pool = new OutgoingConsensusPool();
    private final ConsensusLinks links = new ConsensusLinks();

    private final List<Thread> threads = new ArrayList<>();
    /** The reconnect backoff of each validator's sender, woken when that validator connects to this one. */
    private final Map<BlsPublicKey, Backoff> backoffs = new ConcurrentHashMap<>();
    /** The sender thread of each other validator of the committee; guarded by this. */
    private final Map<BlsPublicKey, Thread> senders = new java.util.HashMap<>();
    /** Checks received messages and hands them to the inbox. */
    private final ConsensusReceiver receiver;
    /** Checks the signatures of handshakes and messages, together when they come at once. */
    private final SignatureCheck signatures;

    /** Dials in progress; fair, so senders dial in the order they asked (see {@link DialOrder#dialOrder}). */
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
        // A validator that announces itself anew has (re)started: the sender waiting out a backoff for it dials now.
        book.addListener(a -> wake(a.key()));
    }

    private void wake(BlsPublicKey peer) {
        Backoff backoff = backoffs.get(peer);
        if (backoff != null) {
            backoff.wake();
        }
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
        links.closeFromNonMembers(book::isMember);
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
        for (BlsPublicKey peer : DialOrder.dialOrder(committee, key.publicKey())) {
            if (!senders.containsKey(peer) && !closed) {
                senders.put(
                        peer, Thread.ofVirtual().name("consensus-out " + peer).start(() -> maintain(peer)));
            }
        }
    }

    /**
     * How long the validator of a pair that does not dial first waits for the other's connection before dialling one
     * itself (the other may be unable to reach it, or slow): longer than the other's reconnect backoff and handshake,
     * so that in a committee starting or a validator restarting the other's connection comes first.
     */
    private Duration dialGrace() {
        return config.reconnectMax.plus(Preface.TIMEOUT);
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
        receiver.tally(message, epoch);
    }

    /** Bytes sent and received on the consensus endpoint, over all connections. */
    public Traffic traffic() {
        return traffic;
    }

    public ConsensusInbox inbox() {
        return inbox;
    }

    /** This validator's connections to the others. */
    public ConsensusLinks links() {
        return links;
    }

    private InetSocketAddress addressOf(BlsPublicKey peer) {
        return book.get(peer).map(SignedNetAddress::address).orElse(config.validatorAddresses.get(peer));
    }

    /**
     * Keeps a connection to send to {@code peer} on: the peer's duplex connection while it is open, else one dialled
     * (at once if this validator dials first, else after {@link #dialGrace} without the peer's).
     */
    private void maintain(BlsPublicKey peer) {
        Backoff backoff = new Backoff(config.reconnectMin, config.reconnectMax);
        backoffs.put(peer, backoff);
        try {
            long waitingSince = System.nanoTime();
            while (keepSending(peer)) {
                long wakes = backoff.wakes(); // before the look: a connection arriving meanwhile ends the wait at once
                long since = book.changes();
                Optional<ConsensusLinks.Link> theirs = links.theirs(peer);
                if (theirs.isPresent() && theirs.get().endpoint() == Preface.Endpoint.CONSENSUS_DUPLEX) {
                    try {
                        send(peer, theirs.get());
                    } catch (IOException e) {
                        if (!closed) {
                            log.info("consensus: sending to {} on its connection: {}", peer, e.getMessage());
                        }
                    }
                    waitingSince = System.nanoTime();
                    continue;
                }
                Duration waited = Duration.ofNanos(System.nanoTime() - waitingSince);
                // With a connection from the peer on an earlier endpoint, its build dials its own and shares none.
                if (theirs.isEmpty()
                        && !DialOrder.dialsFirst(epoch.committee(), key.publicKey(), peer)
                        && waited.compareTo(dialGrace()) < 0) {
                    backoff.awaitWake(wakes, dialGrace().minus(waited));
                    continue;
                }
                InetSocketAddress addr = addressOf(peer);
                if (addr == null) {
                    book.awaitChange(since, Duration.ofSeconds(1));
                    continue;
                }
                long started = System.nanoTime();
                try {
                    if (runOutbound(peer, addr)) {
                        waitingSince = System.nanoTime();
                    }
                } catch (IOException e) {
                    log.info("consensus connection to {} at {}: {}", peer, addr, e.getMessage());
                }
                if (Duration.ofNanos(System.nanoTime() - started).compareTo(Duration.ofSeconds(10)) > 0) {
                    backoff.reset();
                }
                if (!closed && !links.sharesDuplex(peer)) {
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

    /**
     * Dials {@code peer} and sends on the connection until it closes; false if the peer's duplex connection came
     * while waiting to dial (nothing dialled then).
     */
    private boolean runOutbound(BlsPublicKey peer, InetSocketAddress addr) throws IOException, InterruptedException {
        Optional<Dialled> dialled = dial(peer, addr);
        if (dialled.isEmpty()) {
            return false;
        }
        Preface.Endpoint endpoint = dialled.get().endpoint();
        Connection conn = new Connection(
                        "consensus-out " + peer + " @" + addr,
                        dialled.get().stream(),
                        config.rpc,
                        Map.of(),
                        config.ping.orElse(null),
                        config.ping.orElse(null))
                .countInto(traffic);
        if (endpoint == Preface.Endpoint.CONSENSUS_DUPLEX) {
            conn.serveMessages(Rpc.CONSENSUS, message -> receiver.receive(peer, message));
        }
        conn.start();
        log.info(
                "consensus: connected to {} at {}{}",
                peer,
                addr,
                endpoint == Preface.Endpoint.CONSENSUS_DUPLEX ? "" : " (" + endpoint + " of earlier builds)");
        try {
            send(peer, new ConsensusLinks.Link(conn, endpoint, true));
        } finally {
            conn.close("consensus sender stopped");
        }
        return true;
    }

    /** Sends the pool's messages to {@code peer} on {@code link} while it is open. */
    private void send(BlsPublicKey peer, ConsensusLinks.Link link) throws IOException, InterruptedException {
        links.sendingOn(peer, link);
        if (!link.dialled()) {
            log.info("consensus: sending to {} on its connection", peer);
        }
        try {
            if (link.endpoint().oneWay()) {
                sendMessages(peer, link.conn());
            } else {
                callWithMessages(peer, link.conn());
            }
        } finally {
            links.stoppedSendingOn(peer, link);
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
     * than the handshake timeout, failed, and backed off: 40 of 99 peers connected after two minutes. Empty if the
     * peer's duplex connection arrived while waiting for a turn.
     */
    private Optional<Dialled> dial(BlsPublicKey peer, InetSocketAddress addr) throws IOException, InterruptedException {
        dials.acquire();
        try {
            if (links.sharesDuplex(peer)) {
                return Optional.empty();
            }
            List<Preface.Endpoint> endpoints = ENDPOINTS.stream()
                    .filter(e -> e.compareTo(config.newestConsensusEndpoint) <= 0)
                    .toList();
            for (int i = 0; ; i++) {
                Preface.Endpoint endpoint = endpoints.get(i);
                // A peer that cannot be reached fails here, with no second try on another endpoint.
                NoiseStream stream = Preface.connect(addr, endpoint, Preface.TIMEOUT);
                try {
                    return Optional.of(new Dialled(handshake(stream, peer), endpoint));
                } catch (EOFException | SocketException e) {
                    if (i + 1 == endpoints.size()) {
                        throw e;
                    }
                    // A build before this endpoint refuses its unknown name by closing: speak the one before it.
                    log.info(
                            "consensus: {} at {} closed the connection unanswered on the {} endpoint ({}): trying the"
                                    + " {} endpoint of earlier builds",
                            peer,
                            addr,
                            endpoint,
                            e.getMessage(),
                            endpoints.get(i + 1));
                }
            }
        } finally {
            dials.release();
        }
    }

    /** A connection whose handshakes are done, on {@code endpoint}. */
    private record Dialled(NoiseStream stream, Preface.Endpoint endpoint) {}

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
     * Serves an inbound consensus connection whose preface is done: on the stream and duplex endpoints its messages
     * are one-way frames, else RPCs; on the duplex one this validator's sender sends on it too.
     */
    void acceptInbound(NoiseStream stream, String remote, Preface.Endpoint endpoint) throws IOException {
        // Members of the next committee too: a validator that switched epochs a moment before this one connects early.
        BlsPublicKey peer = Handshake.consensusInbound(stream, key, epoch.genesis(), book::isMember, signatures);
        stream.socket().setSoTimeout(0);
        Connection[] self = new Connection[1];
        Connection conn = new Connection(
                        "consensus-in " + peer + " @" + remote,
                        stream,
                        config.rpc,
                        endpoint.oneWay()
                                ? Map.of()
                                : Map.of(Rpc.CONSENSUS, req -> receiver.handle(peer, req, self[0])),
                        config.ping.orElse(null),
                        config.ping.orElse(null))
                .countInto(traffic);
        if (endpoint.oneWay()) {
            conn.serveMessages(Rpc.CONSENSUS, message -> receiver.receive(peer, message));
        }
        self[0] = conn;
        links.accepted(peer, new ConsensusLinks.Link(conn, endpoint, false));
        conn.start();
        // It is up: our sender sends on this connection if duplex, and one waiting out a backoff (the peer was not
        // listening yet) dials again now.
        wake(peer);
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
        links.closeAll("shutting down");
    }
}
