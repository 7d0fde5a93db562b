package dev.tally.node.executor;

import dev.tally.consensus.ConsensusConfig;
import dev.tally.execution.ApplicationExecutionLayer;
import dev.tally.execution.ExecutionLayer;
import dev.tally.execution.MempoolExecutionLayer;
import dev.tally.execution.TransactionResult;
import dev.tally.network.Network;
import dev.tally.network.NetworkConfig;
import dev.tally.network.TransactionSink;
import dev.tally.node.config.NodeConfig;
import dev.tally.node.metrics.NodeMetrics;
import dev.tally.protocol.Epoch;
import dev.tally.protocol.FinalBlock;
import dev.tally.protocol.Genesis;
import dev.tally.storage.RocksStorage;
import dev.tally.storage.Storage;
import java.io.File;
import java.io.IOException;
import java.net.BindException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
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
    /**
     * Whether the replica checks its own invariants after every step: on, unless the JVM runs with
     * {@code -Dtally.check_invariants=false} (e.g. in TALLY_JAVA_OPTS). It costs far less than a step's signature checks.
     */
    private static final boolean CHECK_INVARIANTS = !"false".equals(System.getProperty("tally.check_invariants"));

    private final NodeConfig config;
    private final Storage storage;
    private final ExecutionLayer execution;
    private volatile Epoch epoch;
    private final NodeMetrics metrics;
    private final Scope scope = new Scope();
    private final BlockPipeline blocks;
    private final Network network;
    /** The replica of the current epoch; null on a full node and while this validator is outside the committee. */
    private final AtomicReference<ReplicaLoop> replica = new AtomicReference<>();

    private final Semaphore blocksChanged = new Semaphore(0);
    private final ProgressWatch progress;
    private final HealthCheck health;

    private Node(NodeConfig config, Storage storage, ExecutionLayer execution, NodeMetrics metrics) throws IOException {
        this.config = config;
        this.storage = storage;
        this.execution = execution;
        this.metrics = metrics;
        scope.onShutdown(this::closeStorage);
        // Block sync's thread is no task of the scope, and stopping the scope closes the network that owns it.
        this.blocks = new BlockPipeline(
                execution, storage, metrics, e -> Thread.ofVirtual().start(() -> scope.fail("application", e)));
        this.epoch = execution.epochAt(blocks.persisted().last() + 1);
        // Checked before the network starts: the validator key must be in the committee of some epoch.
        Optional<ConsensusConfig> consensus = consensusConfig(epoch);
        if (consensus.isEmpty() && config.validatorKey().isPresent()) {
            requireInSomeCommittee(config.validatorKey().get().publicKey());
            log.info(
                    "validator {} is not in the committee of epoch {}: it runs as a full node while it is not",
                    config.validatorKey().get().publicKey(),
                    epoch.number());
        }
        try {
            this.network = Network.start(networkConfig(config, epoch, execution), blocks, blocks, new MempoolSink());
        } catch (BindException e) {
            throw new BindException("server_addr " + config.serverAddr() + ": " + e.getMessage());
        }
        scope.onShutdown(network::close);
        try {
            metrics.watch(network);
            metrics.watchIntegrity(storage);
            metrics.watchSyncs(storage);
            metrics.epoch(epoch.number());
            blocks.addListener(range -> network.gossip().notifyBlocksChanged());
            blocks.holdBlocksAheadOfGapIn(network.gossip()::holdAheadOfGap);
            blocks.addListener(range -> {
                ReplicaLoop loop = replica.get();
                if (loop != null) {
                    loop.blocksPersisted(range);
                }
                blocksChanged.release();
            });
            if (consensus.isPresent()) {
                // Reads the persisted replica state, which may be refused (e.g. a later epoch's).
                replica.set(newReplicaLoop(consensus.get()));
            }
            this.progress = new ProgressWatch(
                    () -> Optional.ofNullable(replica.get()), blocks, network, () -> this.epoch, config.viewTimeout());
            this.health = new HealthCheck(
                    blocks, network, progress, storage, config.viewTimeout().toMillis());
            if (execution instanceof MempoolExecutionLayer mempool) {
                metrics.watchMempool(mempool);
            }
            if (execution instanceof ApplicationExecutionLayer app) {
                metrics.watchMempool(app.mempool());
                metrics.watchApplication(app);
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
        Optional.ofNullable(node.replica.get()).ifPresent(node::startReplica);
        node.scope.fork("epochs", node::followEpochs);
        node.scope.fork("progress-watch", node.progress::run);
        node.scope.fork("pruning", node::prune);
        if (storage instanceof RocksStorage rocks) {
            node.metrics.watchDisk(rocks.directory());
            node.scope.fork("disk-watch", () -> watchDisk(rocks.directory()));
        }
        return node;
    }

    private ReplicaLoop newReplicaLoop(ConsensusConfig consensus) {
        return new ReplicaLoop(
                consensus,
                storage,
                execution,
                network,
                blocks,
                metrics,
                scope,
                config.emptyBlockInterval(),
                config.proposalPayloadSize());
    }

    private void startReplica(ReplicaLoop loop) {
        scope.fork("replica e" + loop.epoch().number(), loop::run);
        scope.fork("replica-inbox e" + loop.epoch().number(), loop::forwardInbox);
    }

    /** The replica's config in {@code e}, if this node has a validator key in its committee. */
    private Optional<ConsensusConfig> consensusConfig(Epoch e) {
        return config.validatorKey()
                .filter(key -> e.committee().contains(key.publicKey()))
                .map(key -> new ConsensusConfig(key, e, config.viewTimeout().toMillis(), config.maxPayloadSize())
                        .withInvariantChecks(CHECK_INVARIANTS));
    }

    /** Refuses a validator key that no epoch of the schedule (from the genesis on) has in its committee. */
    private void requireInSomeCommittee(dev.tally.crypto.BlsPublicKey key) {
        Epoch e = execution.epochAt(execution.genesis().firstBlock());
        while (true) {
            if (e.committee().contains(key)) {
                return;
            }
            Optional<Epoch> next = execution.pendingEpoch(e.firstBlock());
            if (next.isEmpty()) {
                throw new IllegalArgumentException("validator key " + key.toText()
                        + " is not in the committee of any epoch (now epoch " + epoch.number() + ")");
            }
            e = next.get();
        }
    }

    /**
     * Switches committees: once the last block of the current epoch is stored (so the next block is the first of a
     * later epoch), stops the replica of the old epoch, moves the network to the new committee, and starts a replica
     * for the new epoch if this validator is in it (from its persisted state if that is already of the new epoch,
     * else from the initial state). A validator that left runs on as a full node.
     */
    private void followEpochs() throws InterruptedException {
        while (true) {
            blocksChanged.tryAcquire(1, TimeUnit.SECONDS);
            blocksChanged.drainPermits();
            Epoch next = execution.epochAt(blocks.persisted().last() + 1);
            if (next.number() <= epoch.number()) {
                continue;
            }
            Epoch old = epoch;
            ReplicaLoop oldLoop = replica.getAndSet(null);
            if (oldLoop != null) {
                oldLoop.stop();
            }
            epoch = next;
            network.switchEpoch(next);
            metrics.epoch(next.number());
            Optional<ConsensusConfig> consensus = consensusConfig(next);
            log.info(
                    "epoch {} -> {} at block {}: {} validators; this node is {}",
                    old.number(),
                    next.number(),
                    next.firstBlock(),
                    next.committee().size(),
                    consensus.isPresent() ? "a validator" : "a full node");
            if (consensus.isPresent()) {
                ReplicaLoop loop = newReplicaLoop(consensus.get());
                replica.set(loop);
                startReplica(loop);
                loop.blocksPersisted(blocks.persisted());
            }
        }
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

    /** The newest final block stored (held in memory: no read of the store while it stays the newest). */
    public Optional<FinalBlock> newestBlock() {
        return blocks.newest();
    }

    /**
     * A stored final block ({@link #newestBlock} from memory, any other read from the store and checked); empty when
     * it is not stored, or its stored copy is damaged.
     */
    public Optional<FinalBlock> block(long number) {
        return blocks.block(number);
    }

    /**
     * Waits until final block {@code number} is stored, for at most {@code wait}; whether it is (or was: it may have
     * been pruned since). A reader that follows the chain learns of each block the moment it is stored.
     */
    public boolean awaitBlock(long number, Duration wait) throws InterruptedException {
        return blocks.awaitStored(number, wait);
    }

    /** The replica's position; empty on a full node (or a validator outside the current committee). */
    public Optional<ReplicaStatus> replicaStatus() {
        return Optional.ofNullable(replica.get()).map(ReplicaLoop::status);
    }

    /** The node's health: ok, catching up, stalled or degraded, with the reason and the facts behind it. */
    public NodeHealth health() {
        return health.check();
    }

    /** A client's transaction: into the mempool and, if it takes it, to every gossip peer. */
    public TransactionSink.Result submitTransaction(byte[] tx) {
        return network.gossip().submitTransaction(tx);
    }

    /** A client's batch: one mempool call, the results in order; the accepted ones go on to every gossip peer. */
    public List<TransactionSink.Result> submitTransactions(List<byte[]> txs) {
        return network.gossip().submitTransactions(txs);
    }

    /** The mempool as gossip sees it; a gossip batch reaches the execution layer as one batch. */
    private final class MempoolSink implements TransactionSink {
        @Override
        public Result push(byte[] tx) {
            return result(execution.pushTransaction(tx));
        }

        @Override
        public List<Result> pushAll(List<byte[]> txs) {
            return execution.pushTransactions(txs).stream().map(this::result).toList();
        }

        private Result result(TransactionResult r) {
            metrics.transactionReceived(r);
            return switch (r) {
                case TransactionResult.Accepted a -> Result.ACCEPTED;
                case TransactionResult.Duplicate d -> Result.DUPLICATE;
                case TransactionResult.Rejected rej ->
                    rej.kind().equals(TransactionResult.Rejected.MEMPOOL_FULL)
                            ? new Result.Overloaded(rej.reason())
                            : new Result.Rejected(rej.reason());
            };
        }
    }

    /** Space below which the disk warning fires: 1 GiB, or 2 % of the file system if that is less. */
    private static final long LOW_DISK_BYTES = 1L << 30;

    /** The free space on {@code fs} below which the node warns and reports itself degraded. */
    static long lowDiskThreshold(File fs) {
        return Math.min(LOW_DISK_BYTES, fs.getTotalSpace() / 50);
    }

    /**
     * Warns (once a minute while it lasts) when the data directory's disk runs low: RocksDB's preallocated log lets
     * a node write on for a while after the disk is full, so the node itself would notice only at its next start.
     */
    private static void watchDisk(Path dataDir) throws InterruptedException {
        long lastWarning = 0;
        while (true) {
            File fs = dataDir.toFile();
            long free = fs.getUsableSpace();
            if (free < lowDiskThreshold(fs) && System.nanoTime() - lastWarning > 60_000_000_000L) {
                log.warn(
                        "data directory {}: only {} MB free on its disk; a full disk stops the node at its next start",
                        dataDir,
                        free >> 20);
                lastWarning = System.nanoTime();
            }
            Thread.sleep(10_000);
        }
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

    static NetworkConfig networkConfig(NodeConfig c, Epoch epoch, ExecutionLayer execution) {
        NetworkConfig.Builder b = NetworkConfig.builder(c.nodeKey(), epoch)
                .schedule(execution::epochAt, execution::pendingEpoch)
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
