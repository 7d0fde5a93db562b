package dev.tally.node.executor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

class ScopeTest {
    @Test
    void theFirstFailureInterruptsTheOtherTasksRunsClosersInReverseAndIsRethrown() throws Exception {
        Scope scope = new Scope();
        List<String> events = new CopyOnWriteArrayList<>();
        scope.onShutdown(() -> events.add("close storage"));
        scope.onShutdown(() -> events.add("close network"));
        CountDownLatch running = new CountDownLatch(1);
        scope.fork("waiter", () -> {
            running.countDown();
            try {
                Thread.sleep(60_000);
            } finally {
                events.add("waiter interrupted");
            }
        });
        running.await();
        scope.fork("replica", () -> {
            throw new IllegalStateException("boom");
        });
        assertThatThrownBy(scope::join)
                .isInstanceOf(NodeFailedException.class)
                .hasMessage("replica failed: boom")
                .extracting(e -> ((NodeFailedException) e).component())
                .isEqualTo("replica");
        assertThat(events).containsExactly("waiter interrupted", "close network", "close storage");
    }

    @Test
    void aRequestedShutdownIsNoFailure() throws Exception {
        Scope scope = new Scope();
        scope.fork("loop", () -> Thread.sleep(60_000));
        scope.fork("done", () -> {});
        scope.shutdown();
        scope.join();
        boolean[] ran = {false};
        scope.fork("late", () -> ran[0] = true);
        Thread.sleep(50);
        assertThat(ran[0]).as("a task forked after shutdown never runs").isFalse();
    }
}
