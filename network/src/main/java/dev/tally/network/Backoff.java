package dev.tally.network;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Exponential reconnect backoff with jitter: min, 2 min, 4 min... up to max; reset after a connection that lasted, or
 * cut short by {@link #wake} when the peer is known to be up.
 */
final class Backoff {
    private final Duration min;
    private final Duration max;
    private Duration next;
    private boolean woken;

    Backoff(Duration min, Duration max) {
        this.min = min;
        this.max = max;
        this.next = min;
    }

    /** Sleeps for the current delay (with up to 50% jitter) and doubles it; a {@link #wake} ends it and resets it. */
    synchronized void sleep() throws InterruptedException {
        long ms = next.toMillis();
        long jitter = ms / 2 > 0 ? ThreadLocalRandom.current().nextLong(ms / 2 + 1) : 0;
        long deadline = System.nanoTime() + (ms / 2 + jitter + 1) * 1_000_000;
        woken = false;
        for (long left = deadline - System.nanoTime(); !woken && left > 0; left = deadline - System.nanoTime()) {
            wait(Math.max(1, left / 1_000_000));
        }
        if (woken) {
            next = min;
            return;
        }
        Duration doubled = next.multipliedBy(2);
        next = doubled.compareTo(max) > 0 ? max : doubled;
    }

    synchronized void reset() {
        next = min;
    }

    /** Ends a sleep under way at once (the peer just connected to us, so it is up); no effect on a later one. */
    synchronized void wake() {
        woken = true;
        notifyAll();
    }
}
