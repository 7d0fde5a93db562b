package dev.tally.node.it;

import dev.tally.crypto.NodePublicKey;
import dev.tally.crypto.NodeSecretKey;
import dev.tally.execution.MempoolExecutionLayer;
import dev.tally.network.LoopbackPorts;
import dev.tally.node.Await;
import dev.tally.node.config.NodeConfig;
import dev.tally.node.executor.Node;
import dev.tally.protocol.FinalBlock;
import dev.tally.protocol.TestChain;
import dev.tally.storage.InMemoryStorage;
import dev.tally.storage.Storage;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Real {@link Node}s in this JVM talking over real sockets on loopback: {@code n} validators of one test chain
 * (each dialing the gossip port of every lower-numbered one, so gossip is a full mesh and discovery tells every
 * validator where the others take consensus connections), plus any full nodes. Closing it closes every node.
 */
final class Cluster implements AutoCloseable {
    final TestChain chain;
    final Duration viewTimeout;
    final List<InetSocketAddress> addrs = new ArrayList<>();
    final List<NodeSecretKey> nodeKeys = new ArrayList<>();
    /** Running validators by index; null while stopped. */
    final Node[] validators;

    final List<Node> others = new ArrayList<>();

    Cluster(int n, Duration viewTimeout) throws IOException {
        this.chain = new TestChain(n);
        this.viewTimeout = viewTimeout;
        this.validators = new Node[n];
        for (int i = 0; i < n; i++) {
            addrs.add(LoopbackPorts.freeAddress());
            nodeKeys.add(NodeSecretKey.generate());
        }
    }

    int size() {
        return validators.length;
    }

    NodeConfig validatorConfig(int i) {
        Map<NodePublicKey, InetSocketAddress> peers = new HashMap<>();
        for (int j = 0; j < i; j++) {
            peers.put(nodeKeys.get(j).publicKey(), addrs.get(j));
        }
        return config(addrs.get(i), nodeKeys.get(i), Optional.of(i), peers);
    }

    /** A full node (no validator key) dialing the given validators' gossip ports. */
    NodeConfig fullNodeConfig(int... dial) throws IOException {
        Map<NodePublicKey, InetSocketAddress> peers = new HashMap<>();
        for (int j : dial) {
            peers.put(nodeKeys.get(j).publicKey(), addrs.get(j));
        }
        return config(LoopbackPorts.freeAddress(), NodeSecretKey.generate(), Optional.empty(), peers);
    }

    private NodeConfig config(
            InetSocketAddress addr,
            NodeSecretKey key,
            Optional<Integer> validator,
            Map<NodePublicKey, InetSocketAddress> peers) {
        return new NodeConfig(
                addr,
                addr,
                Optional.empty(),
                Optional.empty(),
                Optional.empty(),
                chain.genesis,
                100_000,
                10_000,
                viewTimeout,
                validator.map(chain.keys::get),
                key,
                100,
                List.of(),
                peers,
                Duration.ofSeconds(5),
                Optional.empty(),
                List.of());
    }

    Node start(NodeConfig cfg, Storage storage) throws IOException {
        return Node.start(
                cfg, storage, new MempoolExecutionLayer(storage, chain.genesis, cfg.maxTxSize(), 1000, List.of()));
    }

    Node startValidator(int i, Storage storage) throws IOException {
        if (validators[i] != null) {
            throw new IllegalStateException("validator " + i + " is running");
        }
        validators[i] = start(validatorConfig(i), storage);
        return validators[i];
    }

    void startAllInMemory() throws IOException {
        for (int i = 0; i < size(); i++) {
            startValidator(i, InMemoryStorage.create(chain.genesis));
        }
    }

    Node startOther(NodeConfig cfg, Storage storage) throws IOException {
        Node n = start(cfg, storage);
        others.add(n);
        return n;
    }

    void stopValidator(int i) throws Exception {
        Node n = validators[i];
        validators[i] = null;
        n.close();
        n.awaitTermination(); // a clean stop, or the failure that stopped it
    }

    List<Node> running() {
        List<Node> r = new ArrayList<>();
        for (Node n : validators) {
            if (n != null) {
                r.add(n);
            }
        }
        return r;
    }

    /** The lowest last stored block among the running validators. */
    long minLast() {
        return running().stream().mapToLong(n -> n.storedBlocks().last()).min().orElseThrow();
    }

    long maxLast() {
        return running().stream().mapToLong(n -> n.storedBlocks().last()).max().orElseThrow();
    }

    /** Waits until every running validator stored block {@code b}. */
    void awaitAll(long b, Duration timeout) throws InterruptedException {
        Await.until("block " + b + " on every running validator", timeout, () -> minLast() >= b);
    }

    /** Every node given holds the same block (by header and justification) at each height in [from, to]. */
    static void assertAgree(List<Node> nodes, long from, long to) {
        for (long b = from; b <= to; b++) {
            FinalBlock ref =
                    nodes.getFirst().execution().block(b).orElseThrow(() -> new AssertionError("block missing"));
            for (Node n : nodes) {
                long h = b;
                FinalBlock mine = n.execution()
                        .block(b)
                        .orElseThrow(() -> new AssertionError("block " + h + " missing on " + n.config()));
                if (!mine.header().equals(ref.header()) || !mine.payload().equals(ref.payload())) {
                    throw new AssertionError("block " + b + " differs: " + mine.header() + " vs " + ref.header());
                }
            }
        }
    }

    @Override
    public void close() {
        for (Node n : others) {
            n.close();
        }
        for (Node n : validators) {
            if (n != null) {
                n.close();
            }
        }
    }
}
