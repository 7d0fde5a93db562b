package dev.tally.cli;

import dev.tally.node.config.ConfigException;
import dev.tally.node.config.NodeConfig;
import dev.tally.node.config.NodeConfigJson;
import dev.tally.node.debug.DebugPage;
import dev.tally.node.executor.Node;
import dev.tally.node.metrics.MetricsServer;
import dev.tally.node.rpc.NodeHttp;
import dev.tally.node.rpc.RpcMethods;
import dev.tally.node.rpc.RpcServer;
import dev.tally.storage.InMemoryStorage;
import dev.tally.storage.RocksStorage;
import dev.tally.storage.Storage;
import dev.tally.storage.StorageException;
import dev.tally.storage.execution.MempoolExecutionLayer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import org.slf4j.LoggerFactory;

/**
 * How a node process starts a node from its config: storage (RocksDB in the data directory, or in memory), the
 * executor with the mempool execution layer, then the RPC, metrics and debug-page servers the config names. Shared
 * by {@code tally node} (one node) and {@code tally bench-host} (several nodes in one JVM).
 */
final class NodeStartup {
    private NodeStartup() {}

    /** Reads a node's JSON config (secrets may come from the environment); a bad one is bad input. */
    static NodeConfig readConfig(Path config) throws BadInputException {
        try {
            return NodeConfigJson.read(config, System.getenv());
        } catch (ConfigException e) {
            throw new BadInputException(config + ": " + e.getMessage());
        }
    }

    /** Where a node keeps its data unless told: the config's directory + /data. */
    static Path defaultDataDir(Path config) {
        return config.toAbsolutePath().getParent().resolve("data");
    }

    /**
     * Starts the node of {@code cfg} with its servers; RocksDB lives in {@code dataDir}/db unless {@code inMemory}.
     * On failure nothing is left open.
     */
    static Node start(NodeConfig cfg, Path dataDir, boolean inMemory) throws BadInputException {
        Storage storage;
        try {
            storage = inMemory
                    ? InMemoryStorage.create(cfg.genesis())
                    : RocksStorage.open(dataDir.resolve("db"), cfg.genesis());
        } catch (StorageException e) {
            throw new BadInputException("storage: " + e.getMessage());
        }
        Node node;
        try {
            node = Node.start(
                    cfg,
                    storage,
                    new MempoolExecutionLayer(
                            storage,
                            cfg.genesis(),
                            cfg.maxTxSize(),
                            MempoolExecutionLayer.DEFAULT_MEMPOOL_CAPACITY,
                            cfg.mempoolMaxBytes(),
                            cfg.schedule()));
        } catch (IOException | IllegalArgumentException e) {
            storage.close();
            throw new BadInputException("cannot start the node: " + e.getMessage());
        }
        try {
            startServers(node, cfg);
        } catch (BadInputException | RuntimeException e) {
            node.close();
            throw e;
        }
        return node;
    }

    /** RPC, metrics and the debug page, on the addresses the config gives; each closes with the node. */
    private static void startServers(Node node, NodeConfig cfg) throws BadInputException {
        if (cfg.rpcAddr().isPresent()) {
            node.attach(bind(
                    "rpc_addr",
                    cfg.rpcAddr().get(),
                    a -> RpcServer.start(a, cfg.rpcLimits(), new RpcMethods(node), node.metrics())));
        }
        if (cfg.metricsAddr().isPresent()) {
            node.attach(bind("metrics_addr", cfg.metricsAddr().get(), a -> {
                MetricsServer metrics = MetricsServer.start(a, node.metrics().registry());
                LoggerFactory.getLogger(NodeStartup.class)
                        .info("metrics on http://{}/metrics", NodeHttp.text(metrics.address()));
                return metrics;
            }));
        }
        if (cfg.debugPageAddr().isPresent()) {
            node.attach(bind("debug_page_addr", cfg.debugPageAddr().get(), a -> DebugPage.start(node, a)));
        }
    }

    private interface Server {
        AutoCloseable start(InetSocketAddress address) throws IOException;
    }

    /**
     * Starts a server; a failure (e.g. the port is taken) names the config field. None of these endpoints
     * authenticates its clients, so one reachable from other machines is worth a warning.
     */
    private static AutoCloseable bind(String field, InetSocketAddress address, Server server) throws BadInputException {
        if (!address.getAddress().isLoopbackAddress()) {
            LoggerFactory.getLogger(NodeStartup.class)
                    .warn(
                            "{} {} is reachable from other machines, and it has no authentication: bind it to"
                                    + " 127.0.0.1 or put it behind a proxy that authenticates",
                            field,
                            address);
        }
        try {
            return server.start(address);
        } catch (IOException e) {
            throw new BadInputException(field + " " + address + ": " + e.getMessage());
        }
    }
}
