package dev.tally.node.executor;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A structured scope of virtual threads, in the spirit of {@code StructuredTaskScope.ShutdownOnFailure} (a preview
 * API on Java 21): tasks run until the scope shuts down; the first task to fail shuts it down and its error becomes
 * the scope's. Shutting down runs the registered closers (in reverse order of registration) and interrupts every
 * task. {@link #join} waits for all tasks to end and rethrows the first failure.
 */
final class Scope {
    private static final Logger log = LoggerFactory.getLogger(Scope.class);

    /** A task's body; it ends by returning (when the scope shuts down) or by throwing (a failure). */
    interface Task {
        void run() throws Exception;
    }

    private final Set<Thread> threads = ConcurrentHashMap.newKeySet();
    private final List<Runnable> closers = new ArrayList<>();
    private final AtomicReference<NodeFailedException> failure = new AtomicReference<>();
    private final CountDownLatch shutdown = new CountDownLatch(1);
    private volatile boolean shuttingDown;

    /** Starts a task on a virtual thread named {@code name}; once the scope is shutting down, does nothing. */
    synchronized void fork(String name, Task task) {
        if (shuttingDown) {
            log.debug("not starting {}: the scope is shutting down", name);
            return;
        }
        Thread thread = Thread.ofVirtual().name(name).unstarted(() -> {
            try {
                task.run();
            } catch (InterruptedException e) {
                if (!shuttingDown) {
                    fail(name, e);
                }
            } catch (Throwable t) {
                if (shuttingDown) {
                    log.debug("{} ended during shutdown: {}", name, t.toString());
                } else {
                    fail(name, t);
                }
            } finally {
                threads.remove(Thread.currentThread());
            }
        });
        threads.add(thread);
        thread.start();
    }

    /** Runs {@code closer} at shutdown: closers run in reverse order of registration, after the tasks are interrupted. */
    synchronized void onShutdown(Runnable closer) {
        closers.add(closer);
    }

    /** Stops the scope with {@code t} as its failure, unless one came first. */
    void fail(String name, Throwable t) {
        if (failure.compareAndSet(null, new NodeFailedException(name, t))) {
            log.error("{} failed, stopping the node: {}", name, t.toString(), t);
        }
        shutdown();
    }

    /** Interrupts every task and runs the closers. Idempotent; the first call does the work. */
    void shutdown() {
        List<Thread> toStop;
        List<Runnable> toClose;
        synchronized (this) {
            if (shuttingDown) {
                return;
            }
            shuttingDown = true;
            toStop = new ArrayList<>(threads);
            toClose = new ArrayList<>(closers);
        }
        // A failing task shuts the scope down from its own thread: it neither interrupts nor waits for itself.
        toStop.remove(Thread.currentThread());
        toStop.forEach(Thread::interrupt);
        for (Thread t : toStop) {
            try {
                t.join(5_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        for (int i = toClose.size() - 1; i >= 0; i--) {
            try {
                toClose.get(i).run();
            } catch (RuntimeException e) {
                log.warn("error while closing: {}", e.toString());
            }
        }
        shutdown.countDown();
    }

    /** Waits until the scope has shut down; throws the first failure, if a task failed. */
    void join() throws NodeFailedException, InterruptedException {
        shutdown.await();
        NodeFailedException f = failure.get();
        if (f != null) {
            throw f;
        }
    }
}
