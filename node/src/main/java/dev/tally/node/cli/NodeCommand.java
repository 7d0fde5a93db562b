package dev.tally.node.cli;

import dev.tally.node.config.ConfigException;
import dev.tally.node.config.NodeConfig;
import dev.tally.node.config.NodeConfigJson;
import dev.tally.node.debug.DebugPage;
import dev.tally.node.executor.Node;
import dev.tally.node.executor.NodeFailedException;
import dev.tally.node.rpc.RpcMethods;
import dev.tally.node.rpc.RpcServer;
import dev.tally.storage.InMemoryStorage;
import dev.tally.storage.RocksStorage;
import dev.tally.storage.Storage;
import dev.tally.storage.StorageException;
import dev.tally.storage.execution.MempoolExecutionLayer;
import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "node", mixinStandardHelpOptions = true,
        description = {"Runs a node (a validator when its config has a validator_key, else a full node) until SIGTERM or Ctrl-C.",
            "Logs go to stdout and to <data>/logs/tally.log (rotated)."})
final class NodeCommand implements Callable<Integer> {
    @Option(names = "--config", required = true, paramLabel = "FILE", description = "The node's JSON config.")
    Path config;

    @ArgGroup(exclusive = true)
    Store store;

    static final class Store {
        @Option(names = "--data", paramLabel = "DIR", description = "Where to keep blocks, replica state (RocksDB) and logs; default: the config's directory + /data.")
        Path data;

        @Option(names = "--in-memory", description = "Keep everything in memory (lost when the node stops); logs only to stdout.")
        boolean inMemory;
    }

    @Override
    public Integer call() throws BadInputException, InterruptedException {
        NodeConfig cfg;
        try {
            cfg = NodeConfigJson.read(config, System.getenv());
        } catch (ConfigException e) {
            throw new BadInputException(config + ": " + e.getMessage());
        }
        boolean inMemory = store != null && store.inMemory;
        Path dataDir = store != null && store.data != null ? store.data : config.toAbsolutePath().getParent().resolve("data");
        if (!inMemory) {
            try {
                Files.createDirectories(dataDir.resolve("logs"));
            } catch (IOException e) {
                throw new BadInputException("cannot create the data directory " + dataDir + ": " + e.getMessage());
            }
            NodeLogging.logToFile(dataDir.resolve("logs"));
        }
        Logger log = LoggerFactory.getLogger(NodeCommand.class);
        Storage storage;
        try {
            storage = inMemory ? InMemoryStorage.create(cfg.genesis()) : RocksStorage.open(dataDir.resolve("db"), cfg.genesis());
        } catch (StorageException e) {
            throw new BadInputException("storage: " + e.getMessage());
        }
        Node node;
        try {
            node = Node.start(cfg, storage, new MempoolExecutionLayer(storage, cfg.genesis(), cfg.maxTxSize(), MempoolExecutionLayer.DEFAULT_MEMPOOL_CAPACITY, cfg.schedule()));
        } catch (IOException | IllegalArgumentException e) {
            storage.close();
            throw new BadInputException("cannot start the node: " + e.getMessage());
        }
        Thread hook = new Thread(() -> {
            log.info("stopping (signal)");
            node.close();
        }, "shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            startServers(node, cfg);
            node.awaitTermination();
            log.info("node stopped");
            return 0;
        } catch (NodeFailedException e) {
            log.error("node stopped: {}", e.getMessage());
            return 1;
        } finally {
            node.close();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException e) {
                // the JVM is shutting down: the hook is what stopped the node
            }
        }
    }

    /** RPC, metrics and the debug page, on the addresses the config gives; each closes with the node. */
    private static void startServers(Node node, NodeConfig cfg) throws BadInputException {
        if (cfg.rpcAddr().isPresent()) {
            node.attach(bind("rpc_addr", cfg.rpcAddr().get(), a -> RpcServer.start(a, new RpcMethods(node), node.metrics())));
        }
        if (cfg.metricsAddr().isPresent()) {
            node.attach(bind("metrics_addr", cfg.metricsAddr().get(), a -> {
                HTTPServer metrics = HTTPServer.builder().inetAddress(a.getAddress()).port(a.getPort())
                        .registry(node.metrics().registry()).executorService(Executors.newVirtualThreadPerTaskExecutor())
                        .buildAndStart();
                LoggerFactory.getLogger(NodeCommand.class).info("metrics on http://{}:{}/metrics", a.getAddress().getHostAddress(),
                        metrics.getPort());
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

    /** Starts a server; a failure (e.g. the port is taken) names the config field. */
    private static AutoCloseable bind(String field, InetSocketAddress address, Server server) throws BadInputException {
        try {
            return server.start(address);
        } catch (IOException e) {
            throw new BadInputException(field + " " + address + ": " + e.getMessage());
        }
    }
}
