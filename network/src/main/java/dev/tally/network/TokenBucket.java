package dev.tally.network;

import java.time.Duration;

/**
 * A token bucket: holds at most {@code burst} tokens and regains one every {@code refresh}. Acquiring reserves a
 * token, possibly one that is only refilled later, and waits until then, so waiters are served in order and the
 * sustained rate never exceeds one per {@code refresh}. A zero refresh means no limit. Thread-safe.
 */
final class TokenBucket {
    private final int burst;
    private final long refreshNanos;
    private final long start = System.nanoTime();
    private long tokens;
    private long lastTick;

    TokenBucket(RpcConfig.Rate rate) {
        this(rate.burst(), rate.refresh());
    }

    TokenBucket(int burst, Duration refresh) {
        if (burst < 1) {
            throw new IllegalArgumentException("burst must be at least 1, got " + burst);
        }
        this.burst = burst;
        this.refreshNanos = refresh.toNanos();
        this.tokens = burst;
    }

    boolean unlimited() {
        return refreshNanos <= 0;
    }

    /** Reserves a token and returns how long to wait (nanoseconds) before using it. */
    long reserve() {
        return reserve(1);
    }

    /**
     * Reserves {@code n} tokens and returns how long to wait (nanoseconds) before using them: until the bucket has
     * refilled what they overdraw (more than the burst waits for the excess to refill).
     */
    synchronized long reserve(int n) {
        if (n < 0) {
            throw new IllegalArgumentException("cannot reserve " + n + " tokens");
        }
        if (unlimited() || n == 0) {
            return 0;
        }
        long now = System.nanoTime();
        long tick = (now - start) / refreshNanos;
        if (tokens < burst) {
            tokens = Math.min(burst, tokens + (tick - lastTick));
        }
        lastTick = tick;
        tokens -= n;
        if (tokens >= 0) {
            return 0;
        }
        long readyAt = start + (tick - tokens) * refreshNanos;
        return Math.max(0, readyAt - now);
    }

    /** Takes a token if one is available now. */
    synchronized boolean tryAcquire() {
        if (unlimited()) {
            return true;
        }
        long tick = (System.nanoTime() - start) / refreshNanos;
        if (tokens < burst) {
            tokens = Math.min(burst, tokens + (tick - lastTick));
        }
        lastTick = tick;
        if (tokens > 0) {
            tokens--;
            return true;
        }
        return false;
    }

    /** Waits for a token. */
    void acquire() throws InterruptedException {
        acquire(1);
    }

    /** Waits for {@code n} tokens. */
    void acquire(int n) throws InterruptedException {
        long wait = reserve(n);
        if (wait > 0) {
            Thread.sleep(Duration.ofNanos(wait));
        }
    }
}
