package dev.tally.cli;

import dev.tally.node.config.NodeConfig;
import dev.tally.node.embed.TallyNode;
import dev.tally.node.executor.NodeFailedException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
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
            "Logs go to stdout and to <data>/logs/tally.log, or only to --log-file; files roll daily and at 50 MB."
        })
final class NodeCommand implements Callable<Integer> {
    @Option(names = "--config", required = true, paramLabel = "FILE", description = "The node's JSON config.")
    Path config;

    @Option(
            names = "--log-format",
            paramLabel = "FORMAT",
            defaultValue = "text",
            description = "text (dated lines) or json (one JSON object per line); default: ${DEFAULT-VALUE}.")
    String logFormat;

    @Option(
            names = "--log-level",
            paramLabel = "LEVEL",
            defaultValue = "info",
            description = "error, warn, info, debug or trace; default: ${DEFAULT-VALUE}.")
    String logLevel;

    @Option(
            names = "--log-file",
            paramLabel = "FILE",
            description = "Log to this file only (rotated), not to stdout and <data>/logs.")
    Path logFile;

    @Option(
            names = "--app",
            paramLabel = "NAME",
            description = "Run this application on the chain: kvstore (the replicated key-value store example).")
    String app;

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
        NodeLogging.Format format = NodeLogging.format(logFormat);
        ch.qos.logback.classic.Level level = NodeLogging.level(logLevel);
        NodeConfig cfg = NodeStartup.readConfig(config);
        boolean inMemory = store != null && store.inMemory;
        Path dataDir = store != null && store.data != null ? store.data : NodeStartup.defaultDataDir(config);
        Optional<Path> file = logFile != null || inMemory
                ? Optional.ofNullable(logFile)
                : Optional.of(dataDir.resolve("logs").resolve("tally.log"));
        if (file.isPresent()) {
            Path dir = file.get().toAbsolutePath().getParent();
            try {
                Files.createDirectories(dir);
            } catch (IOException e) {
                throw new BadInputException("cannot create the log directory " + dir + ": " + e.getMessage());
            }
        }
        NodeLogging.configure(format, level, logFile == null, file);
        Logger log = LoggerFactory.getLogger(NodeCommand.class);
        TallyNode node = NodeStartup.start(cfg, dataDir, inMemory, NodeStartup.application(app, dataDir, inMemory));
        CountDownLatch stopLogged = new CountDownLatch(1);
        Thread hook = new Thread(
                () -> {
                    log.info("stopping (signal)");
                    node.close();
                    // The JVM halts once this hook returns: let the main thread log the stop first.
                    try {
                        stopLogged.await(5, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
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
            stopLogged.countDown();
        }
    }
}
