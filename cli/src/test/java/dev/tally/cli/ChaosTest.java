package dev.tally.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tally.testbed.chaos.Chaos;
import dev.tally.testbed.chaos.ChaosOptions;
import dev.tally.testbed.chaos.ChaosSummary;
import dev.tally.testbed.chaos.Fault;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;

/**
 * The CI version of {@code tally chaos}: six validator processes behind the chaos proxies, 60 s of faults on a fixed
 * seed (a cycle covering kills, f + 1 kills, pauses, partitions, a split, delay, dropped connections and a wiped
 * validator), then the checks: no disagreement, no lost block, no advance without a quorum, and recovery.
 *
 * <p>The network (configs, {@code node*}{@code /node.log}, the run's event log in {@code chaos.log}) lives under
 * {@code target/chaos-test/}; a failed run keeps it and names it in the failure, a passed one removes it.
 */
class ChaosTest {
    private static final DateTimeFormatter RUN_NAME =
            DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss-SSS").withZone(ZoneOffset.UTC);

    @Test
    @EnabledOnOs(OS.LINUX) // the proxies identify connections through /proc
    @Timeout(value = 15, unit = TimeUnit.MINUTES) // the start alone may wait 2 x 180 s on a loaded machine
    void sixtySecondsOfFaultsLoseNothingAndRecover() throws Exception {
        Path dir =
                Path.of("target", "chaos-test", RUN_NAME.format(Instant.now())).toAbsolutePath();
        String kept = "the network and its node logs are kept in " + dir + " (node*/node.log, chaos.log)";
        Files.createDirectories(dir);
        StringWriter log = new StringWriter();
        PrintWriter out = new PrintWriter(log, true);
        // Disk faults need mounts (root) and take a node restart each; the 5-minute run covers them.
        EnumSet<Fault> faults = EnumSet.complementOf(EnumSet.of(Fault.READONLY, Fault.DISKFULL));
        ChaosOptions options = ChaosOptions.builder(dir)
                .validators(6)
                .duration(Duration.ofSeconds(60))
                .seed(4)
                .viewTimeout(Duration.ofMillis(1000))
                .recoveryTimeout(Duration.ofSeconds(120))
                .faults(faults)
                .build();
        ChaosSummary s;
        try (Chaos chaos = new Chaos(options, out)) {
            s = chaos.run();
        } catch (IOException e) {
            throw new AssertionError("the chaos run failed: " + e.getMessage() + "; " + kept, e);
        } finally {
            System.out.println(log);
            Files.writeString(dir.resolve("chaos.log"), log.toString());
        }
        String text = s.text() + "\n" + kept;
        System.out.println(s.text());
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
        deleteTree(dir); // passed: nothing to look at, and six RocksDBs to free
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
