package dev.tally.node.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tally.node.executor.Node;
import dev.tally.node.rpc.RpcMethods;
import dev.tally.node.rpc.RpcServer;
import dev.tally.storage.InMemoryStorage;
import dev.tally.storage.RocksStorage;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Issue 19: health answers the truth through a chain halt (2 of 6 validators stopped: no quorum) and after it. */
class HealthTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient HTTP = HttpClient.newHttpClient();

    @TempDir
    Path dir;

    record Answer(int status, JsonNode body) {}

    static Answer get(RpcServer rpc, String path) {
        try {
            HttpResponse<String> r = HTTP.send(
                    HttpRequest.newBuilder(URI.create(
                                    "http://127.0.0.1:" + rpc.address().getPort() + "/" + path))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            return new Answer(r.statusCode(), JSON.readTree(r.body()));
        } catch (IOException e) {
            throw new AssertionError(path + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    static double gauge(Node node, String name) {
        for (MetricSnapshot s : node.metrics().registry().scrape()) {
            if (s.getMetadata().getPrometheusName().equals(name)) {
                return ((GaugeSnapshot) s).getDataPoints().getFirst().getValue();
            }
        }
        throw new AssertionError("no metric " + name);
    }

    @Test
    @Timeout(value = 90, unit = TimeUnit.SECONDS)
    void aHaltedChainIsStalled503AndOkAgainOnceQuorumReturns() throws Exception {
        Duration viewTimeout = Duration.ofMillis(300);
        try (Cluster c = new Cluster(6, viewTimeout)) {
            for (int i = 0; i < c.size(); i++) {
                c.startValidator(
                        i,
                        i >= 4
                                ? RocksStorage.open(dir.resolve("v" + i), c.chain.genesis)
                                : InMemoryStorage.create(c.chain.genesis));
            }
            Node watched = c.validators[0];
            RpcServer rpc = RpcServer.start(
                    new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                    new RpcMethods(watched),
                    watched.metrics());
            watched.attach(rpc);
            c.awaitAll(3, Duration.ofSeconds(20));
            Cluster.await(
                    "health ok",
                    Duration.ofSeconds(10),
                    () -> get(rpc, "health").status() == 200);
            Answer ok = get(rpc, "health");
            assertThat(ok.body().get("status").asText()).isEqualTo("ok");
            assertThat(ok.body().get("reason").isNull()).isTrue();
            assertThat(ok.body().get("last_block").asLong()).isGreaterThanOrEqualTo(3);
            assertThat(ok.body().get("last_block_age_ms").asLong()).isLessThan(3 * viewTimeout.toMillis());
            assertThat(ok.body().at("/peers/gossip").asInt()).isEqualTo(5);
            assertThat(ok.body().at("/peers/consensus").asInt()).isEqualTo(5);
            assertThat(ok.body().at("/storage/kind").asText()).isEqualTo("memory");
            assertThat(get(rpc, "ready"))
                    .isEqualTo(new Answer(200, JSON.readTree("{\"ready\":true,\"status\":\"ok\"}")));
            double storedAt = gauge(watched, "tally_storage_last_block_timestamp_seconds");
            assertThat(storedAt)
                    .isCloseTo(System.currentTimeMillis() / 1000.0, org.assertj.core.data.Offset.offset(5.0));

            // Five of six weigh a quorum (n - f); four do not: the chain halts.
            c.stopValidator(4);
            c.stopValidator(5);
            Cluster.await(
                    "health stalled",
                    Duration.ofSeconds(10),
                    () -> get(rpc, "health").status() == 503);
            Answer stalled = get(rpc, "health");
            assertThat(stalled.body().get("status").asText()).isEqualTo("stalled");
            assertThat(stalled.body().get("reason").asText())
                    .contains("no block stored for", "view timeouts", "connected to 3 of 5 other validators");
            assertThat(stalled.body().get("last_block_age_ms").asLong())
                    .isGreaterThanOrEqualTo(3 * viewTimeout.toMillis());
            assertThat(stalled.body().at("/peers/consensus").asInt()).isEqualTo(3);
            Answer notReady = get(rpc, "ready");
            assertThat(notReady.status()).isEqualTo(503);
            assertThat(notReady.body().get("status").asText()).isEqualTo("stalled");
            assertThat(get(rpc, "health_check").status())
                    .as("GET /health_check as /health")
                    .isEqualTo(503);
            long haltedAt = watched.storedBlocks().last();

            // A transaction waits in the mempool through the halt: the depth gauges move.
            assertThat(watched.submitTransaction(new byte[] {1, 2, 3}))
                    .isInstanceOf(dev.tally.network.TransactionSink.Result.Accepted.class);
            assertThat(gauge(watched, "tally_mempool_depth_transactions")).isEqualTo(1.0);
            assertThat(gauge(watched, "tally_mempool_depth_bytes")).isEqualTo(3.0);

            c.startValidator(4, RocksStorage.open(dir.resolve("v4"), c.chain.genesis));
            c.startValidator(5, RocksStorage.open(dir.resolve("v5"), c.chain.genesis));
            Cluster.await(
                    "health ok after the halt",
                    Duration.ofSeconds(20),
                    () -> get(rpc, "health").status() == 200);
            assertThat(get(rpc, "health").body().get("status").asText()).isEqualTo("ok");
            assertThat(get(rpc, "ready").status()).isEqualTo(200);
            assertThat(watched.storedBlocks().last()).isGreaterThan(haltedAt);
            assertThat(gauge(watched, "tally_storage_last_block_timestamp_seconds"))
                    .isGreaterThan(storedAt);
            Cluster.await(
                    "the transaction final and out of the mempool",
                    Duration.ofSeconds(10),
                    () -> gauge(watched, "tally_mempool_depth_transactions") == 0.0);
            assertThat(gauge(watched, "tally_mempool_depth_bytes")).isEqualTo(0.0);
        }
    }
}
