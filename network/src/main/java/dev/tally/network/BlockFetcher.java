package dev.tally.network;

import com.google.protobuf.ByteString;
import dev.tally.crypto.NodePublicKey;
import dev.tally.network.proto.Net;
import dev.tally.protocol.Codec;
import dev.tally.protocol.CommitQC;
import dev.tally.protocol.FinalBlock;
import dev.tally.protocol.QcVerifier;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Block sync: fetches the final blocks after the store's last one from the gossip peers that advertise them,
 * several at once (at most {@code fetchWindow} in flight or waiting for a predecessor, at most
 * {@link Rpc#GET_BLOCK}'s in-flight limit per peer), verifies each against its commit QC and the committee on the
 * verifier pool, and hands them to the {@link BlockSink} in order. A peer that fails a fetch (times out, does not
 * serve a block it advertised, serves a wrong or invalid one) is disconnected and the block is retried at another
 * peer first.
 *
 * <p>A peer's advertised state is taken in unverified (each node certifies its blocks with a QC of its own making,
 * so checking every advertisement would cost a pairing check per peer per block); its QC is checked, once, when
 * the fetcher is about to act on it, and a peer that advertised an invalid one is disconnected.
 *
 * <p>A final block this node holds but cannot store yet, because a block before it is missing (consensus finalized it
 * while this node lacked its predecessor, e.g. after a pause), is {@link #holdAheadOfGap held} with the fetched ones:
 * it is stored as soon as the gap is fetched, and not fetched itself. Without that, consensus would keep finalizing
 * blocks that block sync must fetch again, and the node would chase the head of the chain for as long as block sync
 * lags behind it. A block in such a gap is final (a later one is), so its peers most likely store it already, while
 * their state pushes (rate-limited) may not say so for a few hundred milliseconds: it is asked of peers that do not
 * advertise it yet too, each once, and a peer that does not have it yet is not at fault.
 *
 * <p>It also repairs: a stored block the sink reports {@link BlockSink#damaged damaged} (its copy found corrupt) is
 * fetched and verified the same way and handed to {@link BlockSink#repair}.
 */
final class BlockFetcher {
    private static final Logger log = LoggerFactory.getLogger(BlockFetcher.class);
    /** The longest wait between two rounds without a signal (a peer's state, a fetch done, a block stored). */
    private static final Duration ROUND = Duration.ofMillis(100);

    private final NetworkConfig config;
    private final BlockSink sink;
    private final QcVerifier qcs;
    private final ExecutorService verifier;
    private final Supplier<List<GossipNetwork.Peer>> peers;
    private final Object lock = new Object();
    // What the fetcher waits on between rounds: a lock's condition, where a waiting virtual thread frees its carrier.
    private final ChangeSignal changed = new ChangeSignal();
    private final TreeMap<Long, FinalBlock> ready = new TreeMap<>();
    private final Set<Long> inFlight = new HashSet<>();
    private final Map<Long, Set<NodePublicKey>> failed = new HashMap<>();
    // Peers asked for a block in a gap before they advertised it, which did not have it yet.
    private final Map<Long, Set<NodePublicKey>> notYet = new HashMap<>();
    private final AtomicLong fetched = new AtomicLong();
    private final AtomicLong failures = new AtomicLong();
    private long queuedUpTo = Long.MIN_VALUE;
    private int rotation;
    private volatile boolean closed;
    private Thread thread;

    BlockFetcher(
            NetworkConfig config,
            BlockSink sink,
            QcVerifier qcs,
            ExecutorService verifier,
            Supplier<List<GossipNetwork.Peer>> peers) {
        this.config = config;
        this.sink = sink;
        this.qcs = qcs;
        this.verifier = verifier;
        this.peers = peers;
    }

    void start() {
        thread = Thread.ofVirtual().name("block-fetcher").start(this::run);
    }

    /** Something changed: a peer advertised blocks, connected, or a fetch finished. */
    void signal() {
        changed.signal();
    }

    /**
     * Keeps a final block whose predecessor is not stored yet until the gap before it is fetched, if it is within the
     * fetch window (beyond it, block sync fetches it later). The block must be final and valid: it is not checked
     * again.
     */
    void holdAheadOfGap(FinalBlock block) {
        long next = sink.lastQueued() + 1;
        long n = block.number();
        if (n <= next || n >= next + config.fetchWindow) {
            return;
        }
        synchronized (lock) {
            ready.putIfAbsent(n, block);
        }
        signal();
    }

    long fetched() {
        return fetched.get();
    }

    long failures() {
        return failures.get();
    }

    private void run() {
        try {
            while (!closed) {
                long since = changed.changes(); // before looking: a change while it looks ends the wait below at once
                long next = Math.max(sink.lastQueued(), queuedUpTo) + 1;
                FinalBlock b;
                synchronized (lock) {
                    ready.headMap(next).clear();
                    failed.keySet().removeIf(n -> n < next);
                    notYet.keySet().removeIf(n -> n < next);
                    b = ready.remove(next);
                }
                if (b != null) {
                    sink.queueBlock(b);
                    queuedUpTo = b.number();
                    continue;
                }
                schedule(next);
                scheduleRepairs();
                changed.awaitChange(since, ROUND);
            }
        } catch (InterruptedException e) {
            // closing
        } catch (RuntimeException e) {
            log.error("block fetcher failed", e);
        }
    }

    private void schedule(long next) {
        List<GossipNetwork.Peer> all = peers.get();
        if (all.isEmpty()) {
            return;
        }
        for (long n = next; n < next + config.fetchWindow; n++) {
            Set<NodePublicKey> failedAt;
            Set<NodePublicKey> skipAhead; // not to be asked ahead: failed it, or asked and had it not yet
            boolean inGap;
            synchronized (lock) {
                if (inFlight.size() + ready.size() >= config.fetchWindow) {
                    return;
                }
                if (inFlight.contains(n) || ready.containsKey(n)) {
                    continue;
                }
                failedAt = Set.copyOf(failed.getOrDefault(n, Set.of()));
                skipAhead = new HashSet<>(failedAt);
                skipAhead.addAll(notYet.getOrDefault(n, Set.of()));
                inGap = !ready.isEmpty() && ready.lastKey() > n;
            }
            GossipNetwork.Peer chosen = choose(all, n, failedAt, false);
            if (chosen == null && !failedAt.isEmpty()) {
                synchronized (lock) {
                    failed.remove(n);
                }
                chosen = choose(all, n, Set.of(), false);
            }
            boolean ahead = chosen == null && inGap;
            if (ahead) {
                chosen = choose(all, n, skipAhead, true);
            }
            if (chosen == null) {
                continue;
            }
            synchronized (lock) {
                inFlight.add(n);
            }
            long number = n;
            GossipNetwork.Peer peer = chosen;
            Thread.ofVirtual().name("fetch " + n).start(() -> fetch(number, peer, ahead));
        }
    }

    /** Fetches good copies of the store's corrupt blocks, one at a time each, from peers that advertise them. */
    private void scheduleRepairs() {
        List<GossipNetwork.Peer> all = peers.get();
        if (all.isEmpty()) {
            return;
        }
        for (long n : sink.damaged()) {
            synchronized (lock) {
                if (inFlight.contains(n)) {
                    continue;
                }
            }
            GossipNetwork.Peer chosen = choose(all, n, Set.of(), false);
            if (chosen == null) {
                continue;
            }
            synchronized (lock) {
                inFlight.add(n);
            }
            GossipNetwork.Peer peer = chosen;
            Thread.ofVirtual().name("repair " + n).start(() -> fetch(n, peer, false));
        }
    }

    /**
     * A peer that advertises block {@code n} (or, {@code ahead} of its advertisement, keeps blocks that old), is not
     * excluded and has a free get_block slot (which is taken).
     */
    private GossipNetwork.Peer choose(List<GossipNetwork.Peer> all, long n, Set<NodePublicKey> exclude, boolean ahead) {
        int size = all.size();
        int start = Math.floorMod(rotation++, size);
        for (int i = 0; i < size; i++) {
            GossipNetwork.Peer p = all.get((start + i) % size);
            AdvertisedState s = p.state;
            if (s != null
                    && (ahead ? s.keeps(n) : s.contains(n))
                    && p.conn.isOpen()
                    && !exclude.contains(p.key)
                    && (ahead || verified(p, s))
                    && p.conn.tryReserve(Rpc.GET_BLOCK)) {
                return p;
            }
        }
        return null;
    }

    /** Checks the QC of a peer's advertised state once; a peer that advertised an invalid one is disconnected. */
    private boolean verified(GossipNetwork.Peer p, AdvertisedState s) {
        if (s == p.verifiedState || !s.hasQc()) {
            return true;
        }
        Optional<BlockStoreState> decoded = GossipNetwork.decoded(p, s);
        if (decoded.isEmpty()) {
            failures.incrementAndGet();
            return false;
        }
        CommitQC qc = decoded.get().lastQc().orElseThrow();
        try {
            verifier.submit(() -> {
                        qcs.verify(qc, config.epochAt.apply(qc.header().number()));
                        return null;
                    })
                    .get();
            p.verifiedState = s;
            return true;
        } catch (ExecutionException e) {
            failures.incrementAndGet();
            log.warn(
                    "block sync: {} advertised an invalid commit QC for block {}: {}",
                    p.key,
                    qc.header().number(),
                    e.getCause().getMessage());
            p.conn.close("advertised an invalid commit QC: " + e.getCause().getMessage());
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Fetches block {@code n} from {@code peer}; {@code ahead}: a block of a gap that the peer does not advertise yet. */
    private void fetch(long n, GossipNetwork.Peer peer, boolean ahead) {
        try {
            byte[] req = Net.GetBlockReq.newBuilder().setNumber(n).build().toByteArray();
            byte[] bytes = peer.conn.callReserved(Rpc.GET_BLOCK, req, config.getBlockTimeout);
            Net.GetBlockResp resp = NetCodec.parse(Net.GetBlockResp.parser(), bytes, "GetBlockResp");
            if (!resp.hasBlock()) {
                if (!ahead) {
                    throw new ProtocolException("does not serve block " + n + ", which it advertised");
                }
                synchronized (lock) {
                    notYet.computeIfAbsent(n, k -> new HashSet<>()).add(peer.key);
                }
                return;
            }
            ByteString encoded = resp.getBlock();
            FinalBlock block = Codec.decodeFinalBlock(encoded.toByteArray());
            if (block.number() != n) {
                throw new ProtocolException("asked for block " + n + ", got block " + block.number());
            }
            try {
                verifier.submit(() -> {
                            block.verify(
                                    config.epochAt.apply(n),
                                    qcs); // often the QC its server advertised: checked already
                            return null;
                        })
                        .get();
            } catch (ExecutionException e) {
                throw new ProtocolException(
                        "served an invalid block " + n + ": " + e.getCause().getMessage(), e.getCause());
            }
            fetched.incrementAndGet();
            if (sink.damaged().contains(n)) {
                repair(block, peer);
                return;
            }
            synchronized (lock) {
                ready.put(n, block);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            if (closed) {
                return;
            }
            failures.incrementAndGet();
            log.warn("block sync: block {} from {}: {}", n, peer.key, e.getMessage());
            peer.conn.close("block sync failed: " + e.getMessage());
            synchronized (lock) {
                failed.computeIfAbsent(n, k -> new HashSet<>()).add(peer.key);
            }
        } finally {
            peer.conn.release(Rpc.GET_BLOCK);
            synchronized (lock) {
                inFlight.remove(n);
            }
            signal();
        }
    }

    /** A failure to store the repair is this node's, not the peer's: logged, and retried on the next round. */
    private void repair(FinalBlock block, GossipNetwork.Peer peer) {
        try {
            sink.repair(block);
            log.info("block sync: block {} repaired with the copy of {}", block.number(), peer.key);
        } catch (RuntimeException e) {
            log.warn("block sync: cannot store the repair of block {}: {}", block.number(), e.getMessage());
        }
    }

    void close() {
        closed = true;
        if (thread != null) {
            thread.interrupt();
        }
    }
}
