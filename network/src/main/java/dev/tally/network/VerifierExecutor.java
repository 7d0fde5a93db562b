package dev.tally.network;

import java.util.List;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * Where the network runs its CPU-heavy checks (signatures, QCs): each task on a virtual thread of its own, at most
 * {@code parallelism} running at a time. Virtual threads, not a pool of platform threads: platform threads compete
 * with the carriers of every virtual thread (readers, writers, pings, handshakes, the replica) for the cores. With
 * 25 validators in one JVM (n = 100 on two cores) 50 busy verifier threads left the two carriers a few percent of
 * the CPU at each view change; answers to pings waited over 30 s and connections were closed as dead.
 */
final class VerifierExecutor extends AbstractExecutorService {
    private final ExecutorService threads = Executors.newThreadPerTaskExecutor(
            Thread.ofVirtual().name("net-verify-", 1).factory());
    private final Semaphore running;

    VerifierExecutor(int parallelism) {
        this.running = new Semaphore(parallelism);
    }

    @Override
    public void execute(Runnable task) {
        threads.execute(() -> {
            try {
                running.acquire();
            } catch (InterruptedException e) {
                // Shutting down: the task never runs, and whoever waits for it hears so.
                if (task instanceof Future<?> f) {
                    f.cancel(false);
                }
                return;
            }
            try {
                task.run();
            } finally {
                running.release();
            }
        });
    }

    @Override
    public void shutdown() {
        threads.shutdown();
    }

    @Override
    public List<Runnable> shutdownNow() {
        return threads.shutdownNow();
    }

    @Override
    public boolean isShutdown() {
        return threads.isShutdown();
    }

    @Override
    public boolean isTerminated() {
        return threads.isTerminated();
    }

    @Override
    public boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
        return threads.awaitTermination(timeout, unit);
    }
}
