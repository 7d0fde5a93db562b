package dev.tally.testbed.loadtest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class ProcCpuTest {
    @Test
    void theCompilersOfThisJvmHaveUsedSomeOfItsCpu() throws IOException {
        assumeTrue(Files.isDirectory(Path.of("/proc/self/task")), "Linux /proc");
        long pid = ProcessHandle.current().pid();
        long compilers = ProcCpu.compilerNanos(pid);
        long process = ProcCpu.processNanos(pid);
        // A JVM that has loaded JUnit and AssertJ has compiled for far more than one clock tick (10 ms).
        assertThat(compilers).isPositive().isLessThan(process);
    }

    @Test
    void aWindowInWhichTheCompilersTookATenthOfTheNodesCpuIsNotedAsWarmUp() {
        assertThat(LoadTestReport.compilerNote(1.8, 0.6))
                .hasValueSatisfying(note -> assertThat(note).contains("33 %").contains("--warmup"));
        assertThat(LoadTestReport.compilerNote(1.8, 0.2)).isPresent();
        assertThat(LoadTestReport.compilerNote(1.8, 0.05)).isEmpty();
        assertThat(LoadTestReport.compilerNote(0, 0)).isEmpty();
    }
}
