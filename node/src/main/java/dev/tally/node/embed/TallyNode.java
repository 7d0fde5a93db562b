package dev.tally.node.embed;

import dev.tally.execution.Application;
import dev.tally.execution.ApplicationExecutionLayer;
import dev.tally.execution.ExecutionLayer;
import dev.tally.execution.MempoolExecutionLayer;
import dev.tally.network.TransactionSink;
import dev.tally.node.config.NodeConfig;
import dev.tally.node.debug.DebugPage;
import dev.tally.node.executor.Node;
import dev.tally.node.executor.NodeFailedException;
import dev.tally.node.metrics.MetricsServer;
import dev.tally.node.rpc.NodeHttp;
import dev.tally.node.rpc.RpcMethods;
import dev.tally.node.rpc.RpcServer;
import dev.tally.storage.InMemoryStorage;
import dev.tally.storage.RocksStorage;
import dev.tally.storage.Storage;
import dev.tally.storage.StorageException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A node started from Java: storage (RocksDB in {@code <data dir>/db}, or in memory), Tally's mempool with the
 * application on top (or the mempool alone), the executor, and the RPC, metrics and debug-page servers the config
 * names. A validator when the config has a validator key, else a full node.
 *
 * <pre>{@code
 * try (TallyNode node = TallyNode.builder(config).application(myApp).dataDir(dir).start()) {
 *     node.submitTransaction(tx);
 *     node.awaitTermination();
 * }
 * }</pre>
 *
 * Before the node joins the network, the stored blocks the application has not applied are applied (replay).
 * {@link #close} stops the node, then closes the application if it is {@link AutoCloseable}.
 */
public final class TallyNode implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(TallyNode.class);

    private final Node node;
    private final Optional<Application> application;
    private final Optional<InetSocketAddress> rpcAddress;

    private TallyNode(Node node, Optional<Application> application, Optional<InetSocketAddress> rpcAddress) {
        this.node = node;
        this.application = application;
        this.rpcAddress = rpcAddress;
    }

    public static Builder builder(NodeConfig config) {
        return new Builder(config);
    }

    /** What a node is started from. */
    public static final class Builder {
        private final NodeConfig config;
        private Optional<Application> application = Optional.empty();
        private Optional<Path> dataDir = Optional.empty();
        private boolean servers = true;

        private Builder(NodeConfig config) {
            this.config = Objects.requireNonNull(config, "config");
        }

        /** The application; without one the node orders opaque transactions and executes nothing. */
        public Builder application(Application app) {
            this.application = Optional.of(app);
            return this;
        }

        /** Where the node keeps its blocks and replica state; without one, in memory (lost when it stops). */
        public Builder dataDir(Path dir) {
            this.dataDir = Optional.of(dir);
            return this;
        }

        /** Whether to start the RPC, metrics and debug-page servers the config names; yes unless told. */
        public Builder servers(boolean start) {
            this.servers = start;
            return this;
        }

        /**
         * Opens storage, replays the stored blocks the application lacks, and starts the node and its servers. On
         * failure nothing is left open.
         */
        public TallyNode start() throws NodeStartException {
            Storage storage = openStorage();
            Node node;
            try {
                node = Node.start(config, storage, executionLayer(storage));
            } catch (IOException | RuntimeException e) {
                storage.close();
                throw new NodeStartException("cannot start the node: " + e.getMessage(), e);
            }
            Optional<InetSocketAddress> rpc = Optional.empty();
            try {
                if (servers) {
                    rpc = startServers(node, config);
                }
            } catch (NodeStartException | RuntimeException e) {
                node.close();
                throw e;
            }
            return new TallyNode(node, application, rpc);
        }

        private Storage openStorage() throws NodeStartException {
            try {
                return dataDir.isEmpty()
                        ? InMemoryStorage.create(config.genesis())
                        : RocksStorage.open(dataDir.get().resolve("db"), config.genesis());
            } catch (StorageException e) {
                throw new NodeStartException("storage: " + e.getMessage(), e);
            }
        }

        private ExecutionLayer executionLayer(Storage storage) {
            MempoolExecutionLayer mempool = new MempoolExecutionLayer(
                    storage,
                    config.genesis(),
                    config.maxTxSize(),
                    MempoolExecutionLayer.DEFAULT_MEMPOOL_CAPACITY,
                    config.mempoolMaxBytes(),
                    config.schedule());
            if (application.isEmpty()) {
                return mempool;
            }
            ApplicationExecutionLayer app = new ApplicationExecutionLayer(mempool, application.get());
            app.replay();
            return app;
        }
    }

    /** The running node. */
    public Node node() {
        return node;
    }

    /**
     * Where the RPC server listens, as bound: the config's {@code rpc_addr} with its port resolved (so port 0 works).
     * Empty when the config names no RPC address or the node was started without servers.
     */
    public Optional<InetSocketAddress> rpcAddress() {
        return rpcAddress;
    }

    /** A client's transaction: checked by the application, into the mempool, and on to every peer. */
    public TransactionSink.Result submitTransaction(byte[] tx) {
        return node.submitTransaction(tx);
    }

    /** Waits until the node stops; throws the failure that stopped it, if one did (e.g. a block that failed to apply). */
    public void awaitTermination() throws NodeFailedException, InterruptedException {
        node.awaitTermination();
    }

    /** Stops the node, then closes the application if it is closeable. Idempotent. */
    @Override
    public void close() {
        node.close();
        if (application.isPresent() && application.get() instanceof AutoCloseable c) {
            try {
                c.close();
            } catch (Exception e) {
                log.warn("closing the application: {}", e.toString());
            }
        }
    }

    /**
     * RPC, metrics and the debug page, on the addresses the config gives; each closes with the node. Returns the RPC
     * server's address, if it started one.
     */
    private static Optional<InetSocketAddress> startServers(Node node, NodeConfig cfg) throws NodeStartException {
        Optional<InetSocketAddress> rpc = Optional.empty();
        if (cfg.rpcAddr().isPresent()) {
            RpcServer server = bind(
                    "rpc_addr",
                    cfg.rpcAddr().get(),
                    a -> RpcServer.start(a, cfg.rpcLimits(), new RpcMethods(node), node.metrics()));
            node.attach(server);
            rpc = Optional.of(server.address());
        }
        if (cfg.metricsAddr().isPresent()) {
            node.attach(bind("metrics_addr", cfg.metricsAddr().get(), a -> {
                MetricsServer metrics = MetricsServer.start(a, node.metrics().registry());
                log.info("metrics on http://{}/metrics", NodeHttp.text(metrics.address()));
                return metrics;
            }));
        }
        if (cfg.debugPageAddr().isPresent()) {
            node.attach(bind("debug_page_addr", cfg.debugPageAddr().get(), a -> DebugPage.start(node, a)));
        }
        return rpc;
    }

    private interface Server<S extends AutoCloseable> {
        S start(InetSocketAddress address) throws IOException;
    }

    /**
     * Starts a server; a failure (e.g. the port is taken) names the config field. None of these endpoints
     * authenticates its clients, so one reachable from other machines is worth a warning.
     */
    private static <S extends AutoCloseable> S bind(String field, InetSocketAddress address, Server<S> server)
            throws NodeStartException {
        if (!address.getAddress().isLoopbackAddress()) {
            log.warn(
                    "{} {} is reachable from other machines, and it has no authentication: bind it to"
                            + " 127.0.0.1 or put it behind a proxy that authenticates",
                    field,
                    address);
        }
        try {
            return server.start(address);
        } catch (IOException e) {
            throw new NodeStartException(field + " " + address + ": " + e.getMessage(), e);
        }
    }
}
