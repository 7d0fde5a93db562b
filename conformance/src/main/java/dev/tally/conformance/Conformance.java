package dev.tally.conformance;

import dev.tally.consensus.VerificationCache;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

/** Replays a corpus of model traces (a directory, or the corpus bundled in this module) and sums up. */
public final class Conformance {
    /** The bundled corpus, as listed in its index. */
    static final String BUNDLED = "/traces/";

    static final String SUFFIX = ".itf.json.xz";

    /** One trace file to replay. */
    public interface Source {
        String name();

        InputStream open() throws IOException;
    }

    /** What a run replayed and found. {@code firstDiff} is the first mismatch in corpus order. */
    public record Summary(
            int traces,
            long steps,
            long comparisons,
            long probes,
            Deviated deviated,
            int mismatches,
            double seconds,
            Optional<Mismatch> firstMismatch) {
        public double stepsPerSecond() {
            return seconds > 0 ? steps / seconds : 0;
        }

        public String line() {
            return String.format(
                    "conformance: %d traces, %d steps, %d comparisons, %d mismatches, %.0f steps/s"
                            + " (%d probes; deviations: %s)",
                    traces, steps, comparisons, mismatches, stepsPerSecond(), probes, deviated);
        }
    }

    /** How often the replay mapped across a deviation that changes what is delivered or sent (see {@link Deviations}). */
    public record Deviated(long staleProposalProbesSkipped, long leaderNewViewsWithheld, long twinProposalsSent) {
        @Override
        public String toString() {
            return staleProposalProbesSkipped + " late-proposal probes skipped, " + leaderNewViewsWithheld
                    + " leader NewViews of the current view withheld, " + twinProposalsSent
                    + " twin proposals sent by the replay";
        }
    }

    private Conformance() {}

    public static List<Source> bundled() {
        List<Source> sources = new ArrayList<>();
        try (InputStream index = Conformance.class.getResourceAsStream(BUNDLED + "index.txt")) {
            if (index == null) {
                throw new IllegalStateException("the bundled trace corpus is missing from the class path");
            }
            for (String line : new String(index.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                String name = line.strip();
                if (!name.isEmpty()) {
                    sources.add(new Source() {
                        @Override
                        public String name() {
                            return name;
                        }

                        @Override
                        public InputStream open() throws IOException {
                            InputStream in = Conformance.class.getResourceAsStream(BUNDLED + name);
                            if (in == null) {
                                throw new IOException("listed in the index but not bundled");
                            }
                            return in;
                        }
                    });
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return sources;
    }

    /** Every {@code *.itf.json.xz} file of {@code dir}, by name. */
    public static List<Source> directory(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(f -> f.getFileName().toString().endsWith(SUFFIX))
                    .sorted()
                    .<Source>map(f -> new Source() {
                        @Override
                        public String name() {
                            return f.getFileName().toString();
                        }

                        @Override
                        public InputStream open() throws IOException {
                            return Files.newInputStream(f);
                        }
                    })
                    .toList();
        }
    }

    public static Trace read(Source source) throws TraceFormatException {
        try (InputStream in = source.open()) {
            return Itf.readXz(source.name(), in);
        } catch (IOException e) {
            throw new TraceFormatException(source.name(), "cannot be read (" + e.getMessage() + ")");
        }
    }

    /** Replays every source on {@code threads} threads; the first unreadable trace (in corpus order) is thrown. */
    public static Summary run(List<Source> sources, Replay.ReplicaFactory factory, int threads)
            throws TraceFormatException {
        long start = System.nanoTime();
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        // One verification cache per thread, kept across its runs: the corpus repeats messages from run to run.
        ThreadLocal<VerificationCache> verifiers = ThreadLocal.withInitial(() -> new VerificationCache(1 << 16));
        try {
            List<Future<Object>> results = new ArrayList<>();
            for (Source source : sources) {
                results.add(pool.submit(() -> {
                    try {
                        return Replay.run(read(source), factory, verifiers.get());
                    } catch (Mismatch | TraceFormatException e) {
                        return e;
                    }
                }));
            }
            long steps = 0;
            long comparisons = 0;
            long probes = 0;
            long skipped = 0;
            long newViews = 0;
            long twins = 0;
            int mismatches = 0;
            Mismatch first = null;
            for (Future<Object> f : results) {
                Object r = get(f);
                switch (r) {
                    case TraceFormatException e -> throw e;
                    case Mismatch m -> {
                        mismatches++;
                        first = first == null ? m : first;
                    }
                    case Replay.Result ok -> {
                        steps += ok.steps();
                        comparisons += ok.comparisons();
                        probes += ok.probes();
                        skipped += ok.probesSkipped();
                        newViews += ok.withheldNewViews();
                        twins += ok.twinProposals();
                    }
                    default -> throw new IllegalStateException("unexpected replay result " + r);
                }
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            return new Summary(
                    sources.size(),
                    steps,
                    comparisons,
                    probes,
                    new Deviated(skipped, newViews, twins),
                    mismatches,
                    seconds,
                    Optional.ofNullable(first));
        } finally {
            pool.shutdownNow();
        }
    }

    private static Object get(Future<Object> f) {
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while replaying", e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("the replay crashed", e.getCause());
        }
    }
}
