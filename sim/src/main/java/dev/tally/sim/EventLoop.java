package dev.tally.sim;

import java.util.Comparator;
import java.util.PriorityQueue;

/**
 * The simulated clock and the queue of timed events. Events run in time order, and events due at the same time in
 * the order they were scheduled, so a seed replays the same run.
 */
final class EventLoop {
    private record Scheduled(long time, long seq, SimEvent event) {}

    private final PriorityQueue<Scheduled> queue =
            new PriorityQueue<>(Comparator.comparingLong(Scheduled::time).thenComparingLong(Scheduled::seq));
    private long now;
    private long seq;

    /** The simulated time, in milliseconds since the run began. */
    long now() {
        return now;
    }

    void schedule(long at, SimEvent event) {
        queue.add(new Scheduled(at, seq++, event));
    }

    /**
     * Advances the clock to the next event and returns it; null when no event is left or the next one is due after
     * {@code hardStop} (the clock then shows that event's time, where the run ended).
     */
    SimEvent next(long hardStop) {
        Scheduled next = queue.poll();
        if (next == null) {
            return null;
        }
        now = next.time();
        return now > hardStop ? null : next.event();
    }
}
