package dev.tally.node.client;

import dev.tally.node.client.TallyClient.TxStatus;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Transactions submitted one at a time, sent in batches by time: a batch leaves as one {@code POST /txs} when its
 * oldest transaction has waited the interval, or when it holds {@code maxBatch}, whichever comes first; one request at
 * a time, so that while a slow node answers, the next batch grows instead of the requests piling up. Each transaction's
 * future completes with what the node made of it, or exceptionally with the request's failure (an
 * {@link IOException}, such as {@link TallyClient.RequestRefusedException}). Thread-safe; {@link #close} sends what is
 * pending and waits for its answers. Get one from {@link TallyClient#batching}.
 */
public final class BatchingSubmitter implements AutoCloseable {
    private record Pending(byte[] tx, long submittedNanos, CompletableFuture<TxStatus> status) {}

    private final TallyClient client;
    private final long intervalNanos;
    private final int maxBatch;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final ArrayDeque<Pending> pending = new ArrayDeque<>(); // guarded by lock
    private boolean closed; // guarded by lock
    private final Thread sender;

    BatchingSubmitter(TallyClient client, Duration interval, int maxBatch) {
        if (interval.isNegative() || maxBatch < 1 || maxBatch > TxBatch.MAX_TRANSACTIONS) {
            throw new IllegalArgumentException("need an interval >= 0 and 1 <= maxBatch <= " + TxBatch.MAX_TRANSACTIONS
                    + ", not " + interval + " and " + maxBatch);
        }
        this.client = client;
        this.intervalNanos = interval.toNanos();
        this.maxBatch = maxBatch;
        this.sender = Thread.ofVirtual().name("tally-batching-submitter").start(this::sendBatches);
    }

    /** Queues a transaction (copied) for the next batch; its status once the node has answered that batch. */
    public CompletableFuture<TxStatus> submit(byte[] transaction) {
        Pending p = new Pending(
                Objects.requireNonNull(transaction, "transaction").clone(),
                System.nanoTime(),
                new CompletableFuture<>());
        lock.lock();
        try {
            if (closed) {
                throw new IllegalStateException("the batching submitter is closed");
            }
            pending.add(p);
            if (pending.size() == 1 || pending.size() >= maxBatch) {
                changed.signalAll(); // a batch opened, or filled up
            }
        } finally {
            lock.unlock();
        }
        return p.status();
    }

    private void sendBatches() {
        try {
            for (List<Pending> batch = nextBatch(); !batch.isEmpty(); batch = nextBatch()) {
                send(batch);
            }
        } catch (InterruptedException e) {
            lock.lock();
            try {
                pending.forEach(p -> p.status().completeExceptionally(e));
                pending.clear();
                closed = true;
            } finally {
                lock.unlock();
            }
        }
    }

    /** Waits until a batch closes and takes it out; empty once closed with nothing left. */
    private List<Pending> nextBatch() throws InterruptedException {
        lock.lock();
        try {
            while (true) {
                if (pending.isEmpty()) {
                    if (closed) {
                        return List.of();
                    }
                    changed.await();
                    continue;
                }
                long wait = pending.getFirst().submittedNanos() + intervalNanos - System.nanoTime();
                if (closed || wait <= 0 || pending.size() >= maxBatch) {
                    break;
                }
                changed.awaitNanos(wait);
            }
            List<Pending> batch = new ArrayList<>(Math.min(maxBatch, pending.size()));
            while (batch.size() < maxBatch && !pending.isEmpty()) {
                batch.add(pending.removeFirst());
            }
            return batch;
        } finally {
            lock.unlock();
        }
    }

    private void send(List<Pending> batch) throws InterruptedException {
        TallyClient.BatchResult r;
        try {
            r = client.submit(batch.stream().map(Pending::tx).toList());
        } catch (IOException | RuntimeException e) {
            batch.forEach(p -> p.status().completeExceptionally(e));
            return;
        } catch (InterruptedException e) {
            batch.forEach(p -> p.status().completeExceptionally(e));
            throw e;
        }
        for (int i = 0; i < batch.size(); i++) {
            batch.get(i).status().complete(r.results().get(i));
        }
    }

    /** Sends what is pending at once, and returns when every submitted transaction has its answer. */
    @Override
    public void close() {
        lock.lock();
        try {
            closed = true;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        try {
            sender.join();
        } catch (InterruptedException e) {
            sender.interrupt();
            Thread.currentThread().interrupt();
        }
    }
}
