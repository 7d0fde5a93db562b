package dev.tally.network;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/** Exponential reconnect backoff with jitter: min, 2 min, 4 min... up to max; reset after a connection that lasted. */
final class Backoff {
    private final Duration min;
    private final Duration max;
    private Duration next;

    Backoff(Duration min, Duration max) {
        this.min = min;
        this.max = max;
        this.next = min;
    }

    /** Sleeps for the current delay (with up to 50% jitter) and doubles it. */
    void sleep() throws InterruptedException {
        long ms = next.toMillis();
        long jitter = ms / 2 > 0 ? ThreadLocalRandom.current().nextLong(ms / 2 + 1) : 0;
        Thread.sleep(ms / 2 + jitter + 1);
        Duration doubled = next.multipliedBy(2);
        next = doubled.compareTo(max) > 0 ? max : doubled;
    }

    void reset() {
        next = min;
    }
}
