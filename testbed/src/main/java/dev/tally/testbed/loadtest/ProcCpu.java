package dev.tally.testbed.loadtest;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.regex.Pattern;

/**
 * CPU time of processes and of their JIT compiler threads, from Linux's {@code /proc}. The compilers' share tells how
 * far the nodes still are from their steady state: six JVMs sharing two cores keep compiling for minutes, and a window
 * taken meanwhile counts that work as the nodes' cost.
 */
final class ProcCpu {
    /** Clock ticks per second of /proc/<pid>/stat times (USER_HZ: 100 on every Linux this runs on). */
    private static final long CLOCK_TICKS = 100;
    /** HotSpot's C1 and C2 compiler threads ("C2 CompilerThread0"), as /proc truncates them to 15 characters. */
    private static final Pattern COMPILER_THREAD = Pattern.compile("C[12] CompilerThre.*");

    private ProcCpu() {}

    /** User + system CPU time of process {@code pid} so far, in nanoseconds. */
    static long processNanos(long pid) throws IOException {
        return nanos(Files.readString(Path.of("/proc", Long.toString(pid), "stat")));
    }

    /** User + system CPU time of the JIT compiler threads of process {@code pid} so far, in nanoseconds. */
    static long compilerNanos(long pid) throws IOException {
        long ns = 0;
        try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Path.of("/proc", Long.toString(pid), "task"))) {
            for (Path task : tasks) {
                String stat;
                try {
                    stat = Files.readString(task.resolve("stat"));
                } catch (NoSuchFileException e) {
                    continue; // the thread ended while listed
                }
                if (COMPILER_THREAD
                        .matcher(stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')')))
                        .matches()) {
                    ns += nanos(stat);
                }
            }
        }
        return ns;
    }

    /**
     * utime + stime of a stat line, in nanoseconds: fields 14 and 15, counted after the command name (which may hold
     * spaces).
     */
    private static long nanos(String stat) {
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return (Long.parseLong(f[11]) + Long.parseLong(f[12])) * (1_000_000_000L / CLOCK_TICKS);
    }
}
