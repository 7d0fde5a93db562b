package dev.tally.testbed.chaos;

import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * What a chaos run records as it goes, shared by all its parts: timestamped progress lines, the problems (failed
 * checks, which fail the run) and the notes (how nodes behaved on bad disks). Thread-safe.
 */
final class RunLog {
    private final PrintWriter out;
    private final long startNanos = System.nanoTime();
    private final List<String> problems = new CopyOnWriteArrayList<>();
    private final List<String> notes = new CopyOnWriteArrayList<>();

    RunLog(PrintWriter out) {
        this.out = out;
    }

    void log(String what) {
        synchronized (out) {
            out.printf("[%6.1fs] %s%n", (System.nanoTime() - startNanos) / 1e9, what);
            out.flush();
        }
    }

    void problem(String what) {
        problems.add(what);
    }

    void note(String what) {
        notes.add(what);
    }

    boolean hasProblems() {
        return !problems.isEmpty();
    }

    List<String> problems() {
        return List.copyOf(problems);
    }

    List<String> notes() {
        return List.copyOf(notes);
    }
}
