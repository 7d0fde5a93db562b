package dev.tally.testbed.loadtest;

/**
 * One sender's offered load and the batches it sends it in, as a client that batches by time would. Transaction
 * {@code k} (from 0) falls due at {@code start + (k + 1) / rate}: that is its time, whenever its request leaves, so
 * that the latency measured includes its wait in the client. A batch closes, and leaves, when it holds {@code maxBatch}
 * transactions, when its oldest has waited {@code batchInterval}, or when the next one would fall due on the other side
 * of an edge (the measurement window's start or end): a batch lies wholly inside the window or wholly outside. With a
 * batch interval of 0 a transaction leaves as soon as it is due.
 */
final class SendSchedule {
    private final long startNanos;
    private final double perNanos;
    private final long batchIntervalNanos;
    private final int maxBatch;

    /** The next batch: {@code size} transactions to send now, or none (0) before {@code closesAt}. */
    record Batch(int size, long closesAt) {}

    SendSchedule(long startNanos, double txPerSecond, long batchIntervalNanos, int maxBatch) {
        if (!(txPerSecond > 0) || batchIntervalNanos < 0 || maxBatch < 1) {
            throw new IllegalArgumentException("need a positive rate, a batch interval >= 0 and maxBatch >= 1, not "
                    + txPerSecond + " tx/s, " + batchIntervalNanos + " ns, " + maxBatch);
        }
        this.startNanos = startNanos;
        this.perNanos = txPerSecond / 1e9;
        this.batchIntervalNanos = batchIntervalNanos;
        this.maxBatch = maxBatch;
    }

    /**
     * How long after the first sender sender {@code s} of {@code senders} starts its schedule, each sending at
     * {@code senderTxPerSecond}: one period of a sender (the time between its transactions, or its batch interval if
     * longer) spread over the senders. Senders started at one moment send in step, which independent clients do not: at
     * 5 tx/s six of them sent six transactions at once every 1.2 s, one to each node, and five waited a view for the
     * block of the sixth. Spread, their transactions and batches interleave evenly.
     */
    static long phase(int s, int senders, double senderTxPerSecond, long batchIntervalNanos) {
        double period = Math.max(1e9 / senderTxPerSecond, (double) batchIntervalNanos);
        return (long) (period * s / senders);
    }

    /** When transaction {@code k} falls due. */
    long dueAt(long k) {
        return startNanos + (long) Math.ceil((k + 1) / perNanos);
    }

    /** How many transactions are due at {@code now}: those {@code k} with {@code dueAt(k) <= now}. */
    long dueBy(long now) {
        if (now < startNanos) {
            return 0;
        }
        long n = (long) ((now - startNanos) * perNanos);
        // The float estimate may be one off either way of dueAt's rounding.
        while (dueAt(n) <= now) {
            n++;
        }
        while (n > 0 && dueAt(n - 1) > now) {
            n--;
        }
        return n;
    }

    /** The batch that starts at transaction {@code seq}, at {@code now}; no batch spans one of the {@code edges}. */
    Batch next(long seq, long now, long... edges) {
        int limit = maxBatch;
        for (long edge : edges) {
            limit = before(seq, limit, edge);
        }
        long ready = Math.min(limit, dueBy(now) - seq);
        long closesAt = Math.min(dueAt(seq) + batchIntervalNanos, dueAt(seq + limit - 1));
        return ready > 0 && now >= closesAt ? new Batch((int) ready, now) : new Batch(0, closesAt);
    }

    /**
     * Of the {@code limit} transactions from {@code seq} on, those due before {@code edge}, if the first of them is
     * (else all {@code limit}).
     */
    private int before(long seq, int limit, long edge) {
        if (dueAt(seq) >= edge || dueAt(seq + limit - 1) < edge) {
            return limit;
        }
        int lo = 1; // dueAt(seq + lo - 1) < edge <= dueAt(seq + hi)
        int hi = limit - 1;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (dueAt(seq + mid) >= edge) {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        return lo;
    }
}
