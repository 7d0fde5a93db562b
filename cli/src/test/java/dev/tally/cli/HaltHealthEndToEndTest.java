package dev.tally.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tally.testbed.localnet.Localnet;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 19's halt, with real processes: {@code tally localnet} runs six validators; two of them are stopped (SIGSTOP),
 * which leaves no quorum. A remaining validator's {@code GET /health} must answer 503 {@code stalled} and the localnet
 * console print its stall line; once the two continue, {@code /health} is 200 {@code ok} again and the console says
 * the chain resumed.
 */
class HaltHealthEndToEndTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient HTTP =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    @TempDir
    Path dir;

    record Health(int status, JsonNode body) {}

    @Test
    @EnabledOnOs(OS.LINUX) // SIGSTOP and SIGCONT
    @Timeout(value = 8, unit = TimeUnit.MINUTES)
    void twoOfSixValidatorsStoppedMakeHealth503StalledThenOkOnceTheyContinue() throws Exception {
        Path net = dir.resolve("net");
        List<Localnet.Member> members = Localnet.generate(net, 6, 0, Duration.ofMillis(1000));
        Path console = dir.resolve("localnet.out");
        Process localnet =
                Localnet.launchJvm("localnet", List.of(), List.of("localnet", "--dir", net.toString()), console);
        List<ProcessHandle> stopped = List.of();
        try {
            InetSocketAddress rpc = members.getFirst().config().rpcAddr().orElseThrow();
            Health up = await(
                    rpc, h -> h.status() == 200 && h.body().path("last_block").asLong(-1) >= 2, console);
            assertThat(up.body().path("status").asText()).isEqualTo("ok");

            stopped = List.of(nodeProcess(localnet, members.get(4)), nodeProcess(localnet, members.get(5)));
            signal(stopped, "STOP");
            Health halted = await(rpc, h -> h.status() == 503, console);
            assertThat(halted.body().path("status").asText())
                    .as(halted.body().toString())
                    .isEqualTo("stalled");
            assertThat(halted.body().path("reason").asText()).as("the reason").startsWith("no block stored for");
            awaitConsole(console, "localnet: chain stalled: no new block for");

            signal(stopped, "CONT");
            long haltedAt = halted.body().path("last_block").asLong();
            Health resumed = await(
                    rpc, h -> h.status() == 200 && h.body().path("last_block").asLong(-1) > haltedAt + 1, console);
            assertThat(resumed.body().path("status").asText()).isEqualTo("ok");
            awaitConsole(console, "localnet: chain resumed: block");
        } finally {
            signal(stopped, "CONT");
            localnet.destroy(); // SIGTERM: localnet stops its nodes
            if (!localnet.waitFor(30, TimeUnit.SECONDS)) {
                localnet.descendants().forEach(ProcessHandle::destroyForcibly);
                localnet.destroyForcibly();
            }
        }
    }

    /**
     * The node process that {@code tally localnet} started for {@code m}, found by its config file in
     * {@code /proc/<pid>/cmdline}: {@code ProcessHandle.Info.arguments()} came back empty for these JVMs, whose
     * command lines carry the tests' long class path.
     */
    private static ProcessHandle nodeProcess(Process localnet, Localnet.Member m) {
        String config = m.configFile().toString();
        Optional<ProcessHandle> p = localnet.descendants()
                .filter(h -> commandLine(h).contains(config))
                .findFirst();
        assertThat(p).as("the process of " + m.name()).isPresent();
        return p.orElseThrow();
    }

    private static String commandLine(ProcessHandle h) {
        try (InputStream in = Files.newInputStream(Path.of("/proc", Long.toString(h.pid()), "cmdline"))) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8); // by stream: /proc files report size 0
        } catch (IOException e) {
            return ""; // exited meanwhile
        }
    }

    private static void signal(List<ProcessHandle> processes, String signal) throws IOException, InterruptedException {
        for (ProcessHandle p : processes) {
            new ProcessBuilder("kill", "-" + signal, Long.toString(p.pid()))
                    .inheritIO()
                    .start()
                    .waitFor();
        }
    }

    /** Polls GET /health until {@code wanted} holds (3 minutes at most: six JVMs may start slowly on a busy machine). */
    private static Health await(InetSocketAddress rpc, Predicate<Health> wanted, Path console) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
        Health last = null;
        while (System.nanoTime() < deadline) {
            try {
                HttpResponse<String> r = HTTP.send(
                        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + rpc.getPort() + "/health"))
                                .timeout(Duration.ofSeconds(5))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
                last = new Health(r.statusCode(), JSON.readTree(r.body()));
                if (wanted.test(last)) {
                    return last;
                }
            } catch (IOException e) {
                // starting up
            }
            Thread.sleep(250);
        }
        throw new AssertionError(
                "/health never answered as expected; last " + last + "; console:\n" + Files.readString(console));
    }

    static void awaitConsole(Path console, String line) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!Files.readString(console).contains(line)) {
            assertThat(System.nanoTime())
                    .as("console line %s; console:%n%s", line, Files.readString(console))
                    .isLessThan(deadline);
            Thread.sleep(250);
        }
    }
}
