package dev.tally.testbed.wan;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/** Runs the iproute2 tools ({@code ip}, {@code tc}), found on the PATH or in /usr/sbin and /sbin. */
final class Ip {
    private Ip() {}

    /** What a command printed, and its exit status. */
    record Result(int status, String output) {
        boolean ok() {
            return status == 0;
        }
    }

    /** Where {@code tool} is, if anywhere on the PATH, /usr/sbin or /sbin (root's tools, often off a user's PATH). */
    static Optional<Path> find(String tool) {
        String path = System.getenv().getOrDefault("PATH", "");
        return Stream.concat(Stream.of(path.split(":")), Stream.of("/usr/sbin", "/sbin"))
                .filter(d -> !d.isEmpty())
                .map(d -> Path.of(d, tool))
                .filter(Files::isExecutable)
                .findFirst();
    }

    /**
     * Why this host cannot run the emulation, if it cannot: it needs Linux, root (to make network namespaces) and the
     * {@code ip} and {@code tc} tools.
     */
    static Optional<String> hostProblem() {
        List<String> problems = new ArrayList<>();
        if (!System.getProperty("os.name", "").startsWith("Linux")) {
            problems.add("needs Linux (network namespaces), not " + System.getProperty("os.name"));
        } else if (!isRoot()) {
            problems.add("needs root to create network namespaces and virtual links (run it with sudo)");
        }
        List<String> missing =
                Stream.of("ip", "tc").filter(t -> find(t).isEmpty()).toList();
        if (!missing.isEmpty()) {
            problems.add("needs the ip and tc commands (Debian: apt-get install iproute2); missing: "
                    + String.join(", ", missing));
        }
        return problems.isEmpty() ? Optional.empty() : Optional.of(String.join("; ", problems));
    }

    private static boolean isRoot() {
        try {
            return Files.readAllLines(Path.of("/proc/self/status")).stream()
                    .filter(l -> l.startsWith("Uid:"))
                    .anyMatch(l -> l.split("\\s+")[2].equals("0")); // the effective user id
        } catch (IOException e) {
            return false;
        }
    }

    /** Runs {@code tool args}, whatever its exit status. */
    static Result attempt(String tool, List<String> args) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(find(tool).map(Path::toString).orElse(tool));
        cmd.addAll(args);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        try {
            String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException(String.join(" ", cmd) + ": did not finish within 30 s");
            }
            return new Result(p.exitValue(), output);
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException(String.join(" ", cmd) + ": interrupted", e);
        }
    }

    /** Runs {@code tool args}; a failure is an exception naming the command and what it printed. */
    static String run(String tool, String... args) throws IOException {
        Result r = attempt(tool, List.of(args));
        if (!r.ok()) {
            throw new IOException(
                    tool + " " + String.join(" ", args) + " failed (status " + r.status() + "): " + r.output());
        }
        return r.output();
    }
}
