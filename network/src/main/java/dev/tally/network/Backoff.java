package dev.tally.network;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Exponential reconnect backoff with jitter: min, 2 min, 4 min... up to max; reset after a connection that lasted, or
 * cut short by {@link #wake} when the peer is known to be up. One thread (the dialer) sleeps and resets; any may wake it.
 */
final class Backoff {
    private final Duration min;
    private final Duration max;
    // Waits on a lock's condition, not in a monitor: a virtual thread sleeping here does not hold its carrier.
    private final ChangeSignal wakes = new ChangeSignal();
    private Duration next; // the dialer's

    Backoff(Duration min, Duration max) {
        this.min = min;
        this.max = max;
        this.next = min;
    }

    /** Sleeps for the current delay (with up to 50% jitter) and doubles it; a {@link #wake} ends it and resets it. */
    void sleep() throws InterruptedException {
        long since = wakes.changes();
        long ms = next.toMillis();
        long jitter = ms / 2 > 0 ? ThreadLocalRandom.current().nextLong(ms / 2 + 1) : 0;
        wakes.awaitChange(since, Duration.ofMillis(ms / 2 + jitter + 1));
        if (wakes.changes() != since) {
            next = min;
            return;
        }
        Duration doubled = next.multipliedBy(2);
        next = doubled.compareTo(max) > 0 ? max : doubled;
    }

    void reset() {
        next = min;
    }

    /** Ends a sleep under way at once (the peer just connected to us, so it is up); no effect on a later one. */
    void wake() {
        wakes.signal();
    }

    /** A counter of {@link #wake}s, for {@link #awaitWake}. */
    long wakes() {
        return wakes.changes();
    }

    /** Waits until {@link #wakes()} exceeds {@code since}, at most {@code most}. */
    void awaitWake(long since, Duration most) throws InterruptedException {
        wakes.awaitChange(since, most);
    }
}
