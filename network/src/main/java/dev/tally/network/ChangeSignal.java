package dev.tally.network;

import java.time.Duration;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A count of changes that threads wait on: a waiter reads {@link #changes()}, looks at what changed, and waits for a
 * later count, so a change between its look and its wait is not lost. Waiters park on a lock's condition, not in a
 * monitor: a virtual thread waiting here never holds its carrier thread.
 */
final class ChangeSignal {
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private long changes; // guarded by lock

    /** The number of changes signalled so far. */
    long changes() {
        lock.lock();
        try {
            return changes;
        } finally {
            lock.unlock();
        }
    }

    /** Counts a change and wakes every waiter. */
    void signal() {
        lock.lock();
        try {
            changes++;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Waits until {@link #changes()} exceeds {@code since}, at most {@code timeout}. */
    void awaitChange(long since, Duration timeout) throws InterruptedException {
        long nanos = timeout.toNanos();
        lock.lockInterruptibly();
        try {
            while (changes <= since && nanos > 0) {
                nanos = changed.awaitNanos(nanos);
            }
        } finally {
            lock.unlock();
        }
    }
}
