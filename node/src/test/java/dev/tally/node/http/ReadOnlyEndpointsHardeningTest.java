package dev.tally.node.http;

import static dev.tally.node.http.RawHttp.connect;
import static dev.tally.node.http.RawHttp.exchange;
import static dev.tally.node.http.RawHttp.readAnswer;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tally.node.SoloNode;
import dev.tally.node.config.HttpLimits;
import dev.tally.node.debug.DebugPage;
import dev.tally.node.executor.Node;
import dev.tally.node.http.RawHttp.Answer;
import dev.tally.node.metrics.MetricsServer;
import dev.tally.protocol.TestChain;
import io.prometheus.metrics.model.registry.Collector;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The metrics and debug-page servers get the RPC's hardening (issue 19): GET only, limits answered with their HTTP
 * codes, read timeouts, a connection cap, no internals in errors. Each server runs twice on a one-validator node:
 * with the defaults ({@link ReadOnlyPages#LIMITS}), and with a 1 s read timeout and 3 connections.
 */
class ReadOnlyEndpointsHardeningTest {
    static final TestChain CHAIN = new TestChain(1);
    static final InetSocketAddress ANY = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
    static final HttpLimits STRICT = HttpLimits.builder()
            .readTimeout(Duration.ofSeconds(1))
            .maxConnections(3)
            .maxBodyBytes(1024)
            .build();

    /** One endpoint: its page's path and what the page holds, on a default and a strict server. */
    record Endpoint(String name, String path, String mustContain, InetSocketAddress server, InetSocketAddress strict) {
        String get() {
            return "GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n";
        }

        @Override
        public String toString() {
            return name;
        }
    }

    static Node node;
    static List<Endpoint> endpoints;

    @BeforeAll
    static void start() throws Exception {
        node = SoloNode.start(CHAIN);
        MetricsServer metrics = MetricsServer.start(ANY, node.metrics().registry());
        MetricsServer strictMetrics =
                MetricsServer.start(ANY, STRICT, node.metrics().registry());
        DebugPage page = DebugPage.start(node, ANY);
        DebugPage strictPage = DebugPage.start(node, ANY, STRICT);
        for (AutoCloseable c : List.of(metrics, strictMetrics, page, strictPage)) {
            node.attach(c);
        }
        endpoints = List.of(
                new Endpoint("metrics", "/metrics", "tally_", metrics.address(), strictMetrics.address()),
                new Endpoint("debug page", "/", "<h1>tally node</h1>", page.address(), strictPage.address()));
    }

    @AfterAll
    static void stop() {
        node.close();
    }

    static Stream<Endpoint> endpoints() {
        return endpoints.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("endpoints")
    void aGetOfThePageIsServedAndNothingElseIs(Endpoint e) throws Exception {
        Answer ok = exchange(e.server(), e.get());
        assertThat(ok.status()).isEqualTo(200);
        assertThat(ok.body()).contains(e.mustContain());
        for (String method : List.of("POST", "PUT", "DELETE", "OPTIONS")) {
            Answer refused = exchange(
                    e.server(), method + " " + e.path() + " HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}");
            assertThat(refused.status()).as(method).isEqualTo(405);
            assertThat(refused.head()).as(method).contains("Allow: GET");
        }
        assertThat(exchange(e.server(), "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n").status())
                .isEqualTo(404);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("endpoints")
    void oversizedAndMalformedRequestsGetTheirHttpCodes(Endpoint e) throws Exception {
        assertThat(exchange(e.server(), "GET /" + "a".repeat(1 << 20) + " HTTP/1.1\r\nHost: x\r\n\r\n")
                        .status())
                .as("a 1 MB URL")
                .isEqualTo(414);
        assertThat(exchange(e.server(), e.get().replace("\r\n\r\n", "\r\n" + "X-A: b\r\n".repeat(10_000) + "\r\n"))
                        .status())
                .as("10,000 headers")
                .isEqualTo(431);
        assertThat(exchange(e.server(), "GET " + e.path() + " HTTP/1.1\r\nContent-Length: 6000000\r\n\r\n{")
                        .status())
                .as("a 6 MB body")
                .isEqualTo(413);
        assertThat(exchange(e.server(), "GARBAGE\r\n\r\n").status()).isEqualTo(400);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("endpoints")
    void aRequestThatNeverFinishesIsAnswered408AfterTheReadTimeout(Endpoint e) throws Exception {
        long start = System.nanoTime();
        assertThat(RawHttp.neverFinishedHeaders(e.strict(), "GET " + e.path() + " HTTP/1.1")
                        .status())
                .isEqualTo(408);
        assertThat(Duration.ofNanos(System.nanoTime() - start))
                .as("one deadline for the whole request")
                .isLessThan(Duration.ofSeconds(4));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("endpoints")
    void connectionsBeyondTheCapAreAnswered503(Endpoint e) throws Exception {
        List<Socket> held = new ArrayList<>();
        try {
            for (int i = 0; i < 3; i++) {
                Socket s = connect(e.strict());
                s.getOutputStream().write(e.get().getBytes(StandardCharsets.US_ASCII));
                assertThat(readAnswer(s.getInputStream()).status()).isEqualTo(200); // kept alive, holding its slot
                held.add(s);
            }
            Answer refused = exchange(e.strict(), e.get());
            assertThat(refused.status()).isEqualTo(503);
            assertThat(refused.body()).contains("too many connections");
        } finally {
            for (Socket s : held) {
                s.close();
            }
        }
    }

    @Test
    void aScrapeThatFailsInsideTheNodeIs500WithoutItsDetail() throws Exception {
        PrometheusRegistry broken = new PrometheusRegistry();
        broken.register((Collector) () -> {
            throw new IllegalStateException("corrupt value in /data/db/000042.sst: \u0000");
        });
        try (MetricsServer metrics = MetricsServer.start(ANY, broken)) {
            Answer a = exchange(metrics.address(), "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
            assertThat(a.status()).isEqualTo(500);
            assertThat(a.body()).contains("the node's log has the details");
            assertThat(a.body()).doesNotContain("corrupt", "IllegalState", "000042", "\u0000");
        }
    }
}
