package dev.tally.node.config;

import dev.tally.crypto.BlsSecretKey;
import dev.tally.crypto.NodePublicKey;
import dev.tally.crypto.NodeSecretKey;
import dev.tally.execution.MempoolExecutionLayer;
import dev.tally.execution.ScheduledCommittee;
import dev.tally.execution.TransactionPayload;
import dev.tally.protocol.Genesis;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A node's settings, as read from its JSON config (see {@link NodeConfigJson} for the format).
 *
 * @param serverAddr where the node listens for peers (gossip and, on validators, consensus)
 * @param publicAddr the address other validators should dial, announced through discovery
 * @param rpcAddr the JSON-RPC endpoint; absent: no RPC server
 * @param metricsAddr the Prometheus endpoint; absent: no metrics server
 * @param debugPageAddr the HTML debug page; absent: no debug page
 * @param validatorKey absent on a full node, which only syncs and serves blocks
 * @param viewTimeout the protocol's view timeout: the same on every validator of a chain
 * @param gossipStaticOutbound peers this node keeps dialing, by node key
 * @param blockRetention how many recent blocks to keep; absent: keep all
 * @param schedule committees that take over from the genesis one at their activation blocks (epochs 1, 2, ...)
 * @param rpcLimits what the RPC server accepts: connections, timeouts, body size, CORS origin
 * @param mempoolMaxBytes the most bytes of transactions waiting in the mempool (beyond it: "mempool full")
 * @param emptyBlockInterval JSON {@code empty_block_interval_ms}: how long a leader whose mempool is empty waits for
 *     a first transaction before it proposes an empty block (it proposes at once when a transaction arrives), so an
 *     idle chain makes an empty block about once per interval instead of as fast as it can. Zero: no wait. Must be
 *     below half the view timeout, since the wait eats into the view. Default: {@link #defaultEmptyBlockInterval}.
 * @param proposalPayloadSize JSON {@code proposal_payload_size}: the most payload bytes this node puts in a block it
 *     proposes, while it accepts others' proposals up to {@code maxPayloadSize}. Smaller blocks finalize sooner under
 *     load; what a replica accepts does not change. Default: {@link #defaultProposalPayloadSize}.
 */
public record NodeConfig(
        InetSocketAddress serverAddr,
        InetSocketAddress publicAddr,
        Optional<InetSocketAddress> rpcAddr,
        Optional<InetSocketAddress> metricsAddr,
        Optional<InetSocketAddress> debugPageAddr,
        Genesis genesis,
        int maxPayloadSize,
        int maxTxSize,
        Duration viewTimeout,
        Optional<BlsSecretKey> validatorKey,
        NodeSecretKey nodeKey,
        int gossipDynamicInboundLimit,
        List<NodePublicKey> gossipStaticInbound,
        Map<NodePublicKey, InetSocketAddress> gossipStaticOutbound,
        Duration fetchScheduleInterval,
        Optional<Long> blockRetention,
        List<ScheduledCommittee> schedule,
        HttpLimits rpcLimits,
        long mempoolMaxBytes,
        Duration emptyBlockInterval,
        int proposalPayloadSize) {

    /** The empty-block interval when none is given, with the default view timeout: a quarter of it. */
    public static final Duration DEFAULT_EMPTY_BLOCK_INTERVAL = Duration.ofMillis(500);
    /**
     * The proposal payload size when none is given and the limits allow it: on the 2-core bench machine, 1 MB blocks
     * kept coming under overload at 1.6 to 1.7 times the idle chain's rate, where 2.5 MB blocks fell to half of it, and
     * carried as many transactions (BENCHMARKS.md, "Beside BFT-SMaRt").
     */
    public static final int DEFAULT_PROPOSAL_PAYLOAD_SIZE = 1_000_000;

    public NodeConfig {
        gossipStaticInbound = List.copyOf(gossipStaticInbound);
        gossipStaticOutbound = Map.copyOf(gossipStaticOutbound);
        schedule = List.copyOf(schedule);
        checkEmptyBlockInterval(emptyBlockInterval, viewTimeout);
        checkProposalPayloadSize(proposalPayloadSize, maxPayloadSize, maxTxSize);
    }

    /** A config with the {@link #defaultEmptyBlockInterval default empty-block interval} for its view timeout. */
    public NodeConfig(
            InetSocketAddress serverAddr,
            InetSocketAddress publicAddr,
            Optional<InetSocketAddress> rpcAddr,
            Optional<InetSocketAddress> metricsAddr,
            Optional<InetSocketAddress> debugPageAddr,
            Genesis genesis,
            int maxPayloadSize,
            int maxTxSize,
            Duration viewTimeout,
            Optional<BlsSecretKey> validatorKey,
            NodeSecretKey nodeKey,
            int gossipDynamicInboundLimit,
            List<NodePublicKey> gossipStaticInbound,
            Map<NodePublicKey, InetSocketAddress> gossipStaticOutbound,
            Duration fetchScheduleInterval,
            Optional<Long> blockRetention,
            List<ScheduledCommittee> schedule) {
        this(
                serverAddr,
                publicAddr,
                rpcAddr,
                metricsAddr,
                debugPageAddr,
                genesis,
                maxPayloadSize,
                maxTxSize,
                viewTimeout,
                validatorKey,
                nodeKey,
                gossipDynamicInboundLimit,
                gossipStaticInbound,
                gossipStaticOutbound,
                fetchScheduleInterval,
                blockRetention,
                schedule,
                HttpLimits.DEFAULT,
                MempoolExecutionLayer.DEFAULT_MEMPOOL_MAX_BYTES,
                defaultEmptyBlockInterval(viewTimeout),
                defaultProposalPayloadSize(maxPayloadSize, maxTxSize));
    }

    /** The payload that holds one transaction of {@code maxTxSize}: no smaller proposal size would ever carry it. */
    private static int oneTransaction(int maxTxSize) {
        return TransactionPayload.HEADER_SIZE + TransactionPayload.PREFIX_SIZE + maxTxSize;
    }

    /**
     * The proposal payload size when none is given: {@link #DEFAULT_PROPOSAL_PAYLOAD_SIZE}, but no more than
     * {@code maxPayloadSize} and no less than a payload of one largest transaction (within {@code maxPayloadSize}).
     */
    public static int defaultProposalPayloadSize(int maxPayloadSize, int maxTxSize) {
        return Math.min(maxPayloadSize, Math.max(DEFAULT_PROPOSAL_PAYLOAD_SIZE, oneTransaction(maxTxSize)));
    }

    /**
     * Refuses a proposal payload size above {@code maxPayloadSize} (the others would refuse such proposals) or below a
     * payload of one transaction of {@code maxTxSize} (such a transaction would never be proposed).
     *
     * @throws IllegalArgumentException naming the values
     */
    public static void checkProposalPayloadSize(int proposalPayloadSize, int maxPayloadSize, int maxTxSize) {
        if (proposalPayloadSize > maxPayloadSize) {
            throw new IllegalArgumentException("the proposal payload size (" + proposalPayloadSize
                    + " bytes) must not exceed max_payload_size (" + maxPayloadSize + " bytes)");
        }
        int least = Math.min(maxPayloadSize, oneTransaction(maxTxSize));
        if (proposalPayloadSize < least) {
            throw new IllegalArgumentException("the proposal payload size (" + proposalPayloadSize
                    + " bytes) must hold one transaction of max_tx_size (" + maxTxSize + " bytes): at least "
                    + least + " bytes");
        }
    }

    /**
     * The empty-block interval when none is given: {@link #DEFAULT_EMPTY_BLOCK_INTERVAL} (500 ms, a quarter of the
     * default 2 s view timeout), or a quarter of a shorter view timeout, so that the default is valid with any view
     * timeout and leaves three quarters of the view to the proposal and the votes.
     */
    public static Duration defaultEmptyBlockInterval(Duration viewTimeout) {
        Duration quarter = viewTimeout.dividedBy(4);
        return quarter.compareTo(DEFAULT_EMPTY_BLOCK_INTERVAL) < 0 ? quarter : DEFAULT_EMPTY_BLOCK_INTERVAL;
    }

    /**
     * Refuses an empty-block interval that is negative or not below half the view timeout: a leader that waits so
     * long leaves too little of the view for its proposal and the votes, and views would time out.
     *
     * @throws IllegalArgumentException naming both values
     */
    public static void checkEmptyBlockInterval(Duration interval, Duration viewTimeout) {
        if (interval.isNegative()) {
            throw new IllegalArgumentException(
                    "the empty-block interval must not be negative, got " + interval.toMillis() + " ms");
        }
        if (interval.multipliedBy(2).compareTo(viewTimeout) >= 0) {
            throw new IllegalArgumentException("the empty-block interval (" + interval.toMillis()
                    + " ms) must be below half the view timeout (" + viewTimeout.toMillis()
                    + " ms): a leader waiting that long for transactions would leave too little of the view"
                    + " for its proposal and the votes");
        }
    }

    /** A builder that starts from this config: what it is not told to change stays as it is. */
    public Builder toBuilder() {
        return new Builder(this);
    }

    /** Changes to a config, by name (the test networks announce proxies, raise limits and thin out gossip). */
    public static final class Builder {
        private final NodeConfig base;
        private InetSocketAddress publicAddr;
        private Optional<InetSocketAddress> rpcAddr;
        private int maxPayloadSize;
        private int maxTxSize;
        private Map<NodePublicKey, InetSocketAddress> gossipStaticOutbound;
        private List<ScheduledCommittee> schedule;
        private Duration emptyBlockInterval;
        // Null: the default for the sizes built with, so that raising max_payload_size in a test raises it too.
        private Integer proposalPayloadSize;

        private Builder(NodeConfig base) {
            this.base = base;
            this.publicAddr = base.publicAddr;
            this.rpcAddr = base.rpcAddr;
            this.maxPayloadSize = base.maxPayloadSize;
            this.maxTxSize = base.maxTxSize;
            this.gossipStaticOutbound = base.gossipStaticOutbound;
            this.schedule = base.schedule;
            this.emptyBlockInterval = base.emptyBlockInterval;
            this.proposalPayloadSize =
                    base.proposalPayloadSize == defaultProposalPayloadSize(base.maxPayloadSize, base.maxTxSize)
                            ? null
                            : base.proposalPayloadSize;
        }

        public Builder publicAddr(InetSocketAddress addr) {
            this.publicAddr = addr;
            return this;
        }

        public Builder rpcAddr(InetSocketAddress addr) {
            this.rpcAddr = Optional.of(addr);
            return this;
        }

        public Builder maxPayloadSize(int bytes) {
            this.maxPayloadSize = bytes;
            return this;
        }

        public Builder maxTxSize(int bytes) {
            this.maxTxSize = bytes;
            return this;
        }

        public Builder gossipStaticOutbound(Map<NodePublicKey, InetSocketAddress> peers) {
            this.gossipStaticOutbound = peers;
            return this;
        }

        public Builder schedule(List<ScheduledCommittee> committees) {
            this.schedule = committees;
            return this;
        }

        public Builder emptyBlockInterval(Duration interval) {
            this.emptyBlockInterval = interval;
            return this;
        }

        public Builder proposalPayloadSize(int bytes) {
            this.proposalPayloadSize = bytes;
            return this;
        }

        public NodeConfig build() {
            NodeConfig b = base;
            return new NodeConfig(
                    b.serverAddr,
                    publicAddr,
                    rpcAddr,
                    b.metricsAddr,
                    b.debugPageAddr,
                    b.genesis,
                    maxPayloadSize,
                    maxTxSize,
                    b.viewTimeout,
                    b.validatorKey,
                    b.nodeKey,
                    b.gossipDynamicInboundLimit,
                    b.gossipStaticInbound,
                    gossipStaticOutbound,
                    b.fetchScheduleInterval,
                    b.blockRetention,
                    schedule,
                    b.rpcLimits,
                    b.mempoolMaxBytes,
                    emptyBlockInterval,
                    proposalPayloadSize != null
                            ? proposalPayloadSize
                            : defaultProposalPayloadSize(maxPayloadSize, maxTxSize));
        }
    }

    public boolean isValidator() {
        return validatorKey.isPresent();
    }

    @Override
    public String toString() {
        // Never print secrets.
        return "NodeConfig(server " + serverAddr + ", node " + nodeKey.publicKey()
                + validatorKey.map(k -> ", validator " + k.publicKey()).orElse(", full node") + ", " + genesis + ")";
    }
}
