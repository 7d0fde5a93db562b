package dev.tally.network;

import dev.tally.crypto.BlsPublicKey;
import dev.tally.crypto.BlsSecretKey;
import dev.tally.crypto.NodePublicKey;
import dev.tally.crypto.NodeSecretKey;
import dev.tally.protocol.Epoch;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.LongFunction;

/** Everything the network needs to know; build with {@link #builder}. Immutable. */
public final class NetworkConfig {
    public final InetSocketAddress listenAddress;
    /**
     * Announced to the committee as where this validator accepts consensus connections; the bound address if absent.
     * An unresolved address (a host name) is resolved at each announcement.
     */
    public final Optional<InetSocketAddress> publicAddress;

    public final NodeSecretKey nodeKey;
    /** Present on validators: they join the consensus mesh. */
    public final Optional<BlsSecretKey> validatorKey;
    /** The epoch the node starts in; {@link Network#switchEpoch} moves the consensus mesh to later ones. */
    public final Epoch epoch;
    /** The epoch that finalizes a block number: block sync verifies each block against it. */
    public final LongFunction<Epoch> epochAt;
    /** The next epoch after the given last final block, if announced: its committee may connect and announce early. */
    public final LongFunction<Optional<Epoch>> pendingEpoch;
    /** Gossip peers this node keeps connections to; an unresolved address (a host name) is resolved at each dial. */
    public final Map<NodePublicKey, InetSocketAddress> gossipStaticOutbound;
    /** Gossip peers always accepted. */
    public final Set<NodePublicKey> gossipStaticInbound;
    /** How many other gossip peers may connect. */
    public final int gossipDynamicInboundLimit;
    /** Static consensus addresses of validators (discovery may supply the rest, or newer ones). */
    public final Map<BlsPublicKey, InetSocketAddress> validatorAddresses;

    public final RpcConfig rpc;
    /** Interval between pings and the time a ping may take; absent disables pings. */
    public final Optional<Duration> ping;

    /**
     * Connections accepted: by default a burst of twice the committee (every validator's consensus connection and a
     * gossip one, as when a whole network starts at once), then 10 a second.
     */
    public final RpcConfig.Rate acceptRate;

    public final int maxBlockSize;
    public final int maxTxSize;
    /** Blocks fetched ahead of the store: at most this many in flight or verified and waiting for a predecessor. */
    public final int fetchWindow;

    public final Duration getBlockTimeout;
    public final Duration reconnectMin;
    public final Duration reconnectMax;
    /** How often a validator re-announces its address. */
    public final Duration announceInterval;
    /** How many signature and block checks run at once, each on a virtual thread ({@link VerifierExecutor}). */
    public final int verifierThreads;
    /**
     * The newest consensus endpoint this node dials and serves: {@link Preface.Endpoint#CONSENSUS_DUPLEX}, or an
     * earlier one to act as a build before it (for the tests of a committee that mixes builds; not an operator
     * setting).
     */
    final Preface.Endpoint newestConsensusEndpoint;

    private NetworkConfig(Builder b) {
        listenAddress = b.listenAddress;
        publicAddress = Optional.ofNullable(b.publicAddress);
        nodeKey = b.nodeKey;
        validatorKey = Optional.ofNullable(b.validatorKey);
        epoch = b.epoch;
        epochAt = b.epochAt != null ? b.epochAt : n -> b.epoch;
        pendingEpoch = b.pendingEpoch != null ? b.pendingEpoch : n -> Optional.empty();
        gossipStaticOutbound = Map.copyOf(b.gossipStaticOutbound);
        gossipStaticInbound = Set.copyOf(b.gossipStaticInbound);
        gossipDynamicInboundLimit = b.gossipDynamicInboundLimit;
        validatorAddresses = Map.copyOf(b.validatorAddresses);
        rpc = b.rpc != null ? b.rpc : RpcConfig.defaults(b.maxBlockSize, b.maxTxSize);
        ping = Optional.ofNullable(b.ping);
        acceptRate = b.acceptRate;
        maxBlockSize = b.maxBlockSize;
        maxTxSize = b.maxTxSize;
        fetchWindow = b.fetchWindow;
        getBlockTimeout = b.getBlockTimeout;
        reconnectMin = b.reconnectMin;
        reconnectMax = b.reconnectMax;
        announceInterval = b.announceInterval;
        verifierThreads = b.verifierThreads;
        newestConsensusEndpoint = b.newestConsensusEndpoint;
    }

    public static Builder builder(NodeSecretKey nodeKey, Epoch epoch) {
        return new Builder(nodeKey, epoch);
    }

    public static final class Builder {
        private InetSocketAddress listenAddress = new InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 0);
        private InetSocketAddress publicAddress;
        private final NodeSecretKey nodeKey;
        private BlsSecretKey validatorKey;
        private final Epoch epoch;
        private LongFunction<Epoch> epochAt;
        private LongFunction<Optional<Epoch>> pendingEpoch;
        private final Map<NodePublicKey, InetSocketAddress> gossipStaticOutbound = new HashMap<>();
        private final Set<NodePublicKey> gossipStaticInbound = new HashSet<>();
        private int gossipDynamicInboundLimit = 100;
        private final Map<BlsPublicKey, InetSocketAddress> validatorAddresses = new HashMap<>();
        private RpcConfig rpc;
        private Duration ping = Duration.ofSeconds(10);
        private RpcConfig.Rate acceptRate;
        private int maxBlockSize = 2 * 1024 * 1024;
        private int maxTxSize = 128 * 1024;
        private int fetchWindow = 32;
        private Duration getBlockTimeout = Duration.ofSeconds(10);
        private Duration reconnectMin = Duration.ofMillis(200);
        private Duration reconnectMax = Duration.ofSeconds(20);
        private Duration announceInterval = Duration.ofMinutes(10);
        private int verifierThreads = Math.max(1, Runtime.getRuntime().availableProcessors());
        private Preface.Endpoint newestConsensusEndpoint = Preface.Endpoint.CONSENSUS_DUPLEX;

        private Builder(NodeSecretKey nodeKey, Epoch epoch) {
            this.nodeKey = nodeKey;
            this.epoch = epoch;
            // A burst of 10 made the 99 peers of a 100-validator network queue for ten seconds at start: beyond the
            // handshake timeout, so most failed and retried after a growing backoff (141 s to the first block).
            this.acceptRate =
                    new RpcConfig.Rate(Math.max(10, 2 * epoch.committee().size()), Duration.ofMillis(100));
        }

        /** The committee schedule beyond the starting epoch (by default, that epoch rules every block). */
        public Builder schedule(LongFunction<Epoch> epochAt, LongFunction<Optional<Epoch>> pendingEpoch) {
            this.epochAt = epochAt;
            this.pendingEpoch = pendingEpoch;
            return this;
        }

        public Builder listen(InetSocketAddress a) {
            listenAddress = a;
            return this;
        }

        public Builder publicAddress(InetSocketAddress a) {
            publicAddress = a;
            return this;
        }

        public Builder validatorKey(BlsSecretKey k) {
            validatorKey = k;
            return this;
        }

        public Builder gossipStaticOutbound(NodePublicKey k, InetSocketAddress a) {
            gossipStaticOutbound.put(k, a);
            return this;
        }

        public Builder gossipStaticInbound(NodePublicKey k) {
            gossipStaticInbound.add(k);
            return this;
        }

        public Builder gossipDynamicInboundLimit(int n) {
            gossipDynamicInboundLimit = n;
            return this;
        }

        public Builder validatorAddress(BlsPublicKey k, InetSocketAddress a) {
            validatorAddresses.put(k, a);
            return this;
        }

        public Builder rpc(RpcConfig r) {
            rpc = r;
            return this;
        }
        /** Null disables pings. */
        public Builder ping(Duration d) {
            ping = d;
            return this;
        }

        public Builder acceptRate(RpcConfig.Rate r) {
            acceptRate = r;
            return this;
        }

        public Builder maxBlockSize(int n) {
            maxBlockSize = n;
            return this;
        }

        public Builder maxTxSize(int n) {
            maxTxSize = n;
            return this;
        }

        public Builder fetchWindow(int n) {
            fetchWindow = n;
            return this;
        }

        public Builder getBlockTimeout(Duration d) {
            getBlockTimeout = d;
            return this;
        }

        public Builder reconnect(Duration min, Duration max) {
            reconnectMin = min;
            reconnectMax = max;
            return this;
        }

        public Builder announceInterval(Duration d) {
            announceInterval = d;
            return this;
        }

        /** See {@link NetworkConfig#newestConsensusEndpoint}. */
        Builder newestConsensusEndpoint(Preface.Endpoint endpoint) {
            if (endpoint == Preface.Endpoint.GOSSIP) {
                throw new IllegalArgumentException("not a consensus endpoint: " + endpoint);
            }
            newestConsensusEndpoint = endpoint;
            return this;
        }

        public Builder verifierThreads(int n) {
            verifierThreads = n;
            return this;
        }

        public NetworkConfig build() {
            if (fetchWindow < 1 || verifierThreads < 1 || gossipDynamicInboundLimit < 0) {
                throw new IllegalArgumentException(
                        "fetchWindow and verifierThreads must be positive, the inbound limit not negative");
            }
            return new NetworkConfig(this);
        }
    }
}
