package dev.tally.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tally.protocol.Codec;
import dev.tally.protocol.Epoch;
import dev.tally.protocol.FinalBlock;
import dev.tally.testbed.localnet.Localnet;
import dev.tally.testbed.localnet.RpcClient;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Six validators as six real processes on loopback, with RocksDB, as {@code bin/tally localnet} runs them: they
 * finalize blocks, agree on them, answer RPC and serve metrics; a validator stopped with SIGTERM resumes where it was.
 */
class LocalnetEndToEndTest {
    static final int VALIDATORS = 6;

    @TempDir
    Path dir;

    final List<Process> processes = new ArrayList<>();

    @AfterEach
    void stopAll() throws InterruptedException {
        stopAll(processes);
    }

    /** SIGTERM every node process, then SIGKILL those still running after 10 s. */
    static void stopAll(List<Process> processes) throws InterruptedException {
        processes.forEach(Process::destroy);
        for (Process p : processes) {
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
        }
    }

    record Run(int exitCode, String out, String err) {}

    static Run tally(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.commandLine(new ByteArrayInputStream(new byte[0]))
                .setOut(new PrintWriter(out))
                .setErr(new PrintWriter(err))
                .execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    @Timeout(value = 3, unit = TimeUnit.MINUTES)
    void sixValidatorProcessesFinalizeAgreeAndResumeAfterSigterm() throws Exception {
        Run gen = tally(
                "localnet",
                "--validators",
                "6",
                "--dir",
                dir.toString(),
                "--generate-only",
                "--view-timeout-ms",
                "1000");
        assertThat(gen.exitCode()).as(gen.err()).isZero();
        List<Localnet.Member> members = Localnet.read(dir);
        assertThat(members).hasSize(VALIDATORS);
        for (Localnet.Member m : members) {
            processes.add(Localnet.launch(m));
        }
        List<RpcClient> rpc = members.stream()
                .map(m -> new RpcClient(m.config().rpcAddr().orElseThrow()))
                .toList();

        for (int i = 0; i < VALIDATORS; i++) {
            awaitBlock(rpc.get(i), members.get(i), 5, Duration.ofSeconds(90));
        }

        // Every node holds the same blocks 0..5, each verifiable offline from its canonical encoding.
        Epoch epoch = Epoch.of(members.getFirst().config().genesis());
        for (long n = 0; n <= 5; n++) {
            Set<String> hashes = new HashSet<>();
            for (RpcClient c : rpc) {
                JsonNode b = c.call("block", n);
                FinalBlock block = Codec.decodeFinalBlock(
                        HexFormat.of().parseHex(b.get("encoded").asText()));
                block.verify(epoch);
                assertThat(block.number()).isEqualTo(n);
                assertThat(b.get("payload_hash").asText())
                        .isEqualTo(block.header().payload().toText());
                hashes.add(b.get("payload_hash").asText());
            }
            assertThat(hashes).as("payload hashes of block %d across nodes", n).hasSize(1);
        }

        // The other RPC methods answer.
        RpcClient first = rpc.getFirst();
        assertThat(first.call("health_check").get("status").asText()).isEqualTo("ok");
        assertThat(first.call("last_view").get("view").asLong()).isGreaterThan(5);
        assertThat(first.call("genesis").get("hash").asText())
                .isEqualTo(epoch.genesis().toText());
        assertThat(first.call("validators")).hasSize(VALIDATORS);
        assertThat(first.call("peers").get("gossip").size()).isPositive();
        assertThat(first.call("push_tx", "0102030405").asText()).isEqualTo("accepted");
        assertThat(first.call("push_tx", "0102030405").asText()).isEqualTo("duplicate");

        // Metrics carry the view, the finalized height and the data directory's free space.
        String metrics =
                get(members.getFirst()
                                .config()
                                .metricsAddr()
                                .orElseThrow()
                                .toString()
                                .replaceFirst("^[^/]*/", "") + "/metrics");
        assertThat(metrics)
                .containsPattern("(?m)^tally_consensus_view [0-9.E]+$")
                .containsPattern("(?m)^tally_consensus_finalized_block [0-9.E]+$")
                // Blocks are final, so a quorum is connected: discovery brought at least five of the six addresses.
                .containsPattern("(?m)^tally_network_validator_addresses [56](\\.0)?$")
                // Its consensus handshakes' signatures were checked, each in some batch.
                .containsPattern("(?m)^tally_network_signatures_checked_total [1-9][0-9.E]*$")
                .containsPattern("(?m)^tally_network_signature_batches_total [1-9][0-9.E]*$")
                .containsPattern("(?m)^tally_storage_free_bytes [1-9][0-9.E]*$");

        // SIGTERM one validator: it stops cleanly, and on restart resumes at least where it was.
        int victim = 3;
        long before = rpc.get(victim).call("last_committed_block").get("number").asLong();
        processes.get(victim).destroy();
        assertThat(processes.get(victim).waitFor(20, TimeUnit.SECONDS))
                .as("node exits after SIGTERM")
                .isTrue();
        assertThat(Files.readString(members.get(victim).logFile())).contains("storage closed");
        processes.set(victim, Localnet.launch(members.get(victim)));
        awaitBlock(rpc.get(victim), members.get(victim), before, Duration.ofSeconds(60));
        long othersNow =
                rpc.getFirst().call("last_committed_block").get("number").asLong();
        awaitBlock(rpc.get(victim), members.get(victim), othersNow + 1, Duration.ofSeconds(60));
    }

    @Test
    void aBadConfigFailsNamingTheField() throws IOException {
        Run gen = tally("localnet", "--validators", "1", "--dir", dir.toString(), "--generate-only");
        assertThat(gen.exitCode()).as(gen.err()).isZero();
        Path config = dir.resolve("node0").resolve("config.json");
        Files.writeString(
                config,
                Files.readString(config).replaceFirst("\"view_timeout_ms\" : \\d+", "\"view_timeout_ms\" : -5"));
        Run r = tally("node", "--config", config.toString(), "--in-memory");
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err()).contains("config.view_timeout_ms").doesNotContain("\tat ");
    }

    /** Waits until the node has finalized block {@code number}; on timeout, fails with the tail of its log. */
    static void awaitBlock(RpcClient c, Localnet.Member m, long number, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        long last = -1;
        while (System.nanoTime() < deadline) {
            try {
                JsonNode b = c.call("last_committed_block");
                if (!b.isNull()) {
                    last = b.get("number").asLong();
                    if (last >= number) {
                        return;
                    }
                }
            } catch (IOException e) {
                // not up yet
            }
            Thread.sleep(100);
        }
        throw new AssertionError(m.name() + " reached block " + last + ", not " + number + ", within " + timeout
                + "; log tail:\n" + logTail(m));
    }

    /** The last 40 lines of the member's log. */
    static String logTail(Localnet.Member m) throws IOException {
        List<String> log = Files.exists(m.logFile()) ? Files.readAllLines(m.logFile()) : List.of();
        return String.join("\n", log.subList(Math.max(0, log.size() - 40), log.size()));
    }

    static String get(String hostPortPath) throws IOException, InterruptedException {
        HttpResponse<String> r = HttpClient.newHttpClient()
                .send(
                        HttpRequest.newBuilder(URI.create("http://" + hostPortPath))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        return r.body();
    }
}
