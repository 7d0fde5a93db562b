package dev.tally.testbed.loadtest;

import dev.tally.execution.MempoolExecutionLayer;
import dev.tally.network.TransactionSink;
import dev.tally.node.config.NodeConfig;
import dev.tally.node.executor.Node;
import dev.tally.protocol.FinalBlock;
import dev.tally.storage.InMemoryStorage;
import dev.tally.storage.RocksStorage;
import dev.tally.storage.Storage;
import dev.tally.testbed.localnet.Localnet;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Every node in this JVM (the executor's {@link Node}, each with its own storage, talking over loopback), driven
 * directly: transactions through {@link Node#submitTransaction}, final blocks from node0's storage. CPU is this
 * process's, minus the harness threads'; memory is the heap's peak, shared by all nodes.
 */
final class InProcessCluster implements Cluster {
    private final List<Node> nodes = new ArrayList<>();
    private final List<Long> harnessThreads = Collections.synchronizedList(new ArrayList<>());

    /** Starts the nodes; the caller has checked that their sockets fit this process ({@link #fileDescriptorsNeeded}). */
    InProcessCluster(List<Localnet.Member> members, boolean rocksdb) throws IOException {
        try {
            for (Localnet.Member m : members) {
                NodeConfig cfg = m.config();
                Storage storage = rocksdb
                        ? RocksStorage.open(m.dataDir().resolve("db"), cfg.genesis())
                        : InMemoryStorage.create(cfg.genesis());
                try {
                    nodes.add(Node.start(
                            cfg,
                            storage,
                            new MempoolExecutionLayer(
                                    storage,
                                    cfg.genesis(),
                                    cfg.maxTxSize(),
                                    MempoolExecutionLayer.DEFAULT_MEMPOOL_CAPACITY,
                                    List.of())));
                } catch (IOException | RuntimeException e) {
                    storage.close();
                    throw e;
                }
            }
        } catch (IOException | RuntimeException e) {
            close();
            throw e;
        }
        ManagementFactory.getMemoryPoolMXBeans().forEach(MemoryPoolMXBean::resetPeakUsage);
    }

    /**
     * File descriptors of one process running {@code hosted} of {@code n} validators, each of which gossips with
     * {@code gossipPeers} others and listens on {@code listenersPerNode} sockets (with what their servers open). Every
     * validator dials every other one for consensus, so a validator holds 2 (n - 1) sockets, its own dials and those
     * it accepted, wherever the peers run (two sockets per ordered pair when both ends are in this process); gossip
     * likewise, 2 per gossip peer; then 300 for storage files, the JVM's own and the harness's connections.
     */
    static long fileDescriptorsNeeded(int n, int hosted, int gossipPeers, int listenersPerNode) {
        return (long) hosted * (2L * (n - 1) + 2L * gossipPeers + listenersPerNode) + 300;
    }

    /** The soft limit on open files (the JVM raises it to the hard limit at start), from /proc; unlimited elsewhere. */
    static long openFileLimit() {
        try {
            for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/limits"))) {
                if (line.startsWith("Max open files")) {
                    String soft =
                            line.substring("Max open files".length()).trim().split("\\s+")[0];
                    return soft.equals("unlimited") ? Long.MAX_VALUE : Long.parseLong(soft);
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux
        }
        return Long.MAX_VALUE;
    }

    /** Marks the calling thread as the harness's: its CPU time is not the nodes'. */
    void harnessThread() {
        harnessThreads.add(Thread.currentThread().threadId());
    }

    @Override
    public int size() {
        return nodes.size();
    }

    @Override
    public Submitted submit(int node, List<byte[]> txs) {
        int accepted = 0;
        int duplicate = 0;
        int overloaded = 0;
        String firstRejection = null;
        Node n = nodes.get(node);
        for (byte[] tx : txs) {
            switch (n.submitTransaction(tx)) {
                case TransactionSink.Result.Accepted a -> accepted++;
                case TransactionSink.Result.Duplicate d -> duplicate++;
                case TransactionSink.Result.Rejected r ->
                    firstRejection = Objects.requireNonNullElse(firstRejection, r.reason());
                case TransactionSink.Result.Overloaded o -> {
                    overloaded++;
                    firstRejection = Objects.requireNonNullElse(firstRejection, o.reason());
                }
            }
        }
        return new Submitted(accepted, duplicate, txs.size() - accepted - duplicate, overloaded, firstRejection);
    }

    @Override
    public long lastBlock() {
        var r = nodes.getFirst().storedBlocks();
        return r.isEmpty() ? -1 : r.last();
    }

    @Override
    public List<Block> follow(long from, int max, Duration wait) throws IOException, InterruptedException {
        Node n = nodes.getFirst();
        if (!n.awaitBlock(from, wait)) {
            return List.of();
        }
        List<Block> blocks = new ArrayList<>();
        for (long i = from; i - from < max; i++) {
            Optional<FinalBlock> b = n.block(i);
            if (b.isEmpty()) {
                break;
            }
            blocks.add(new Block(i, b.get().payload(), n.metrics().finalization(i)));
        }
        if (blocks.isEmpty()) {
            throw new IOException("node0 lost block " + from + ", which it stored");
        }
        return blocks;
    }

    @Override
    public long cpuNanos() {
        long process = ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime();
        var threads = ManagementFactory.getThreadMXBean();
        long harness = 0;
        synchronized (harnessThreads) {
            for (long id : harnessThreads) {
                harness += Math.max(0, threads.getThreadCpuTime(id));
            }
        }
        return process - harness;
    }

    /** This process's compiler threads: they compile the harness's code too, a small part of it. */
    @Override
    public long compilerCpuNanos() throws IOException {
        return ProcCpu.compilerNanos(ProcessHandle.current().pid());
    }

    /** The heap's peak (the sum of its pools' peaks since the nodes started), split evenly over the nodes. */
    @Override
    public List<Long> peakMemoryBytes() {
        long heap = ManagementFactory.getMemoryPoolMXBeans().stream()
                .filter(p -> p.getType() == MemoryType.HEAP)
                .mapToLong(p -> p.getPeakUsage().getUsed())
                .sum();
        return Collections.nCopies(nodes.size(), heap / nodes.size());
    }

    @Override
    public String memoryMeasure() {
        return "JVM heap peak (sum of heap pools' peaks) divided by the number of nodes, all nodes sharing one heap";
    }

    @Override
    public void checkAlive() {
        // A failed node stops finalizing; the harness sees that as no progress.
    }

    @Override
    public void close() {
        nodes.forEach(Node::close);
    }
}
