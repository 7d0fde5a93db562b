package dev.tally.node.metrics;

import dev.tally.execution.ApplicationExecutionLayer;
import dev.tally.execution.MempoolExecutionLayer;
import dev.tally.execution.TransactionResult;
import dev.tally.network.ConsensusMesh;
import dev.tally.network.GossipNetwork;
import dev.tally.network.Network;
import dev.tally.protocol.FinalBlock;
import dev.tally.storage.BlockStore;
import dev.tally.storage.Storage;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.core.metrics.Info;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.Unit;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * The node's Prometheus metrics, in their own registry (with the JVM's). Methods are cheap and thread-safe; the
 * replica loop calls most of them inside its steps.
 */
public final class NodeMetrics {
    private static final int RECENT = 1024;
    private static final double[] LATENCY_BUCKETS = {
        0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30
    };

    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final Gauge view = Gauge.builder()
            .name("tally_consensus_view")
            .help("The replica's current view")
            .register(registry);
    private final Gauge epoch = Gauge.builder()
            .name("tally_consensus_epoch")
            .help("The epoch (committee) consensus runs in")
            .register(registry);
    private final Gauge finalized = Gauge.builder()
            .name("tally_consensus_finalized_block")
            .help("The number of the last block this replica finalized")
            .register(registry);
    private final Gauge stored = Gauge.builder()
            .name("tally_storage_last_block")
            .help("The number of the last final block stored (finalized here or fetched by block sync)")
            .register(registry);
    private final Gauge storedAt = Gauge.builder()
            .name("tally_storage_last_block_timestamp_seconds")
            .help("Unix time when this node stored its newest final block (0 until it stores one after it starts)")
            .register(registry);
    private final Counter transactions = Counter.builder()
            .name("tally_transactions_received_total")
            .help(
                    "Transactions offered to the mempool (by clients and gossip peers), by result (accepted, duplicate, rejected) and, for rejected ones, the reason (e.g. too_large, mempool_full)")
            .labelNames("result", "reason")
            .register(registry);
    private final Histogram proposalToFinal = Histogram.builder()
            .name("tally_consensus_proposal_to_final_seconds")
            .help(
                    "From the replica first seeing a block's proposal (its own proposal or its vote) to the block being final")
            .unit(Unit.SECONDS)
            .classicUpperBounds(LATENCY_BUCKETS)
            .register(registry);
    private final Histogram viewDuration = Histogram.builder()
            .name("tally_consensus_view_seconds")
            .help("How long each view lasted at this replica")
            .unit(Unit.SECONDS)
            .classicUpperBounds(LATENCY_BUCKETS)
            .register(registry);
    private final Counter messages = Counter.builder()
            .name("tally_consensus_messages_total")
            .help("Consensus messages the replica processed, by kind and result (accepted or rejected)")
            .labelNames("kind", "result")
            .register(registry);
    private final Counter rejections = Counter.builder()
            .name("tally_consensus_rejections_total")
            .help(
                    "Messages (and payloads) the replica refused, by kind and reason (the rule broken, e.g. old_view, not_leader)")
            .labelNames("kind", "reason")
            .register(registry);
    private final Counter lateProposals = Counter.builder()
            .name("tally_consensus_late_proposal_finalized_total")
            .help(
                    "Blocks this replica finalized with the payload of a proposal it did not vote for: one that arrived after"
                            + " the block's CommitQC, or whose payload was still being checked when the QC formed")
            .register(registry);
    private final Counter timeouts = Counter.builder()
            .name("tally_consensus_timeouts_total")
            .help("Views this replica gave up on (timeout votes)")
            .register(registry);
    private final Histogram payloadSize = Histogram.builder()
            .name("tally_block_payload_bytes")
            .help("Payload size of the final blocks stored")
            .unit(Unit.BYTES)
            .classicExponentialUpperBounds(64, 4, 10)
            .register(registry);
    private final Histogram storage = Histogram.builder()
            .name("tally_storage_seconds")
            .help("Storage operations, by operation: persist_replica_state and queue_block (each synced, or only logged"
                    + " when the replica writes a final block and its next view's state together), sync_group (their"
                    + " one sync)")
            .unit(Unit.SECONDS)
            .labelNames("op")
            .classicUpperBounds(LATENCY_BUCKETS)
            .register(registry);
    private final Histogram gaps = Histogram.builder()
            .name("tally_storage_gap_seconds")
            .help("How long this node held final blocks it could not store yet, a block before them missing (after a"
                    + " pause, or a proposal it did not get): from the first such block to the last one stored")
            .unit(Unit.SECONDS)
            .classicUpperBounds(LATENCY_BUCKETS)
            .register(registry);
    private final Histogram rpc = Histogram.builder()
            .name("tally_rpc_seconds")
            .help("JSON-RPC requests, by method and result")
            .unit(Unit.SECONDS)
            .labelNames("method", "result")
            .classicUpperBounds(LATENCY_BUCKETS)
            .register(registry);
    private final Gauge blockFeedReaders = Gauge.builder()
            .name("tally_rpc_block_feed_readers")
            .help("Requests of GET /blocks waiting for the next final block (clients following the chain)")
            .register(registry);

    /** When a block was first seen (proposed or voted for), by block number; cleared when it is final. */
    private final ConcurrentMap<Long, Long> firstSeenNanos = new ConcurrentHashMap<>();

    private volatile long viewStartedNanos = System.nanoTime();
    /** When the last {@link #RECENT} blocks finalized here became final, and how long after their proposal (for RPC). */
    private final Map<Long, Finalization> recentFinalizations = new LinkedHashMap<>() {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Long, Finalization> eldest) {
            return size() > RECENT;
        }
    };

    /**
     * How a block became final on this replica: the wall-clock time (Unix milliseconds) its commit QC completed here,
     * and the milliseconds from its proposal (or this replica's vote) to then, when this replica saw the proposal.
     */
    public record Finalization(long finalAtUnixMillis, OptionalLong proposalToFinalMillis) {}

    public NodeMetrics() {
        JvmMetrics.builder().register(registry);
        // Exposed as tally_build_info (value 1), the Prometheus convention for build facts.
        Info.builder()
                .name("tally_build")
                .help("The version of Tally this node runs")
                .labelNames("version")
                .register(registry)
                .setLabelValues(version());
    }

    /** The project version Maven wrote into build.properties, or "unknown" when run from unfiltered classes. */
    static String version() {
        Properties p = new Properties();
        try (InputStream in = NodeMetrics.class.getResourceAsStream("/dev/tally/node/build.properties")) {
            if (in != null) {
                p.load(in);
            }
        } catch (IOException e) {
            return "unknown";
        }
        String v = p.getProperty("version", "unknown");
        return v.startsWith("${") ? "unknown" : v;
    }

    /** The mempool's depth, read when scraped. */
    public void watchMempool(MempoolExecutionLayer mempool) {
        GaugeWithCallback.builder()
                .name("tally_mempool_depth_transactions")
                .help("Transactions waiting in the mempool")
                .callback(cb -> cb.call(mempool.mempoolSize()))
                .register(registry);
        GaugeWithCallback.builder()
                .name("tally_mempool_depth_bytes")
                .unit(Unit.BYTES)
                .help("Bytes of the transactions waiting in the mempool")
                .callback(cb -> cb.call((double) mempool.mempoolBytes()))
                .register(registry);
    }

    /** The application's progress and the state-root mismatches it saw (a nondeterministic application). */
    public void watchApplication(ApplicationExecutionLayer app) {
        GaugeWithCallback.builder()
                .name("tally_app_last_applied_block")
                .help("The last block the application applied")
                .callback(cb ->
                        cb.call(app.lastApplied().map(s -> (double) s.block()).orElse(-1.0)))
                .register(registry);
        CounterWithCallback.builder()
                .name("tally_app_root_mismatches_total")
                .help("Blocks whose proposer attested a state root other than this node's: a nondeterministic"
                        + " application or damaged state")
                .callback(cb -> cb.call((double) app.rootMismatches()))
                .register(registry);
    }

    /** A transaction offered to the mempool, and what became of it. */
    public void transactionReceived(TransactionResult result) {
        switch (result) {
            case TransactionResult.Accepted a ->
                transactions.labelValues("accepted", "").inc();
            case TransactionResult.Duplicate d ->
                transactions.labelValues("duplicate", "").inc();
            case TransactionResult.Rejected r ->
                transactions.labelValues("rejected", r.kind()).inc();
        }
    }

    /** Free space on the file system of the data directory (a full disk stops the node). */
    public void watchDisk(Path dataDir) {
        GaugeWithCallback.builder()
                .name("tally_storage_free_bytes")
                .unit(Unit.BYTES)
                .help("Usable space on the file system that holds the data directory")
                .callback(cb -> cb.call((double) dataDir.toFile().getUsableSpace()))
                .register(registry);
    }

    /** Corrupt blocks found by reads of the block store, read when scraped. */
    public void watchIntegrity(BlockStore store) {
        CounterWithCallback.builder()
                .name("tally_storage_corrupt_blocks")
                .help("Stored blocks found corrupt on read since the node started (each counted once; block sync"
                        + " repairs them from peers)")
                .callback(cb -> cb.call((double) store.corruptBlocksFound()))
                .register(registry);
    }

    /** The storage's write-ahead log syncs, read when scraped: an operator's fsync rate. */
    public void watchSyncs(Storage storage) {
        CounterWithCallback.builder()
                .name("tally_storage_syncs")
                .help("Syncs (fsync) of the write-ahead log made by block and replica state writes since the node"
                        + " started: about two per view of a validator (its vote's state; the final block with the"
                        + " next view's state), 0 with in-memory storage")
                .callback(cb -> cb.call((double) storage.syncs()))
                .register(registry);
    }

    public PrometheusRegistry registry() {
        return registry;
    }

    /** Gauges and counters read from the network when scraped. */
    public void watch(Network network) {
        GaugeWithCallback.builder()
                .name("tally_network_gossip_peers")
                .help("Gossip connections open")
                .callback(cb -> cb.call(network.gossip().peers().size()))
                .register(registry);
        GaugeWithCallback.builder()
                .name("tally_network_validator_addresses")
                .help("Validators whose signed address this node holds, its own included: a consensus connection to a"
                        + " validator starts only once discovery brought its address")
                .callback(cb -> cb.call(network.addressBook().size()))
                .register(registry);
        network.consensus().ifPresent(mesh -> watchConsensus(network, mesh));
        watchTraffic(network);
    }

    private void watchConsensus(Network network, ConsensusMesh mesh) {
        GaugeWithCallback.builder()
                .name("tally_network_consensus_connections")
                .help("Validators this one sends consensus messages to (outbound) and receives them from (inbound),"
                        + " on one connection per pair or two")
                .labelNames("direction")
                .callback(cb -> {
                    cb.call(mesh.links().sendingTo().size(), "outbound");
                    cb.call(mesh.links().receivingFrom().size(), "inbound");
                })
                .register(registry);
        GaugeWithCallback.builder()
                .name("tally_network_inbox_messages")
                .help("Verified consensus messages waiting for the replica")
                .callback(cb -> cb.call(network.inbox().size()))
                .register(registry);
        CounterWithCallback.builder()
                .name("tally_network_consensus_messages_skipped")
                .help(
                        "Consensus messages not verified because the replica ignores them (an old view, or a new-view message that brings it nothing)")
                .callback(cb -> cb.call((double) network.inbox().ignoredUnverified()))
                .register(registry);
        CounterWithCallback.builder()
                .name("tally_network_consensus_resent_unverified")
                .help(
                        "Timeout and new-view messages taken without a second verification: unchanged copies of the last one"
                                + " verified from the same validator (re-sent at each expiry of its view's timer)")
                .callback(cb -> cb.call((double) mesh.resentUnverified()))
                .register(registry);
        CounterWithCallback.builder()
                .name("tally_network_signatures_checked")
                .help("Signatures of consensus handshakes, proposals and new-view messages checked by the network (of"
                        + " every node of this process: they share the checks)")
                .callback(cb -> cb.call((double) mesh.signaturesChecked()))
                .register(registry);
        CounterWithCallback.builder()
                .name("tally_network_signature_batches")
                .help("Batches those signatures were checked in, together (checked / batches is the mean batch size)")
                .callback(cb -> cb.call((double) mesh.signatureBatches()))
                .register(registry);
    }

    /** Bytes, connections and block fetches, over both endpoints. */
    private void watchTraffic(Network network) {
        CounterWithCallback.builder()
                .name("tally_network_sent_bytes")
                .help("Bytes sent over the network (frame headers and RPC bodies, before encryption), by endpoint")
                .labelNames("endpoint")
                .callback(cb -> {
                    cb.call((double) network.gossip().traffic().bytesSent(), "gossip");
                    network.consensus()
                            .ifPresent(m -> cb.call((double) m.traffic().bytesSent(), "consensus"));
                })
                .register(registry);
        CounterWithCallback.builder()
                .name("tally_network_received_bytes")
                .help("Bytes received over the network (frame headers and RPC bodies, after decryption), by endpoint")
                .labelNames("endpoint")
                .callback(cb -> {
                    cb.call((double) network.gossip().traffic().bytesReceived(), "gossip");
                    network.consensus()
                            .ifPresent(m -> cb.call((double) m.traffic().bytesReceived(), "consensus"));
                })
                .register(registry);
        GaugeWithCallback.builder()
                .name("tally_network_connections")
                .help("Open connections, by endpoint (a gossip peer connected both ways counts once)")
                .labelNames("endpoint")
                .callback(cb -> {
                    cb.call(network.gossip().peers().size(), "gossip");
                    network.consensus().ifPresent(m -> cb.call(m.links().connections(), "consensus"));
                })
                .register(registry);
        CounterWithCallback.builder()
                .name("tally_network_blocks_fetched")
                .help("Blocks fetched by block sync and verified")
                .callback(cb -> cb.call((double) network.gossip().blocksFetched()))
                .register(registry);
        CounterWithCallback.builder()
                .name("tally_network_block_fetch_failures")
                .help("Block fetches that failed")
                .callback(cb -> cb.call((double) network.gossip().fetchFailures()))
                .register(registry);
        watchTransactionGossip(network);
    }

    private void watchTransactionGossip(Network network) {
        CounterWithCallback.builder()
                .name("tally_network_gossip_transactions")
                .help("Transactions relayed to gossip peers, by the outcome: the peer's answer (accepted, duplicate,"
                        + " rejected), or dropped unsent from the queue of a peer too slow to take them")
                .labelNames("outcome")
                .callback(cb -> {
                    GossipNetwork.TxStats s = network.gossip().txStats();
                    cb.call((double) s.accepted(), "accepted");
                    cb.call((double) s.duplicate(), "duplicate");
                    cb.call((double) s.rejected(), "rejected");
                    cb.call((double) s.dropped(), "dropped");
                })
                .register(registry);
        CounterWithCallback.builder()
                .name("tally_network_gossip_transaction_pushes")
                .help("push_txs requests those transactions went in, one round trip each (relayed transactions per"
                        + " push is the mean batch)")
                .callback(cb -> cb.call((double) network.gossip().txStats().batches()))
                .register(registry);
    }

    public void epoch(long e) {
        epoch.set((double) e);
    }

    public void view(long v) {
        view.set((double) v);
    }

    public void viewStarted(long v) {
        long now = System.nanoTime();
        viewDuration.observe((now - viewStartedNanos) / 1e9);
        viewStartedNanos = now;
    }

    public void timedOut() {
        timeouts.inc();
    }

    public void messageProcessed(String kind, boolean accepted) {
        messages.labelValues(kind, accepted ? "accepted" : "rejected").inc();
    }

    /** The replica refused a message (or payload) of {@code kind} for {@code reason} (a {@code Rejection.reason()}). */
    public void rejected(String kind, String reason) {
        rejections.labelValues(kind, reason).inc();
    }

    /** The replica proposed or voted for this block: the start of its proposal-to-final latency. */
    public void blockSeen(long number) {
        firstSeenNanos.putIfAbsent(number, System.nanoTime());
    }

    public void finalized(FinalBlock block) {
        finalized.set((double) block.number());
        Long seen = firstSeenNanos.remove(block.number());
        OptionalLong proposalToFinalMillis = OptionalLong.empty();
        if (seen != null) {
            long nanos = System.nanoTime() - seen;
            proposalToFinal.observe(nanos / 1e9);
            proposalToFinalMillis = OptionalLong.of(nanos / 1_000_000);
        }
        Finalization f = new Finalization(System.currentTimeMillis(), proposalToFinalMillis);
        synchronized (recentFinalizations) {
            recentFinalizations.put(block.number(), f);
        }
        firstSeenNanos.keySet().removeIf(n -> n < block.number());
    }

    public void finalizedByLateProposal() {
        lateProposals.inc();
    }

    /** When a recent block this replica finalized became final, if it is one. */
    public Optional<Finalization> finalization(long blockNumber) {
        synchronized (recentFinalizations) {
            return Optional.ofNullable(recentFinalizations.get(blockNumber));
        }
    }

    public void blockStored(FinalBlock block) {
        stored.set((double) block.number());
        storedAt.set(System.currentTimeMillis() / 1000.0);
        payloadSize.observe(block.payload().size());
    }

    public void storageLatency(String op, long nanos) {
        storage.labelValues(op).observe(nanos / 1e9);
    }

    /** A gap in the stored blocks closed {@code nanos} after it opened (see {@code tally_storage_gap_seconds}). */
    public void gapClosed(long nanos) {
        gaps.observe(nanos / 1e9);
    }

    public void rpcLatency(String method, boolean ok, long nanos) {
        rpc.labelValues(method, ok ? "ok" : "error").observe(nanos / 1e9);
    }

    /** A request of the block feed starts ({@code +1}) or stops ({@code -1}) waiting for a block. */
    public void blockFeedReaders(int change) {
        blockFeedReaders.inc(change);
    }
}
