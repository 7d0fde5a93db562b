package dev.tally.sim;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.LongFunction;

/** Runs many scenarios, each on one thread of a small pool (each run is single-threaded and independent). */
public final class SimRunner {
    /** What a batch of scenarios did. */
    public record Summary(
            int scenarios,
            int passed,
            long blocksFinalized,
            long viewsTimedOut,
            List<SimResult> failures,
            List<SimResult> livenessNotChecked,
            double seconds,
            double cpuSeconds) {
        public double scenariosPerSecond() {
            return seconds == 0 ? 0 : scenarios / seconds;
        }

        /** Scenarios per second of CPU time: the simulator's own speed, whatever else shares the machine. */
        public double scenariosPerCpuSecond() {
            return cpuSeconds == 0 ? 0 : scenarios / cpuSeconds;
        }

        public String line() {
            return String.format(
                    "scenarios %d, passed %d, blocks finalized %d, views timed out %d, violations %d,"
                            + " liveness not checked (abstainers above f) %d (%.1f s, %.1f scenarios/s; %.1f CPU s,"
                            + " %.1f scenarios per CPU second)",
                    scenarios,
                    passed,
                    blocksFinalized,
                    viewsTimedOut,
                    failures.size(),
                    livenessNotChecked.size(),
                    seconds,
                    scenariosPerSecond(),
                    cpuSeconds,
                    scenariosPerCpuSecond());
        }
    }

    private record Timed(SimResult result, long cpuNanos) {}

    private SimRunner() {}

    public static Summary run(long firstSeed, int count, LongFunction<Scenario> scenarioForSeed, int threads) {
        long start = System.nanoTime();
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, threads));
        try {
            ThreadMXBean cpuClock = ManagementFactory.getThreadMXBean();
            List<Future<Timed>> futures = new ArrayList<>(count);
            for (long s = firstSeed; s < firstSeed + count; s++) {
                Scenario scenario = scenarioForSeed.apply(s);
                futures.add(pool.submit(() -> {
                    long cpu = cpuClock.getCurrentThreadCpuTime();
                    SimResult r = Simulation.run(scenario);
                    return new Timed(r, cpuClock.getCurrentThreadCpuTime() - cpu);
                }));
            }
            int passed = 0;
            long blocks = 0;
            long timedOut = 0;
            long cpuNanos = 0;
            List<SimResult> failures = new ArrayList<>();
            List<SimResult> excused = new ArrayList<>();
            for (Future<Timed> f : futures) {
                SimResult r = f.get().result();
                cpuNanos += f.get().cpuNanos();
                blocks += r.blocksFinalized() + 1;
                timedOut += r.viewsTimedOut();
                if (r.livenessNotChecked().isPresent()) {
                    excused.add(r);
                }
                if (r.passed()) {
                    passed++;
                } else {
                    failures.add(r);
                }
            }
            return new Summary(
                    count,
                    passed,
                    blocks,
                    timedOut,
                    failures,
                    excused,
                    (System.nanoTime() - start) / 1e9,
                    cpuNanos / 1e9);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("a scenario crashed the simulator: " + e.getCause(), e.getCause());
        } finally {
            pool.shutdownNow();
        }
    }

    /** The outcome of the self-check for one deliberately broken replica. */
    public record Catch(Breakage breakage, SimResult caughtBy, int scenariosTried) {
        public boolean caught() {
            return caughtBy != null;
        }
    }

    /**
     * Runs scenarios with one broken replica (honest by assumption) until the checker reports a violation, for at
     * most {@code budget} seeds.
     */
    public static Catch selfCheck(Breakage breakage, long firstSeed, int budget) {
        for (int i = 0; i < budget; i++) {
            Scenario base = Scenario.random(firstSeed + i);
            Scenario broken = base.withBreakage(breakage, new java.util.SplittableRandom(base.seed()));
            SimResult r = Simulation.run(broken);
            if (!r.passed()) {
                return new Catch(breakage, r, i + 1);
            }
        }
        return new Catch(breakage, null, budget);
    }
}
