package dev.tally.cli;

import dev.tally.examples.kvstore.KvLoad;
import dev.tally.examples.kvstore.KvStore;
import dev.tally.execution.Application;
import dev.tally.node.config.ConfigException;
import dev.tally.node.config.NodeConfig;
import dev.tally.node.config.NodeConfigJson;
import dev.tally.node.embed.NodeStartException;
import dev.tally.node.embed.TallyNode;
import dev.tally.node.executor.Node;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.LongFunction;

/**
 * How a node process starts a node from its config, through {@link TallyNode} as an embedder would: storage (RocksDB
 * in the data directory, or in memory), the mempool (and an application, if one is named), the executor, then the
 * RPC, metrics and debug-page servers the config names. Shared by {@code tally node} (one node) and
 * {@code tally bench-host} (several nodes in one JVM).
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

    /** Starts the node of {@code cfg} with its servers and no application, as {@link #start(NodeConfig, Path, boolean, Optional)}. */
    static Node start(NodeConfig cfg, Path dataDir, boolean inMemory) throws BadInputException {
        return start(cfg, dataDir, inMemory, Optional.empty()).node();
    }

    /**
     * Starts the node of {@code cfg} with its servers and {@code application}, the way an embedder does
     * ({@link TallyNode}); RocksDB lives in {@code dataDir}/db unless {@code inMemory}. On failure nothing is left open.
     */
    static TallyNode start(NodeConfig cfg, Path dataDir, boolean inMemory, Optional<Application> application)
            throws BadInputException {
        TallyNode.Builder b = TallyNode.builder(cfg);
        application.ifPresent(b::application);
        if (!inMemory) {
            b.dataDir(dataDir);
        }
        try {
            return b.start();
        } catch (NodeStartException e) {
            if (application.isPresent() && application.get() instanceof AutoCloseable c) {
                try {
                    c.close();
                } catch (Exception closing) {
                    e.addSuppressed(closing);
                }
            }
            throw new BadInputException(e.getMessage());
        }
    }

    /** The applications {@code --app} names. */
    static final List<String> APPS = List.of("kvstore");

    private static void requireKnown(String app) throws BadInputException {
        if (!APPS.contains(app)) {
            throw new BadInputException("--app " + app + ": no such application; applications: " + APPS);
        }
    }

    /**
     * The transactions that load a chain of application {@code name} ({@code localnet --tx-rate}), by number:
     * transactions the application takes (for kvstore, {@code set} writes), or random 100-byte ones without an
     * application.
     */
    static LongFunction<byte[]> loadTransactions(String name) throws BadInputException {
        if (name == null) {
            return n -> {
                byte[] tx = new byte[100];
                ThreadLocalRandom.current().nextBytes(tx);
                return tx;
            };
        }
        requireKnown(name);
        return KvLoad.writes(ThreadLocalRandom.current().nextLong());
    }

    /**
     * The application named {@code name} (one of {@link #APPS}), its state in {@code dataDir}/{@code name}; none for
     * null.
     */
    static Optional<Application> application(String name, Path dataDir, boolean inMemory) throws BadInputException {
        if (name == null) {
            return Optional.empty();
        }
        requireKnown(name);
        if (inMemory) {
            throw new BadInputException("--app " + name + " keeps its state on disk: use --data, not --in-memory");
        }
        try {
            return Optional.of(KvStore.open(dataDir.resolve(name)));
        } catch (IllegalStateException e) {
            throw new BadInputException(e.getMessage());
        }
    }
}
