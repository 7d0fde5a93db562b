package dev.tally.testbed.loadtest;

import dev.tally.node.metrics.NodeMetrics;
import dev.tally.protocol.Payload;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/** The network under test, as the harness sees it: where to send transactions, where to read final blocks. */
interface Cluster extends AutoCloseable {
    /**
     * Outcome of a batch of submitted transactions: {@code rejected} counts every one not taken, {@code overloaded}
     * those of them refused as overloaded (to send again later).
     */
    record Submitted(int accepted, int duplicate, int rejected, int overloaded, String firstRejection) {}

    /**
     * A final block as read back: its payload, and, when the node read from finalized it itself recently, when and how
     * fast it became final there.
     */
    record Block(long number, Payload payload, Optional<NodeMetrics.Finalization> finalization) {}

    /** Nodes that take transactions. */
    int size();

    /** Hands {@code txs} to node {@code node}. */
    Submitted submit(int node, List<byte[]> txs) throws IOException, InterruptedException;

    /** The newest final block stored on the node the harness reads from; -1 when none is. */
    long lastBlock() throws IOException, InterruptedException;

    /**
     * The final blocks from {@code from} on, in order, at most {@code max} (fewer when the node answers only part of
     * them at once: large blocks), from the node the harness reads from; when block {@code from} is not final yet,
     * waits for it up to {@code wait}, and answers the moment it is. Empty when none came in that time.
     */
    List<Block> follow(long from, int max, Duration wait) throws IOException, InterruptedException;

    /** CPU time the nodes have used so far, in nanoseconds (user + system). */
    long cpuNanos() throws IOException;

    /** Of {@link #cpuNanos}, the time the nodes' JIT compiler threads have used so far. */
    long compilerCpuNanos() throws IOException;

    /** Peak memory of each node, in bytes. */
    List<Long> peakMemoryBytes() throws IOException;

    /** How peak memory is measured, for the report. */
    String memoryMeasure();

    /** Throws if a node has stopped. */
    void checkAlive() throws IOException;

    @Override
    void close();
}
