package dev.tally.network;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.ToIntFunction;

/**
 * Transactions waiting to be pushed to one peer, oldest first. Bounded by count and by bytes: beyond either bound the
 * oldest are dropped (a peer that cannot keep up loses transactions, it does not hold the node's memory). Taken out
 * in batches bounded by count and by an encoded size. Thread-safe.
 */
final class TxQueue {
    private final int maxCount;
    private final long maxBytes;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition nonEmpty = lock.newCondition();
    private final Condition more = lock.newCondition(); // any addition, for a lingering taker
    private final ArrayDeque<byte[]> txs = new ArrayDeque<>();
    private final LongAdder dropped;
    private long bytes;

    /** Counts what it drops into {@code dropped}. */
    TxQueue(int maxCount, long maxBytes, LongAdder dropped) {
        this.maxCount = maxCount;
        this.maxBytes = maxBytes;
        this.dropped = dropped;
    }

    void addAll(List<byte[]> batch) {
        lock.lock();
        try {
            for (byte[] tx : batch) {
                txs.addLast(tx);
                bytes += tx.length;
            }
            while (!txs.isEmpty() && (txs.size() > maxCount || bytes > maxBytes)) {
                bytes -= txs.removeFirst().length;
                dropped.increment();
            }
            if (!txs.isEmpty()) {
                nonEmpty.signal();
                more.signalAll();
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Waits up to {@code timeoutMillis} for a transaction, then up to {@code lingerMillis} more while fewer than
     * {@code count} transactions and {@code budget} bytes wait (so that a trickle of transactions still travels in
     * batches), then takes the oldest ones while at most {@code count} are taken and their sizes (by {@code size})
     * add up to at most {@code budget}. Empty if none came in time. A transaction too large for the budget on its
     * own is dropped.
     */
    List<byte[]> take(int count, long budget, ToIntFunction<byte[]> size, long timeoutMillis, long lingerMillis)
            throws InterruptedException {
        lock.lock();
        try {
            long nanos = TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
            while (txs.isEmpty() && nanos > 0) {
                nanos = nonEmpty.awaitNanos(nanos);
            }
            long linger = TimeUnit.MILLISECONDS.toNanos(lingerMillis);
            while (!txs.isEmpty() && txs.size() < count && bytes < budget && linger > 0) {
                linger = more.awaitNanos(linger);
            }
            List<byte[]> batch = new ArrayList<>(Math.min(count, txs.size()));
            long used = 0;
            while (!txs.isEmpty() && batch.size() < count) {
                byte[] tx = txs.peekFirst();
                int s = size.applyAsInt(tx);
                if (used + s > budget) {
                    if (!batch.isEmpty()) {
                        break;
                    }
                    txs.removeFirst();
                    bytes -= tx.length;
                    dropped.increment();
                    continue;
                }
                txs.removeFirst();
                bytes -= tx.length;
                used += s;
                batch.add(tx);
            }
            if (!txs.isEmpty()) {
                nonEmpty.signal(); // another pusher of this peer may take the rest
            }
            return batch;
        } finally {
            lock.unlock();
        }
    }

    int size() {
        lock.lock();
        try {
            return txs.size();
        } finally {
            lock.unlock();
        }
    }
}
