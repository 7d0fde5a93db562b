package dev.tally.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tally.testbed.chaos.Chaos;
import dev.tally.testbed.chaos.ChaosOptions;
import dev.tally.testbed.chaos.ChaosSummary;
import dev.tally.testbed.chaos.Fault;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CI version of {@code tally chaos}: six validator processes behind the chaos proxies, 60 s of faults on a fixed
 * seed (a cycle covering kills, f + 1 kills, pauses, partitions, a split, delay, dropped connections and a wiped
 * validator), then the checks: no disagreement, no lost block, no advance without a quorum, and recovery.
 */
class ChaosTest {
    @TempDir
    Path dir;

    @Test
    @EnabledOnOs(OS.LINUX) // the proxies identify connections through /proc
    @Timeout(value = 10, unit = TimeUnit.MINUTES)
    void sixtySecondsOfFaultsLoseNothingAndRecover() throws Exception {
        StringWriter log = new StringWriter();
        PrintWriter out = new PrintWriter(log, true);
        // Disk faults need mounts (root) and take a node restart each; the 5-minute run covers them.
        EnumSet<Fault> faults = EnumSet.complementOf(EnumSet.of(Fault.READONLY, Fault.DISKFULL));
        ChaosSummary s;
        ChaosOptions options = ChaosOptions.builder(dir.resolve("net"))
                .validators(6)
                .duration(Duration.ofSeconds(60))
                .seed(4)
                .viewTimeout(Duration.ofMillis(1000))
                .recoveryTimeout(Duration.ofSeconds(120))
                .faults(faults)
                .build();
        try (Chaos chaos = new Chaos(options, out)) {
            s = chaos.run();
        }
        String text = s.text();
        System.out.println(log);
        System.out.println(text);
        assertThat(s.disagreements()).as(text).isZero();
        assertThat(s.lostBlocks()).as(text).isZero();
        assertThat(s.haltViolations()).as(text).isZero();
        assertThat(s.notResumed()).as(text).isZero();
        assertThat(s.recovered()).as(text).isTrue();
        assertThat(s.faults().values().stream().mapToInt(Integer::intValue).sum())
                .as(text)
                .isGreaterThanOrEqualTo(3);
        assertThat(s.restarts()).as(text).isPositive();
        assertThat(s.blocksFinalized()).as(text).isPositive();
        assertThat(s.ok()).as(text).isTrue();
    }
}
