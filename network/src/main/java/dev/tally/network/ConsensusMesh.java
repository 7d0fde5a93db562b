package dev.tally.network;

import com.google.protobuf.ByteString;
import dev.tally.crypto.BlsPublicKey;
import dev.tally.crypto.BlsSecretKey;
import dev.tally.network.proto.Net;
import dev.tally.protocol.ChonkyMessage;
import dev.tally.protocol.Codec;
import dev.tally.protocol.Epoch;
import dev.tally.protocol.InvalidMessageException;
import dev.tally.protocol.LeaderProposal;
import dev.tally.protocol.QcVerifier;
import dev.tally.protocol.ReplicaCommit;
import dev.tally.protocol.ReplicaNewView;
import dev.tally.protocol.ReplicaTimeout;
import dev.tally.protocol.Signed;
import dev.tally.protocol.ValidatorSchedule;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The consensus network: a full mesh of the committee. This validator keeps an outbound connection to every other
 * validator (address from discovery, else from the static config; reconnecting with backoff) and sends its messages
 * over it; it accepts inbound connections only from committee members (the consensus handshake proves the key) and
 * receives their messages on them. Received messages are checked on the verifier pool (in parallel, never on the
 * replica's thread) and delivered to the {@link ConsensusInbox}. This validator's own messages reach its inbox
 * directly.
 */
public final class ConsensusMesh implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ConsensusMesh.class);
    private static final Duration POLL = Duration.ofMillis(250);

    private final NetworkConfig config;
    private final BlsSecretKey key;
    private final Epoch epoch;
    private final ValidatorAddressBook book;
    private final ConsensusInbox inbox;
    private final QcVerifier qcs;
    private final ExecutorService verifier;
    private final OutgoingConsensusPool pool = new OutgoingConsensusPool();
    private final Map<BlsPublicKey, Connection> inbound = new ConcurrentHashMap<>();
    private final Map<BlsPublicKey, Connection> outbound = new ConcurrentHashMap<>();
    private final List<Thread> threads = new ArrayList<>();
    private volatile boolean closed;

    ConsensusMesh(NetworkConfig config, ValidatorAddressBook book, ConsensusInbox inbox, QcVerifier qcs, ExecutorService verifier) {
        this.config = config;
        this.key = config.validatorKey.orElseThrow(() -> new IllegalArgumentException("the consensus mesh needs a validator key"));
        this.epoch = config.epoch;
        this.book = book;
        this.inbox = inbox;
        this.qcs = qcs;
        this.verifier = verifier;
    }

    /** Starts maintaining a connection to every other validator of the committee and announces our address. */
    void start(InetSocketAddress publicAddress) {
        ValidatorSchedule committee = epoch.committee();
        if (!committee.contains(key.publicKey())) {
            log.warn("validator {} is not in the committee of epoch {}: it only receives", key.publicKey(), epoch.number());
        }
        for (var v : committee.validators()) {
            if (!v.key().equals(key.publicKey())) {
                threads.add(Thread.ofVirtual().name("consensus-out " + v.key()).start(() -> maintain(v.key())));
            }
        }
        threads.add(Thread.ofVirtual().name("consensus-announce").start(() -> {
            try {
                while (!closed) {
                    book.announce(key, publicAddress);
                    Thread.sleep(config.announceInterval);
                }
            } catch (InterruptedException e) {
                // closing
            }
        }));
    }

    /** Sends a message to every validator of the committee, this one included. Never blocks on the network. */
    public void broadcast(Signed<? extends ChonkyMessage> message) {
        pool.put(message);
        inbox.offerLocal(message);
    }

    public ConsensusInbox inbox() {
        return inbox;
    }

    /** Validators with an open outbound (sending) connection. */
    public java.util.Set<BlsPublicKey> connectedOutbound() {
        return java.util.Set.copyOf(outbound.keySet());
    }

    /** Validators with an open inbound (receiving) connection. */
    public java.util.Set<BlsPublicKey> connectedInbound() {
        return java.util.Set.copyOf(inbound.keySet());
    }

    /** Closes the connections to and from a validator (they are re-established); for tests and operators. */
    public void disconnect(BlsPublicKey peer) {
        Optional.ofNullable(outbound.get(peer)).ifPresent(c -> c.close("disconnected locally"));
        Optional.ofNullable(inbound.get(peer)).ifPresent(c -> c.close("disconnected locally"));
    }

    private InetSocketAddress addressOf(BlsPublicKey peer) {
        return book.get(peer).map(SignedNetAddress::address).orElse(config.validatorAddresses.get(peer));
    }

    private void maintain(BlsPublicKey peer) {
        Backoff backoff = new Backoff(config.reconnectMin, config.reconnectMax);
        try {
            while (!closed) {
                InetSocketAddress addr = addressOf(peer);
                if (addr == null) {
                    book.awaitChange(book.changes(), Duration.ofSeconds(1));
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
        }
    }

    private void runOutbound(BlsPublicKey peer, InetSocketAddress addr) throws IOException, InterruptedException {
        NoiseStream stream = Preface.connect(addr, Preface.Endpoint.CONSENSUS, Preface.TIMEOUT);
        try {
            Handshake.consensusOutbound(stream, key, epoch.genesis(), peer);
            stream.socket().setSoTimeout(0);
        } catch (IOException e) {
            stream.close();
            throw e;
        }
        Connection conn = new Connection("consensus-out " + peer + " @" + addr, stream, config.rpc, Map.of(),
                config.ping.orElse(null), config.ping.orElse(null)).start();
        Connection old = outbound.put(peer, conn);
        if (old != null) {
            old.close("replaced by a new connection");
        }
        log.info("consensus: connected to {} at {}", peer, addr);
        try {
            long[] cursor = OutgoingConsensusPool.newCursor();
            while (conn.isOpen() && !closed) {
                conn.reserve(Rpc.CONSENSUS);
                Signed<ChonkyMessage> m = null;
                try {
                    while (m == null && conn.isOpen() && !closed) {
                        m = pool.next(cursor, POLL);
                    }
                } finally {
                    if (m == null) {
                        conn.release(Rpc.CONSENSUS);
                    }
                }
                if (m == null) {
                    break;
                }
                byte[] req = Net.ConsensusReq.newBuilder().setMsg(ByteString.copyFrom(Codec.encode(m))).build().toByteArray();
                Thread.ofVirtual().name("consensus-send " + peer).start(() -> {
                    try {
                        conn.callReserved(Rpc.CONSENSUS, req, null);
                    } catch (IOException e) {
                        log.debug("consensus send to {} failed: {}", peer, e.getMessage());
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    } finally {
                        conn.release(Rpc.CONSENSUS);
                    }
                });
            }
        } finally {
            conn.close("consensus sender stopped");
            outbound.remove(peer, conn);
        }
    }

    /** Serves an inbound consensus connection whose preface is done. */
    void acceptInbound(NoiseStream stream, String remote) throws IOException {
        BlsPublicKey peer = Handshake.consensusInbound(stream, key, epoch.genesis(), epoch.committee()::contains);
        stream.socket().setSoTimeout(0);
        Connection[] self = new Connection[1];
        Connection conn = new Connection("consensus-in " + peer + " @" + remote, stream, config.rpc,
                Map.of(Rpc.CONSENSUS, req -> handle(peer, req, self[0])), config.ping.orElse(null), config.ping.orElse(null));
        self[0] = conn;
        Connection old = inbound.put(peer, conn);
        if (old != null) {
            old.close("replaced by a new connection from the same validator");
        }
        conn.onClose(reason -> inbound.remove(peer, conn));
        conn.start();
    }

    private byte[] handle(BlsPublicKey peer, byte[] request, Connection conn) throws Exception {
        Net.ConsensusReq req = NetCodec.parse(Net.ConsensusReq.parser(), request, "ConsensusReq");
        NetCodec.require(req.hasMsg(), "ConsensusReq.msg");
        Signed<ChonkyMessage> m = Codec.decodeSigned(req.getMsg().toByteArray());
        Future<?> check = verifier.submit(() -> {
            verify(m, peer, epoch, qcs);
            return null;
        });
        try {
            check.get();
        } catch (ExecutionException e) {
            throw e.getCause() instanceof Exception ex ? ex : e;
        }
        CompletableFuture<Void> consumed = inbox.offer(m);
        // Back-pressure: acknowledge once the replica took it (or something newer replaced it).
        while (!ConsensusInbox.await(consumed, POLL)) {
            if (conn != null && !conn.isOpen()) {
                break;
            }
        }
        return Net.ConsensusResp.getDefaultInstance().toByteArray();
    }

    /**
     * Everything that can be checked about a consensus message without the replica's state: it was signed by the
     * peer that sent it (validators send only their own messages), for this chain and epoch, by a committee member
     * (and for a proposal, by the view's leader), the signature is valid, and so are its justification and QCs.
     */
    static void verify(Signed<ChonkyMessage> m, BlsPublicKey sender, Epoch epoch, QcVerifier qcs) throws InvalidMessageException {
        if (!m.key().equals(sender)) {
            throw new InvalidMessageException("message signed by " + m.key() + " was sent by " + sender);
        }
        ChonkyMessage msg = m.message();
        msg.view().verify(epoch);
        if (msg instanceof LeaderProposal && !epoch.committee().leader(msg.view().number()).equals(m.key())) {
            throw new InvalidMessageException("proposal for " + msg.view() + " from " + m.key() + ", who does not lead it");
        }
        m.verifyAuthor(epoch);
        switch (msg) {
            case LeaderProposal p -> p.verify(epoch, qcs);
            case ReplicaCommit c -> c.verify(epoch);
            case ReplicaTimeout t -> t.verify(epoch, qcs);
            case ReplicaNewView n -> n.verify(epoch, qcs);
        }
    }

    @Override
    public void close() {
        closed = true;
        threads.forEach(Thread::interrupt);
        outbound.values().forEach(c -> c.close("shutting down"));
        inbound.values().forEach(c -> c.close("shutting down"));
    }

}
