package dev.tally.cli;

import dev.tally.node.config.NodeConfig;
import dev.tally.node.executor.Node;
import dev.tally.node.executor.NodeFailedException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code tally bench-host}: the child process of {@code tally bench --in-process --jvms K}. It runs several nodes in
 * one JVM, each started as {@code tally node} starts it (its own storage, ports, RPC, metrics and debug page), until
 * SIGTERM; when one node fails it stops the others and exits 1, so that the benchmark sees the failure.
 */
@Command(
        name = "bench-host",
        hidden = true,
        mixinStandardHelpOptions = true,
        description = {
            "Internal to `tally bench --in-process --jvms K`: runs the nodes of several configs in this JVM, each "
                    + "as `tally node --config FILE` would, until SIGTERM or Ctrl-C; exits 1 as soon as one of them fails.",
            "The nodes' logs, mixed, go to stdout only."
        })
final class BenchHostCommand implements Callable<Integer> {
    private static final Logger log = LoggerFactory.getLogger(BenchHostCommand.class);

    @Option(
            names = "--config",
            required = true,
            paramLabel = "FILE",
            description = "A node's JSON config, repeatable; its data goes to the config's directory + /data.")
    List<Path> configs;

    @Option(names = "--in-memory", description = "Keep every node's blocks and state in memory instead of RocksDB.")
    boolean inMemory;

    @Override
    public Integer call() throws BadInputException, InterruptedException {
        List<NodeConfig> cfgs = new ArrayList<>();
        for (Path config : configs) {
            cfgs.add(NodeStartup.readConfig(config));
        }
        List<Node> nodes = new CopyOnWriteArrayList<>();
        Thread hook = new Thread(
                () -> {
                    log.info("stopping {} nodes (signal)", nodes.size());
                    closeAll(nodes);
                },
                "shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            for (int i = 0; i < cfgs.size(); i++) {
                nodes.add(NodeStartup.start(cfgs.get(i), NodeStartup.defaultDataDir(configs.get(i)), inMemory));
                log.info("{} started ({} of {} in this JVM)", name(configs.get(i)), i + 1, cfgs.size());
            }
            // The first node to stop decides: a failure, or the signal (which stops them all).
            BlockingQueue<Optional<String>> ended = new LinkedBlockingQueue<>();
            for (int i = 0; i < nodes.size(); i++) {
                Node node = nodes.get(i);
                String name = name(configs.get(i));
                Thread.ofVirtual().name("await " + name).start(() -> {
                    try {
                        node.awaitTermination();
                        ended.add(Optional.empty());
                    } catch (NodeFailedException e) {
                        ended.add(Optional.of(name + ": " + e.getMessage()));
                    } catch (InterruptedException e) {
                        ended.add(Optional.empty());
                    }
                });
            }
            Optional<String> failure = ended.take();
            if (failure.isPresent()) {
                log.error("node stopped: {}; stopping the other nodes", failure.get());
                return 1;
            }
            log.info("nodes stopped");
            return 0;
        } finally {
            closeAll(nodes);
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException e) {
                // the JVM is shutting down: the hook is what stopped the nodes
            }
        }
    }

    /** Stops the nodes side by side: one by one, a JVM of many nodes would take long to stop on a busy machine. */
    private static void closeAll(List<Node> nodes) {
        List<Thread> closing = nodes.stream()
                .map(n -> Thread.ofVirtual().name("close").start(n::close))
                .toList();
        for (Thread t : closing) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /** A node's name for the log: its config's directory (node0, node1, ... in a localnet). */
    private static String name(Path config) {
        Path dir = config.toAbsolutePath().getParent();
        return dir.getFileName() != null ? dir.getFileName().toString() : config.toString();
    }
}
