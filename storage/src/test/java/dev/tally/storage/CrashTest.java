package dev.tally.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tally.protocol.FinalBlock;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kills a real writer process (SIGKILL, no shutdown hooks, no flush) at random moments and checks that nothing
 * it acknowledged is lost: every acknowledged block is there, without gaps, and the replica state is at least
 * the last acknowledged one. Then the writer restarts from what survived.
 */
class CrashTest {
    private static final int CYCLES = 20;

    @TempDir
    Path tmp;

    /** A running {@link CrashWriter} and what it acknowledged on stdout. */
    private static final class Writer {
        final Process process;
        final Path stderr;
        final CountDownLatch ready = new CountDownLatch(1);
        final Thread reader;
        volatile long readyBlock = -1;
        volatile long readyView = -1;
        volatile long lastBlock = -1;
        volatile long lastView = -1;
        final AtomicInteger acks = new AtomicInteger();

        Writer(Path dir, Path stderr) throws IOException {
            this.stderr = stderr;
            String java = ProcessHandle.current()
                    .info()
                    .command()
                    .orElse(Path.of(System.getProperty("java.home"), "bin", "java")
                            .toString());
            process = new ProcessBuilder(
                            java,
                            "--enable-native-access=ALL-UNNAMED",
                            "-XX:TieredStopAtLevel=1",
                            "-XX:+UseSerialGC",
                            "-Xss512k",
                            // jblst's unpacked library stays behind a killed JVM: keep it in the test's directory.
                            "-Djava.io.tmpdir=" + stderr.toAbsolutePath().getParent(),
                            "-cp",
                            System.getProperty("java.class.path"),
                            CrashWriter.class.getName(),
                            dir.toString())
                    .redirectError(stderr.toFile())
                    .start();
            reader = new Thread(this::read, "crash-writer-acks");
            reader.start();
        }

        private void read() {
            try (BufferedReader in =
                    new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = in.readLine()) != null) {
                    String[] parts = line.split(" ");
                    switch (parts[0]) {
                        case "ready" -> {
                            readyBlock = Long.parseLong(parts[1]);
                            readyView = Long.parseLong(parts[2]);
                            ready.countDown();
                        }
                        case "block" -> {
                            lastBlock = Long.parseLong(parts[1]);
                            acks.incrementAndGet();
                        }
                        case "state" -> {
                            lastView = Long.parseLong(parts[1]);
                            acks.incrementAndGet();
                        }
                        default -> {}
                    }
                }
            } catch (IOException | RuntimeException e) {
                // The pipe breaks when the process dies: what was read before counts.
            }
        }

        void awaitReady() throws Exception {
            if (!ready.await(30, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new AssertionError("the writer did not start; its stderr:\n" + Files.readString(stderr));
            }
        }

        void kill() throws Exception {
            process.destroyForcibly(); // SIGKILL on Unix
            assertThat(process.waitFor(20, TimeUnit.SECONDS))
                    .as("writer exited")
                    .isTrue();
            reader.join(20_000);
        }
    }

    @Test
    void killedWriterLosesNoAcknowledgedWrite() throws Exception {
        Path dir = tmp.resolve("data");
        Random random = new Random(4242);
        long ackedBlock = -1;
        long ackedView = -1;
        long survivedBlock = -1;
        int cyclesWithBlockAcks = 0;
        long totalAcks = 0;
        for (int cycle = 0; cycle < CYCLES; cycle++) {
            Writer w = new Writer(dir, tmp.resolve("writer-" + cycle + ".err"));
            w.awaitReady();
            // It resumes right after what survived the last kill.
            assertThat(w.readyBlock).as("cycle %d resumes at", cycle).isEqualTo(survivedBlock + 1);
            Thread.sleep(50 + random.nextInt(351));
            w.kill();
            assertThat(w.process.exitValue())
                    .as("killed, not exited: %s", Files.readString(w.stderr))
                    .isNotZero();
            if (w.lastBlock >= 0) {
                cyclesWithBlockAcks++;
                ackedBlock = Math.max(ackedBlock, w.lastBlock);
            }
            ackedView = Math.max(ackedView, w.lastView);
            totalAcks += w.acks.get();
            System.err.printf(
                    "crash cycle %d: resumed at block %d view %d, acknowledged up to block %d view %d%n",
                    cycle, w.readyBlock, w.readyView, w.lastBlock, w.lastView);

            try (RocksStorage s = RocksStorage.open(dir, CrashWriter.CHAIN.genesis)) {
                if (ackedBlock >= 0) {
                    BlockRange r = s.range().orElseThrow(() -> new AssertionError("acknowledged blocks lost"));
                    assertThat(r.first()).isZero();
                    assertThat(r.last())
                            .as("cycle %d: last block vs last acknowledged", cycle)
                            .isGreaterThanOrEqualTo(ackedBlock);
                    for (long n = r.first(); n <= r.last(); n++) {
                        FinalBlock b = s.block(n).orElseThrow(() -> new AssertionError("gap in the stored blocks"));
                        assertThat(b.number()).isEqualTo(n);
                        assertThat(b.payload()).isEqualTo(Blocks.payload(n));
                    }
                    survivedBlock = r.last();
                }
                if (ackedView >= 0) {
                    assertThat(s.replicaState()).isPresent();
                    assertThat(s.replicaState().get().view())
                            .as("cycle %d: state view", cycle)
                            .isGreaterThanOrEqualTo(ackedView);
                }
            }
        }
        // The kills must have hit a busy writer, or this test proves nothing.
        assertThat(cyclesWithBlockAcks).isGreaterThanOrEqualTo(CYCLES / 2);
        assertThat(totalAcks).isGreaterThan(2L * CYCLES);
    }

    @Test
    void directoryLockedByAnotherProcessIsRefused() throws Exception {
        Path dir = tmp.resolve("locked");
        Writer w = new Writer(dir, tmp.resolve("locked.err"));
        try {
            w.awaitReady();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (w.lastBlock < 0 && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            assertThat(w.lastBlock).as("the writer acknowledged a block").isGreaterThanOrEqualTo(0);
            assertThatThrownBy(() -> RocksStorage.open(dir, CrashWriter.CHAIN.genesis))
                    .isInstanceOf(StorageException.class)
                    .hasMessageContaining("in use")
                    .hasMessageContaining(dir.resolve("LOCK").toAbsolutePath().toString());
        } finally {
            w.kill();
        }
        try (RocksStorage s = RocksStorage.open(dir, CrashWriter.CHAIN.genesis)) {
            assertThat(s.range()).isPresent(); // the lock went with the process, the data stayed
        }
    }
}
