package dev.tally.cli;

import dev.tally.node.config.NodeConfig;
import dev.tally.node.executor.Node;
import dev.tally.node.executor.NodeFailedException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
        name = "node",
        mixinStandardHelpOptions = true,
        description = {
            "Runs a node (a validator when its config has a validator_key, else a full node) until SIGTERM or Ctrl-C.",
            "Logs go to stdout and to <data>/logs/tally.log (rotated)."
        })
final class NodeCommand implements Callable<Integer> {
    @Option(names = "--config", required = true, paramLabel = "FILE", description = "The node's JSON config.")
    Path config;

    @ArgGroup(exclusive = true)
    Store store;

    static final class Store {
        @Option(
                names = "--data",
                paramLabel = "DIR",
                description =
                        "Where to keep blocks, replica state (RocksDB) and logs; default: the config's directory + /data.")
        Path data;

        @Option(
                names = "--in-memory",
                description = "Keep everything in memory (lost when the node stops); logs only to stdout.")
        boolean inMemory;
    }

    @Override
    public Integer call() throws BadInputException, InterruptedException {
        NodeConfig cfg = NodeStartup.readConfig(config);
        boolean inMemory = store != null && store.inMemory;
        Path dataDir = store != null && store.data != null ? store.data : NodeStartup.defaultDataDir(config);
        if (!inMemory) {
            try {
                Files.createDirectories(dataDir.resolve("logs"));
            } catch (IOException e) {
                throw new BadInputException("cannot create the data directory " + dataDir + ": " + e.getMessage());
            }
            NodeLogging.logToFile(dataDir.resolve("logs"));
        }
        Logger log = LoggerFactory.getLogger(NodeCommand.class);
        Node node = NodeStartup.start(cfg, dataDir, inMemory);
        Thread hook = new Thread(
                () -> {
                    log.info("stopping (signal)");
                    node.close();
                },
                "shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
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
}
