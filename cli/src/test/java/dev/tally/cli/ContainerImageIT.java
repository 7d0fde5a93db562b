package dev.tally.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.abort;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tally.testbed.localnet.Localnet;
import java.io.ByteArrayInputStream;
import java.io.File;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The OCI image for real (run by failsafe after the jars are packaged, in a full {@code mvn verify}): bin/image builds
 * it and loads it into podman, a one-validator chain runs in a container from it, and the host reads its health and a
 * final block over RPC through a published port, then removes the container. Skipped, saying why, without podman or
 * runc (.ci/run installs both from Debian when it can).
 */
class ContainerImageIT {
    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    /** Debian's podman needs the runc runtime and these rlimits on the machines CI runs on. */
    private static final List<String> RUN = List.of(
            "podman", "--runtime", "runc", "run", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024");

    private static final int RPC_PORT = 3154;
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    @Test
    void aOneValidatorChainRunsInTheImageAndAnswersRpcFromTheHost() throws Exception {
        requirePodmanWithRunc();
        Result built = run(Duration.ofMinutes(10), ROOT.resolve("bin/image").toString(), "--no-build");
        assertThat(built.exitCode()).as(built.output()).isZero();
        String image = built.lastLine().split(" ")[0];
        assertThat(image).startsWith("localhost/tally:");
        assertThat(podman("image", "inspect", "--format", "{{.Config.User}} {{json .Config.Volumes}}", image))
                .isEqualTo("10001:10001 {\"/var/lib/tally\":{}}");

        Path node = oneValidatorConfig();
        int rpcPort = freePort();
        String name = "tally-it-" + UUID.randomUUID();
        List<String> start = new ArrayList<>(RUN);
        // :U hands the mounted config and key files to the image's user, as a Kubernetes fsGroup would.
        start.addAll(List.of("-d", "--name", name, "-p", "127.0.0.1:" + rpcPort + ":" + RPC_PORT, "-v"));
        start.addAll(List.of(node + ":/etc/tally:U", "-e", "TALLY_NODE_KEY=" + nodeKey(node), image));
        try {
            Result started = run(Duration.ofMinutes(1), start.toArray(String[]::new));
            assertThat(started.exitCode()).as(started.output()).isZero();
            String base = "http://127.0.0.1:" + rpcPort;
            JsonNode health = awaitHealthWithABlock(base, name);
            assertThat(health.get("validator").asBoolean()).isTrue();
            long last = health.get("last_block").asLong();
            String block = get(base + "/block?number=" + last).body();
            StringWriter out = new StringWriter();
            StringWriter err = new StringWriter();
            int verified = Main.commandLine(new ByteArrayInputStream(block.getBytes(StandardCharsets.UTF_8)))
                    .setOut(new PrintWriter(out))
                    .setErr(new PrintWriter(err))
                    .execute(
                            "verify-block",
                            "--genesis",
                            dir.resolve("genesis.json").toString());
            assertThat(verified).as(out + "" + err).isZero();
            assertThat(out.toString()).contains("block " + last + " verifies");
        } finally {
            run(Duration.ofMinutes(1), "podman", "rm", "--force", "--volumes", name);
        }
        assertThat(run(Duration.ofSeconds(30), "podman", "container", "exists", name)
                        .exitCode())
                .as("container %s removed", name)
                .isEqualTo(1);
    }

    /**
     * A localnet of one validator, its config rewritten for a container: listening on all interfaces of the
     * container's network, the validator key through validator_key_file, the node key from the environment.
     */
    private Path oneValidatorConfig() throws IOException {
        Localnet.Member m = Localnet.generate(dir, 1, 0, Duration.ofSeconds(1)).getFirst();
        ObjectNode c = (ObjectNode) JSON.readTree(m.configFile().toFile());
        c.put("server_addr", "0.0.0.0:3054").put("public_addr", "127.0.0.1:3054");
        c.put("rpc_addr", "0.0.0.0:" + RPC_PORT);
        c.remove(List.of("metrics_addr", "debug_page_addr", "validator_key"));
        c.putArray("gossip_static_outbound");
        c.put("validator_key_file", "validator.key");
        c.putObject("node_key").put("env", "TALLY_NODE_KEY");
        Files.writeString(m.configFile(), c.toString());
        return m.dir();
    }

    private static String nodeKey(Path node) throws IOException {
        String key = Files.readString(node.resolve("node.key")).strip();
        Files.delete(node.resolve("node.key"));
        return key;
    }

    /** Polls /health until the node says ok with a final block; on a timeout, fails with the container's log. */
    private JsonNode awaitHealthWithABlock(String base, String container) throws Exception {
        Instant deadline = Instant.now().plus(Duration.ofSeconds(90));
        String last = "no answer";
        while (Instant.now().isBefore(deadline)) {
            try {
                HttpResponse<String> r = get(base + "/health");
                last = r.statusCode() + " " + r.body();
                JsonNode health = JSON.readTree(r.body());
                if (r.statusCode() == 200 && health.path("last_block").isNumber()) {
                    assertThat(health.get("status").asText()).isEqualTo("ok");
                    return health;
                }
            } catch (IOException e) {
                last = e.toString(); // not listening yet
            }
            TimeUnit.MILLISECONDS.sleep(500);
        }
        throw new AssertionError("no healthy node with a final block within 90 s; last answer: " + last + "\nlog:\n"
                + run(Duration.ofSeconds(30), "podman", "logs", container).output());
    }

    private HttpResponse<String> get(String uri) throws IOException, InterruptedException {
        return http.send(
                HttpRequest.newBuilder(URI.create(uri))
                        .timeout(Duration.ofSeconds(5))
                        .GET()
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static void requirePodmanWithRunc() throws IOException, InterruptedException {
        if (!onPath("podman")) {
            abort("podman is not installed (Debian: apt-get install -y podman runc; .ci/run installs them as root)");
        }
        if (!onPath("runc")) {
            abort("runc is not installed, and Debian's podman runs containers here with it only "
                    + "(apt-get install -y runc; .ci/run installs it as root)");
        }
    }

    private static boolean onPath(String program) {
        String path = System.getenv().getOrDefault("PATH", "") + File.pathSeparator + "/usr/sbin:/sbin";
        return Stream.of(path.split(File.pathSeparator))
                .filter(d -> !d.isEmpty())
                .anyMatch(d -> Files.isExecutable(Path.of(d, program)));
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private static String podman(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("podman"));
        command.addAll(List.of(args));
        Result r = run(Duration.ofMinutes(1), command.toArray(String[]::new));
        assertThat(r.exitCode()).as(r.output()).isZero();
        return r.lastLine();
    }

    record Result(int exitCode, String output) {
        String lastLine() {
            List<String> lines = output.strip().lines().toList();
            return lines.isEmpty() ? "" : lines.getLast();
        }
    }

    /** Runs a command, stdout and stderr together; a command still running after {@code timeout} is killed. */
    private static Result run(Duration timeout, String... command) throws IOException, InterruptedException {
        Path log = Files.createTempFile("tally-it", ".log");
        try {
            Process p = new ProcessBuilder(command)
                    .redirectErrorStream(true)
                    .redirectOutput(log.toFile())
                    .start();
            if (!p.waitFor(timeout.toSeconds(), TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor();
                throw new AssertionError(String.join(" ", command) + " did not finish within " + timeout + ":\n"
                        + Files.readString(log));
            }
            return new Result(p.exitValue(), Files.readString(log));
        } finally {
            Files.delete(log);
        }
    }
}
