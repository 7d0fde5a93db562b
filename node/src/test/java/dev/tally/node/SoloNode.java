package dev.tally.node;

import dev.tally.crypto.NodeSecretKey;
import dev.tally.execution.ExecutionLayer;
import dev.tally.execution.MempoolExecutionLayer;
import dev.tally.node.config.NodeConfig;
import dev.tally.node.executor.Node;
import dev.tally.protocol.TestChain;
import dev.tally.storage.InMemoryStorage;
import dev.tally.storage.Storage;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/** A node that is the whole committee of a one-validator chain, on loopback with in-memory storage: it finalizes alone. */
public final class SoloNode {
    public static final int MAX_TX_SIZE = 1_000;

    private SoloNode() {}

    public static Node start(TestChain chain) throws IOException {
        return start(chain, storage -> new MempoolExecutionLayer(storage, chain.genesis, MAX_TX_SIZE, 100, List.of()));
    }

    /** The same node over an execution layer of the caller's making (e.g. one that fails on purpose). */
    public static Node start(TestChain chain, Function<Storage, ExecutionLayer> execution) throws IOException {
        var storage = InMemoryStorage.create(chain.genesis);
        return Node.start(config(chain), storage, execution.apply(storage));
    }

    /** The config of that node: its first validator key, loopback, no RPC, metrics or debug page. */
    public static NodeConfig config(TestChain chain) {
        InetSocketAddress any = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
        return new NodeConfig(
                any,
                new InetSocketAddress(InetAddress.getLoopbackAddress(), 1),
                Optional.empty(),
                Optional.empty(),
                Optional.empty(),
                chain.genesis,
                100_000,
                MAX_TX_SIZE,
                Duration.ofMillis(500),
                Optional.of(chain.keys.getFirst()),
                NodeSecretKey.generate(),
                10,
                List.of(),
                Map.of(),
                Duration.ofSeconds(5),
                Optional.empty(),
                List.of());
    }
}
