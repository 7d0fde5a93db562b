package dev.tally.network;

import com.google.protobuf.ByteString;
import dev.tally.crypto.BlsPublicKey;
import dev.tally.crypto.NodePublicKey;
import dev.tally.network.proto.Net;
import dev.tally.protocol.Codec;
import dev.tally.protocol.DecodeException;
import dev.tally.protocol.Epoch;
import dev.tally.protocol.FinalBlock;
import dev.tally.protocol.QcVerifier;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gossip network: connections to static outbound peers (kept up with backoff), from static inbound peers and
 * from up to {@code gossipDynamicInboundLimit} others. Over each connection, both ends advertise their block store
 * state, serve and fetch final blocks ({@link BlockFetcher}), spread signed validator addresses and push accepted
 * transactions. Validators and full nodes alike run it.
 *
 * <p>Transactions: each one the mempool accepts (from a client or a peer) is queued once for every other connected
 * node, on one connection to it (the outbound one when both exist), never back to the node it came from nor to the
 * nodes that one told us it is connected to ({@link Rpc#PUSH_GOSSIP_PEERS push_gossip_peers}): they get it from it,
 * or from where it got it, so a full mesh carries each transaction once per node. Per connection,
 * {@link Rpc#PUSH_TXS push_txs} callers (as many as its in-flight limit) each take what is queued, up to
 * {@link #MAX_TXS_PER_PUSH} transactions and the request size limit, and push it as one batch; the receiver puts the
 * batch into its mempool in one call and answers one result per transaction.
 */
public final class GossipNetwork implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(GossipNetwork.class);
    /** Most transactions in one push_txs request: a protocol constant (a peer that sends more is dropped). */
    public static final int MAX_TXS_PER_PUSH = 1000;
    /** Most node keys in one push_gossip_peers request: a protocol constant (a peer that sends more is dropped). */
    public static final int MAX_GOSSIP_PEERS = 1024;
    /** Transactions waiting to be pushed to one peer; the oldest are dropped beyond this many or {@link #TX_QUEUE_BYTES}. */
    static final int TX_QUEUE = 8192;

    static final long TX_QUEUE_BYTES = 4L << 20;
    private static final Duration POLL = Duration.ofMillis(100);
    /**
     * How long a push_txs caller waits for more transactions once one is queued, unless a full batch is: a trickle
     * then still travels in batches (one frame, one round trip each) at the price of this much latency per hop.
     */
    static final Duration TX_LINGER = Duration.ofMillis(10);

    /** One gossip connection and what the peer told us. */
    static final class Peer {
        final NodePublicKey key;
        final Connection conn;
        final boolean outbound;
        /** What the peer advertised last, as it said: block sync decodes and checks its QC before acting on it. */
        volatile AdvertisedState state;
        /** The advertised state whose QC block sync checked. */
        volatile AdvertisedState verifiedState;

        final TxQueue txs;
        final ByteString keyBytes;
        /** The nodes the peer said it is connected to (raw keys); empty until it says. */
        volatile Set<ByteString> itsPeers = Set.of();

        Peer(NodePublicKey key, Connection conn, boolean outbound, LongAdder txsDropped) {
            this.key = key;
            this.keyBytes = ByteString.copyFrom(key.bytes());
            this.conn = conn;
            this.outbound = outbound;
            this.txs = new TxQueue(TX_QUEUE, TX_QUEUE_BYTES, txsDropped);
        }
    }

    private final NetworkConfig config;
    private final Epoch epoch;
    private final BlockSource source;
    private final TransactionSink txSink;
    private final ValidatorAddressBook book;
    private final ExecutorService verifier;
    /** Checks the signatures of validators' address announcements, in the batches of the node's other checks. */
    private final SignatureCheck signatures;

    private final BlockFetcher fetcher;
    private final Map<NodePublicKey, Peer> inbound = new ConcurrentHashMap<>();
    private final Map<NodePublicKey, Peer> outbound = new ConcurrentHashMap<>();
    private final Traffic traffic = new Traffic();
    private final ChangeSignal blocksChanged = new ChangeSignal();
    private final ChangeSignal peersChanged = new ChangeSignal();
    // The block store state, read once for all connections (reading it means reading and decoding the last block):
    // again after notifyBlocksChanged (blocksChanged's count moved), or once it is POLL old.
    private final Object stateLock = new Object();
    private BlockStoreState localState; // guarded by stateLock
    private long localStateAt; // guarded by stateLock
    private long localStateChanges; // guarded by stateLock: blocksChanged's count when localState was read
    private final List<Thread> threads = new ArrayList<>();
    private final LongAdder txsSent = new LongAdder();
    private final LongAdder txBatches = new LongAdder();
    private final LongAdder txsAccepted = new LongAdder();
    private final LongAdder txsDuplicate = new LongAdder();
    private final LongAdder txsRejected = new LongAdder();
    private final LongAdder txsDropped = new LongAdder();
    private volatile boolean closed;

    /**
     * Transaction gossip so far, counted in transactions: pushed to peers (in {@code batches} push_txs calls), and what
     * their mempools made of them; and dropped unsent (a peer's queue overflowed, or a transaction did not fit in a
     * request).
     */
    public record TxStats(long sent, long batches, long accepted, long duplicate, long rejected, long dropped) {}

    GossipNetwork(
            NetworkConfig config,
            BlockSource source,
            BlockSink sink,
            TransactionSink txSink,
            ValidatorAddressBook book,
            QcVerifier qcs,
            ExecutorService verifier) {
        this.config = config;
        this.epoch = config.epoch;
        this.source = source;
        this.txSink = txSink;
        this.book = book;
        this.verifier = verifier;
        this.signatures = SignatureBatcher.shared(config.verifierThreads);
        this.fetcher = new BlockFetcher(config, sink, qcs, verifier, this::peerList);
    }

    void start() {
        fetcher.start();
        for (var e : config.gossipStaticOutbound.entrySet()) {
            threads.add(Thread.ofVirtual()
                    .name("gossip-out " + e.getKey())
                    .start(() -> maintain(e.getKey(), e.getValue())));
        }
    }

    /** Every open gossip connection (a peer connected both ways appears twice). */
    List<Peer> peerList() {
        List<Peer> all = new ArrayList<>(outbound.values());
        all.addAll(inbound.values());
        all.removeIf(p -> !p.conn.isOpen());
        return all;
    }

    /** Keys of the peers connected now. */
    public java.util.Set<NodePublicKey> peers() {
        java.util.Set<NodePublicKey> s = new java.util.HashSet<>(outbound.keySet());
        s.addAll(inbound.keySet());
        return s;
    }

    /** Bytes sent and received on the gossip endpoint, over all connections. */
    public Traffic traffic() {
        return traffic;
    }

    /** Bytes sent to and received from a connected peer (both directions' connections), if connected. */
    public Optional<long[]> peerTraffic(NodePublicKey key) {
        Peer out = outbound.get(key);
        Peer in = inbound.get(key);
        return Connection.trafficOf(out == null ? null : out.conn, in == null ? null : in.conn);
    }

    /**
     * The block range a peer advertised last, if it is connected and did (and its QC decodes: a peer whose does not is
     * disconnected).
     */
    public Optional<BlockStoreState> peerState(NodePublicKey key) {
        Peer p = outbound.getOrDefault(key, inbound.get(key));
        AdvertisedState s = p == null ? null : p.state;
        return s == null ? Optional.empty() : decoded(p, s);
    }

    /** The peer's advertisement decoded; if its QC does not decode, the peer is disconnected and it is empty. */
    static Optional<BlockStoreState> decoded(Peer p, AdvertisedState s) {
        try {
            return Optional.of(s.decode());
        } catch (DecodeException e) {
            p.conn.close("protocol violation: advertised " + s + " with a malformed commit QC: " + e.getMessage());
            return Optional.empty();
        }
    }

    /** Blocks fetched and verified, and fetches that failed (for metrics and tests). */
    public long blocksFetched() {
        return fetcher.fetched();
    }

    public long fetchFailures() {
        return fetcher.failures();
    }

    /** Tells gossip the block store changed: peers hear the new state and the fetcher looks again. Optional (it polls). */
    public void notifyBlocksChanged() {
        blocksChanged.signal();
        fetcher.signal();
    }

    /**
     * Hands block sync a final block this node holds but cannot store yet, as a block before it is missing: it is
     * stored once the gap is fetched instead of being fetched too (see {@link BlockFetcher}).
     */
    public void holdAheadOfGap(FinalBlock block) {
        fetcher.holdAheadOfGap(block);
    }

    public TxStats txStats() {
        return new TxStats(
                txsSent.sum(),
                txBatches.sum(),
                txsAccepted.sum(),
                txsDuplicate.sum(),
                txsRejected.sum(),
                txsDropped.sum());
    }

    /** A transaction from a client of this node: into the mempool, and to every peer if the mempool accepts it. */
    public TransactionSink.Result submitTransaction(byte[] tx) {
        TransactionSink.Result r = txSink.push(tx);
        if (r instanceof TransactionSink.Result.Accepted) {
            broadcastTxs(List.of(tx), null);
        }
        return r;
    }

    /** As {@link #submitTransaction} for a client's batch: one mempool call, the results in order. */
    public List<TransactionSink.Result> submitTransactions(List<byte[]> txs) {
        List<TransactionSink.Result> results = txSink.pushAll(txs);
        broadcastTxs(accepted(txs, results), null);
        return results;
    }

    private static List<byte[]> accepted(List<byte[]> txs, List<TransactionSink.Result> results) {
        if (results.size() != txs.size()) {
            throw new IllegalStateException(
                    "the transaction sink answered " + results.size() + " results for " + txs.size());
        }
        List<byte[]> accepted = new ArrayList<>(txs.size());
        for (int i = 0; i < txs.size(); i++) {
            if (results.get(i) instanceof TransactionSink.Result.Accepted) {
                accepted.add(txs.get(i));
            }
        }
        return accepted;
    }

    /**
     * Queues transactions for every connected node, once per node, but {@code from} (the connection they came over,
     * null for a client's) and the nodes {@code from} said it is connected to.
     */
    private void broadcastTxs(List<byte[]> txs, Peer from) {
        if (txs.isEmpty()) {
            return;
        }
        Map<NodePublicKey, Peer> once = new HashMap<>();
        for (Peer p : inbound.values()) {
            if (p.conn.isOpen()) {
                once.put(p.key, p);
            }
        }
        for (Peer p : outbound.values()) {
            if (p.conn.isOpen()) {
                once.put(p.key, p); // the outbound connection, when there are both
            }
        }
        Set<ByteString> spared = from == null ? Set.of() : from.itsPeers;
        if (from != null) {
            once.remove(from.key);
        }
        for (Peer p : once.values()) {
            if (!spared.contains(p.keyBytes)) {
                p.txs.addAll(txs);
            }
        }
    }

    private void maintain(NodePublicKey peer, InetSocketAddress addr) {
        Backoff backoff = new Backoff(config.reconnectMin, config.reconnectMax);
        try {
            while (!closed) {
                long started = System.nanoTime();
                try {
                    NoiseStream stream = Preface.connect(addr, Preface.Endpoint.GOSSIP, Preface.TIMEOUT);
                    try {
                        Handshake.gossipOutbound(stream, config.nodeKey, epoch.genesis(), peer, true);
                        stream.socket().setSoTimeout(0);
                    } catch (IOException e) {
                        stream.close();
                        throw e;
                    }
                    Peer p = register(peer, stream, "gossip-out " + peer + " @" + addr, true);
                    p.conn.closed().get();
                } catch (IOException e) {
                    log.info("gossip connection to {} at {}: {}", peer, addr, e.getMessage());
                } catch (ExecutionException e) {
                    log.info(
                            "gossip connection to {} at {}: {}",
                            peer,
                            addr,
                            e.getCause().getMessage());
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

    /** Serves an inbound gossip connection whose preface is done. */
    void acceptInbound(NoiseStream stream, String remote) throws IOException {
        Handshake.GossipPeer hp = Handshake.gossipInbound(
                stream, config.nodeKey, epoch.genesis(), config.gossipStaticInbound::contains, this::admit);
        stream.socket().setSoTimeout(0);
        NodePublicKey key = hp.key();
        synchronized (inbound) {
            try {
                admit(key);
            } catch (HandshakeException e) {
                stream.close();
                throw e;
            }
            register(key, stream, "gossip-in " + key + " @" + remote, false);
        }
    }

    /** Static inbound peers always; others while fewer than the dynamic limit are connected. */
    private void admit(NodePublicKey key) throws HandshakeException {
        if (config.gossipStaticInbound.contains(key)) {
            return;
        }
        synchronized (inbound) {
            long dynamic = inbound.keySet().stream()
                    .filter(k -> !config.gossipStaticInbound.contains(k) && !k.equals(key))
                    .count();
            if (dynamic >= config.gossipDynamicInboundLimit) {
                throw new HandshakeException(
                        "dynamic inbound limit of " + config.gossipDynamicInboundLimit + " reached; refusing " + key);
            }
        }
    }

    private Peer register(NodePublicKey key, NoiseStream stream, String label, boolean isOutbound) {
        Peer[] self = new Peer[1];
        Map<Rpc, Connection.Handler> handlers = new EnumMap<>(Rpc.class);
        handlers.put(Rpc.PUSH_BLOCK_STORE_STATE, req -> handleState(self[0], req));
        handlers.put(Rpc.GET_BLOCK, this::handleGetBlock);
        handlers.put(Rpc.PUSH_VALIDATOR_ADDRS, this::handleAddrs);
        handlers.put(Rpc.PUSH_GOSSIP_PEERS, req -> handlePeers(self[0], req));
        Connection conn = new Connection(
                        label, stream, config.rpc, handlers, config.ping.orElse(null), config.ping.orElse(null))
                .serveItems(Rpc.PUSH_TXS, (req, meter) -> handleTxs(self[0], req, meter))
                .countInto(traffic);
        Peer p = new Peer(key, conn, isOutbound, txsDropped);
        self[0] = p;
        Map<NodePublicKey, Peer> pool = isOutbound ? outbound : inbound;
        Peer old = pool.put(key, p);
        if (old != null) {
            old.conn.close("replaced by a new connection from the same node");
        }
        conn.onClose(reason -> {
            pool.remove(key, p);
            fetcher.signal();
            signalPeersChanged();
        });
        conn.start();
        signalPeersChanged();
        Thread.ofVirtual().name("gossip-state " + label).start(() -> pushStates(p));
        Thread.ofVirtual().name("gossip-addrs " + label).start(() -> pushAddrs(p));
        Thread.ofVirtual().name("gossip-peers " + label).start(() -> pushPeers(p));
        for (int i = 0; i < Rpc.PUSH_TXS.inflight(); i++) {
            Thread.ofVirtual().name("gossip-txs " + label).start(() -> pushTxs(p));
        }
        log.info("gossip: connected {}", label);
        return p;
    }

    // ---------------------------------------------------------------- pushing to a peer

    /** This node's block store state for all connections' pushes: read at most once per POLL unless it changed. */
    private BlockStoreState localState() {
        synchronized (stateLock) {
            long now = System.nanoTime();
            long changes = blocksChanged.changes(); // before reading: a change during the read makes it stale again
            if (localState == null || changes != localStateChanges || now - localStateAt >= POLL.toNanos()) {
                localState = source.state();
                localStateAt = now;
                localStateChanges = changes;
            }
            return localState;
        }
    }

    private void pushStates(Peer p) {
        BlockStoreState sent = null;
        try {
            while (p.conn.isOpen() && !closed) {
                long since = blocksChanged.changes();
                BlockStoreState s = localState();
                if (!s.equals(sent)) {
                    byte[] req = Net.PushBlockStoreState.newBuilder()
                            .setState(NetCodec.encode(s))
                            .build()
                            .toByteArray();
                    p.conn.call(Rpc.PUSH_BLOCK_STORE_STATE, req, null);
                    sent = s;
                }
                blocksChanged.awaitChange(since, POLL);
            }
        } catch (IOException | InterruptedException e) {
            p.conn.close("block store state push failed: " + e.getMessage());
        }
    }

    private void pushAddrs(Peer p) {
        Map<BlsPublicKey, SignedNetAddress> sent = new HashMap<>();
        try {
            while (p.conn.isOpen() && !closed) {
                long since = book.changes();
                List<SignedNetAddress> diff = book.newerThan(sent);
                if (!diff.isEmpty()) {
                    Net.PushValidatorAddrs.Builder b = Net.PushValidatorAddrs.newBuilder();
                    diff.forEach(a -> b.addNetAddresses(ByteString.copyFrom(NetCodec.encode(a))));
                    p.conn.call(Rpc.PUSH_VALIDATOR_ADDRS, b.build().toByteArray(), null);
                    diff.forEach(a -> sent.put(a.key(), a));
                }
                book.awaitChange(since, Duration.ofSeconds(1));
            }
        } catch (IOException | InterruptedException e) {
            p.conn.close("validator address push failed: " + e.getMessage());
        }
    }

    private void signalPeersChanged() {
        peersChanged.signal();
    }

    /** Tells the peer which nodes this one is connected to (but itself), whenever that changes. */
    private void pushPeers(Peer p) {
        Set<NodePublicKey> sent = null;
        try {
            while (p.conn.isOpen() && !closed) {
                long since = peersChanged.changes();
                Set<NodePublicKey> now = new HashSet<>();
                for (Peer q : peerList()) {
                    now.add(q.key);
                }
                now.remove(p.key);
                if (!now.equals(sent)) {
                    p.conn.call(Rpc.PUSH_GOSSIP_PEERS, NetCodec.encodePushGossipPeers(now), null);
                    sent = now;
                }
                peersChanged.awaitChange(since, Duration.ofSeconds(1));
            }
        } catch (IOException | InterruptedException e) {
            p.conn.close("gossip peer set push failed: " + e.getMessage());
        }
    }

    /** One of a connection's push_txs callers: takes a batch from the peer's queue, pushes it, waits for the answer. */
    private void pushTxs(Peer p) {
        int budget = config.rpc.limit(Rpc.PUSH_TXS).maxRequestBytes();
        try {
            while (p.conn.isOpen() && !closed) {
                List<byte[]> batch = p.txs.take(
                        MAX_TXS_PER_PUSH, budget, NetCodec::pushTxsEntrySize, POLL.toMillis(), TX_LINGER.toMillis());
                if (batch.isEmpty()) {
                    continue;
                }
                byte[] resp = p.conn.call(Rpc.PUSH_TXS, NetCodec.encodePushTxs(batch), batch.size(), null);
                txsSent.add(batch.size());
                txBatches.increment();
                for (Net.PushTxsResp.Result r : NetCodec.decodePushTxsResp(resp, batch.size())) {
                    switch (r) {
                        case ACCEPTED -> txsAccepted.increment();
                        case DUPLICATE -> txsDuplicate.increment();
                        default -> txsRejected.increment();
                    }
                }
            }
        } catch (DecodeException e) {
            p.conn.close("protocol violation: push_txs response: " + e.getMessage());
        } catch (IOException | InterruptedException e) {
            p.conn.close("transaction push failed: " + e.getMessage());
        }
    }

    // ---------------------------------------------------------------- serving a peer

    private byte[] handleState(Peer p, byte[] request) throws Exception {
        Net.PushBlockStoreState req = NetCodec.parse(Net.PushBlockStoreState.parser(), request, "PushBlockStoreState");
        NetCodec.require(req.hasState(), "PushBlockStoreState.state");
        // Taken in unchecked, its QC not even decoded: every node certifies its blocks with a QC of its own making, so
        // checking each advertisement would cost a pairing check per peer per block (and decoding it, a subgroup
        // check); block sync does both before using it.
        p.state = AdvertisedState.parse(req.getState());
        fetcher.signal();
        return Net.PushBlockStoreStateResp.getDefaultInstance().toByteArray();
    }

    private byte[] handleGetBlock(byte[] request) throws Exception {
        Net.GetBlockReq req = NetCodec.parse(Net.GetBlockReq.parser(), request, "GetBlockReq");
        NetCodec.require(req.hasNumber(), "GetBlockReq.number");
        Optional<FinalBlock> b = req.getNumber() < 0 ? Optional.empty() : source.block(req.getNumber());
        Net.GetBlockResp.Builder resp = Net.GetBlockResp.newBuilder();
        b.ifPresent(block -> resp.setBlock(ByteString.copyFrom(Codec.encode(block))));
        return resp.build().toByteArray();
    }

    private byte[] handleAddrs(byte[] request) throws Exception {
        Net.PushValidatorAddrs req = NetCodec.parse(Net.PushValidatorAddrs.parser(), request, "PushValidatorAddrs");
        List<SignedNetAddress> batch = new ArrayList<>();
        for (ByteString b : req.getNetAddressesList()) {
            batch.add(NetCodec.decodeSignedNetAddress(b.toByteArray()));
        }
        Network.onVerifier(verifier, () -> book.update(batch, signatures));
        return Net.PushValidatorAddrsResp.getDefaultInstance().toByteArray();
    }

    /** A peer's batch: decoded (strictly), one rate token per transaction, into the mempool at once, then on. */
    private byte[] handleTxs(Peer p, byte[] request, Connection.Meter meter) throws Exception {
        List<byte[]> txs = NetCodec.decodePushTxs(request);
        meter.take(txs.size());
        List<TransactionSink.Result> results = txSink.pushAll(txs);
        broadcastTxs(accepted(txs, results), p);
        return NetCodec.encodePushTxsResp(results);
    }

    private byte[] handlePeers(Peer p, byte[] request) throws Exception {
        p.itsPeers = NetCodec.decodePushGossipPeers(request);
        return Net.PushGossipPeersResp.getDefaultInstance().toByteArray();
    }

    @Override
    public void close() {
        closed = true;
        fetcher.close();
        threads.forEach(Thread::interrupt);
        outbound.values().forEach(p -> p.conn.close("shutting down"));
        inbound.values().forEach(p -> p.conn.close("shutting down"));
    }
}
