package dev.tally.node.executor;

import dev.tally.consensus.ConsensusConfig;
import dev.tally.network.Network;
import dev.tally.network.NetworkConfig;
import dev.tally.network.TransactionSink;
import dev.tally.node.config.NodeConfig;
import dev.tally.node.metrics.NodeMetrics;
import dev.tally.protocol.Epoch;
import dev.tally.protocol.Genesis;
import dev.tally.storage.Storage;
import dev.tally.storage.execution.ExecutionLayer;
import dev.tally.storage.execution.TransactionResult;
import java.io.IOException;
import java.net.BindException;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running node: storage and execution layer, network, and on validators the replica loop, as tasks of one
 * {@link Scope}. The first task to fail stops the node with its error; {@link #close} stops it cleanly: the tasks
 * first, then the servers, the network, and storage last.
 */
public final class Node implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Node.class);
    /** Room in a block for its commit QC beside the payload. */
    private static final int BLOCK_OVERHEAD = 64 * 1024;

    private final NodeConfig config;
    private final Storage storage;
    private final ExecutionLayer execution;
    private final Epoch epoch;
    private final NodeMetrics metrics;
    private final Scope scope = new Scope();
    private final BlockPipeline blocks;
    private final Network network;
    private final Optional<ReplicaLoop> replica;

    private Node(NodeConfig config, Storage storage, ExecutionLayer execution, NodeMetrics metrics) throws IOException {
        this.config = config;
        this.storage = storage;
        this.execution = execution;
        this.metrics = metrics;
        scope.onShutdown(this::closeStorage);
        this.blocks = new BlockPipeline(execution, metrics);
        this.epoch = execution.epochAt(blocks.persisted().last() + 1);
        // Checked before the network starts: the validator key must be in the committee.
        Optional<ConsensusConfig> consensus = config.validatorKey().map(key -> new ConsensusConfig(key, epoch,
                config.viewTimeout().toMillis(), config.maxPayloadSize()));
        try {
            this.network = Network.start(networkConfig(config, epoch), blocks, blocks, this::pushToMempool);
        } catch (BindException e) {
            throw new BindException("server_addr " + config.serverAddr() + ": " + e.getMessage());
        }
        scope.onShutdown(network::close);
        try {
            metrics.watch(network);
            blocks.addListener(range -> network.gossip().notifyBlocksChanged());
            if (consensus.isPresent()) {
                // Reads the persisted replica state, which may be refused (e.g. another epoch's).
                ReplicaLoop loop = new ReplicaLoop(consensus.get(), storage, execution, network, blocks, metrics, scope);
                blocks.addListener(loop::blocksPersisted);
                this.replica = Optional.of(loop);
            } else {
                this.replica = Optional.empty();
            }
        } catch (RuntimeException e) {
            network.close();
            throw e;
        }
    }

    /**
     * Starts a node on open storage and its execution layer; the node closes the storage when it stops. If it cannot
     * start (a port taken, a validator key outside the committee, a persisted state it refuses), it throws and leaves
     * the storage open to the caller.
     */
    public static Node start(NodeConfig config, Storage storage, ExecutionLayer execution) throws IOException {
        Node node = new Node(config, storage, execution, new NodeMetrics());
        log.info("node starting: {}, blocks stored: {}", config, node.blocks.persisted());
        node.replica.ifPresent(loop -> {
            node.scope.fork("replica", loop::run);
            node.scope.fork("replica-inbox", loop::forwardInbox);
        });
        node.scope.fork("progress-watch", new ProgressWatch(node.replica, node.blocks, node.network, node.epoch,
                node.config.viewTimeout())::run);
        node.scope.fork("pruning", node::prune);
        return node;
    }

    /** Starts a server as part of the node: it is closed when the node stops. */
    public void attach(AutoCloseable server) {
        scope.onShutdown(() -> {
            try {
                server.close();
            } catch (Exception e) {
                log.warn("closing {}: {}", server, e.toString());
            }
        });
    }

    /** Waits until the node stops; throws the failure that stopped it, if one did. */
    public void awaitTermination() throws NodeFailedException, InterruptedException {
        scope.join();
    }

    /** Stops the node: tasks, servers, network, then storage. Idempotent. */
    @Override
    public void close() {
        scope.shutdown();
    }

    public NodeConfig config() {
        return config;
    }

    public Genesis genesis() {
        return execution.genesis();
    }

    public Epoch epoch() {
        return epoch;
    }

    public Network network() {
        return network;
    }

    public ExecutionLayer execution() {
        return execution;
    }

    public NodeMetrics metrics() {
        return metrics;
    }

    /** The final blocks stored. */
    public StoredRange storedBlocks() {
        return blocks.persisted();
    }

    /** The replica's position; empty on a full node. */
    public Optional<ReplicaStatus> replicaStatus() {
        return replica.map(ReplicaLoop::status);
    }

    /** A client's transaction: into the mempool and, if it takes it, to every gossip peer. */
    public TransactionSink.Result submitTransaction(byte[] tx) {
        return network.gossip().submitTransaction(tx);
    }

    private TransactionSink.Result pushToMempool(byte[] tx) {
        return switch (execution.pushTransaction(tx)) {
            case TransactionResult.Accepted a -> TransactionSink.Result.ACCEPTED;
            case TransactionResult.Duplicate d -> TransactionSink.Result.DUPLICATE;
            case TransactionResult.Rejected r -> new TransactionSink.Result.Rejected(r.reason());
        };
    }

    /** With a block retention, deletes blocks older than the newest {@code block_retention} once a minute. */
    private void prune() throws InterruptedException {
        if (config.blockRetention().isEmpty()) {
            return;
        }
        long keep = config.blockRetention().get();
        while (true) {
            Thread.sleep(60_000);
            StoredRange r = blocks.persisted();
            if (!r.isEmpty() && r.last() - r.first() + 1 > keep) {
                storage.pruneBelow(r.last() - keep + 1);
                log.info("pruned blocks below {}", r.last() - keep + 1);
                blocks.announce();
            }
        }
    }

    private void closeStorage() {
        storage.close();
        log.info("storage closed");
    }

    static NetworkConfig networkConfig(NodeConfig c, Epoch epoch) {
        NetworkConfig.Builder b = NetworkConfig.builder(c.nodeKey(), epoch)
                .listen(c.serverAddr())
                .publicAddress(c.publicAddr())
                .gossipDynamicInboundLimit(c.gossipDynamicInboundLimit())
                .maxBlockSize(c.maxPayloadSize() + BLOCK_OVERHEAD)
                .maxTxSize(c.maxTxSize());
        c.validatorKey().ifPresent(b::validatorKey);
        c.gossipStaticInbound().forEach(b::gossipStaticInbound);
        c.gossipStaticOutbound().forEach(b::gossipStaticOutbound);
        return b.build();
    }
}
