package dev.tally.cli;

import dev.tally.conformance.Conformance;
import dev.tally.conformance.Replay;
import dev.tally.conformance.TraceFormatException;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code tally conformance}: replays executions of the reference's formal model (Quint ITF traces) through the real
 * replica and checks every step against the model (ARCHITECTURE.md, "Spec conformance").
 */
@Command(
        name = "conformance",
        mixinStandardHelpOptions = true,
        description = {
            "Replays every trace (*.itf.json.xz) of the formal model in a directory, by default the corpus",
            "bundled with Tally, through the real replica, comparing each replica's state and messages after every step.",
            "Prints one summary line. Exit status 0: no mismatch; 1: a mismatch (the first diff is printed);",
            "2: a trace cannot be read (the message names the file and what is wrong)."
        })
final class ConformanceCommand implements Callable<Integer> {
    static final int MISMATCH = 1;

    @Spec
    private CommandSpec spec;

    @Option(
            names = "--traces",
            paramLabel = "DIR",
            description = "A directory of *.itf.json.xz traces (default: the bundled corpus).")
    private Path traces;

    @Option(
            names = "--threads",
            paramLabel = "N",
            description = "Traces replayed at once (default: the number of cores).")
    private int threads = Runtime.getRuntime().availableProcessors();

    @Override
    public Integer call() throws BadInputException {
        if (threads < 1) {
            throw new BadInputException("--threads must be at least 1, got " + threads);
        }
        List<Conformance.Source> sources = sources();
        Conformance.Summary summary;
        try {
            summary = Conformance.run(sources, Replay.ReplicaFactory.REAL, threads);
        } catch (TraceFormatException e) {
            throw new BadInputException(e.getMessage());
        }
        PrintWriter out = spec.commandLine().getOut();
        out.println(summary.line());
        summary.firstMismatch().ifPresent(m -> out.println("first mismatch: " + m.getMessage()));
        out.flush();
        return summary.mismatches() > 0 ? MISMATCH : 0;
    }

    private List<Conformance.Source> sources() throws BadInputException {
        if (traces == null) {
            return Conformance.bundled();
        }
        List<Conformance.Source> found;
        try {
            found = Conformance.directory(traces);
        } catch (IOException e) {
            throw new BadInputException(traces + ": cannot list the directory (" + e.getMessage() + ")");
        }
        if (found.isEmpty()) {
            throw new BadInputException(traces + ": holds no *.itf.json.xz trace");
        }
        return found;
    }
}
