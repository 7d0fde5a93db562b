package dev.tally.node.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tally.node.Await;
import dev.tally.node.ForwardingStorage;
import dev.tally.node.MetricSnapshots;
import dev.tally.node.executor.Node;
import dev.tally.node.executor.NodeHealth;
import dev.tally.node.rpc.RpcMethods;
import dev.tally.node.rpc.RpcServer;
import dev.tally.protocol.FinalBlock;
import dev.tally.storage.InMemoryStorage;
import dev.tally.storage.RocksStorage;
import dev.tally.storage.Storage;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
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

    /** Polls {@code path} until it answers {@code status}; the answer. */
    static Answer await(RpcServer rpc, String path, int status, Duration timeout) throws InterruptedException {
        Answer[] last = new Answer[1];
        Await.until(path + " answering " + status, timeout, () -> {
            last[0] = get(rpc, path);
            return last[0].status() == status;
        });
        return last[0];
    }

    static double gauge(Node node, String name) {
        return MetricSnapshots.value(node.metrics(), name, null, null);
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
            Answer ok = await(rpc, "health", 200, Duration.ofSeconds(10));
            assertThat(ok.body().get("status").asText()).isEqualTo("ok");
            assertThat(ok.body().get("reason").isNull()).isTrue();
            assertThat(ok.body().get("last_block").asLong()).isGreaterThanOrEqualTo(3);
            assertThat(ok.body().get("last_block_age_ms").asLong()).isLessThan(3 * viewTimeout.toMillis());
            assertThat(ok.body().at("/peers/gossip").asInt()).isEqualTo(5);
            assertThat(ok.body().at("/peers/consensus").asInt()).isEqualTo(5);
            assertThat(ok.body().at("/storage/kind").asText()).isEqualTo("memory");
            assertThat(await(rpc, "ready", 200, Duration.ofSeconds(10)).body())
                    .isEqualTo(JSON.readTree("{\"ready\":true,\"status\":\"ok\"}"));
            double storedAt = gauge(watched, "tally_storage_last_block_timestamp_seconds");
            assertThat(storedAt)
                    .isCloseTo(System.currentTimeMillis() / 1000.0, org.assertj.core.data.Offset.offset(5.0));

            // Five of six weigh a quorum (n - f); four do not: the chain halts.
            c.stopValidator(4);
            c.stopValidator(5);
            Answer stalled = await(rpc, "health", 503, Duration.ofSeconds(10));
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
            assertThat(await(rpc, "health", 200, Duration.ofSeconds(20))
                            .body()
                            .get("status")
                            .asText())
                    .isEqualTo("ok");
            assertThat(await(rpc, "ready", 200, Duration.ofSeconds(10))
                            .body()
                            .get("ready")
                            .asBoolean())
                    .isTrue();
            assertThat(watched.storedBlocks().last()).isGreaterThan(haltedAt);
            assertThat(gauge(watched, "tally_storage_last_block_timestamp_seconds"))
                    .isGreaterThan(storedAt);
            Await.until(
                    "the transaction final and out of the mempool",
                    Duration.ofSeconds(10),
                    () -> gauge(watched, "tally_mempool_depth_transactions") == 0.0);
            assertThat(gauge(watched, "tally_mempool_depth_bytes")).isEqualTo(0.0);
        }
    }

    @Test
    @Timeout(value = 90, unit = TimeUnit.SECONDS)
    void aFullNodeSyncingOldBlocksIsCatchingUpThenOk() throws Exception {
        try (Cluster c = new Cluster(4, Duration.ofMillis(300))) {
            c.startAllInMemory();
            c.awaitAll(SLOW_BLOCKS, Duration.ofSeconds(40));
            // Stores its first blocks slowly, so block sync takes a few seconds to bring them.
            Node full = c.startOther(
                    c.fullNodeConfig(0, 1, 2, 3), new SlowAppends(InMemoryStorage.create(c.chain.genesis)));
            Await.until(
                    "catching_up",
                    Duration.ofSeconds(20),
                    () -> full.health().status() == NodeHealth.Status.CATCHING_UP);
            NodeHealth behind = full.health();
            assertThat(behind.reason()).contains("blocks behind", "block sync is fetching them");
            assertThat(behind.consensusPeers()).as("a full node").isEmpty();
            Await.until("ok", Duration.ofSeconds(30), () -> full.health().status() == NodeHealth.Status.OK);
            assertThat(full.storedBlocks().last()).isGreaterThanOrEqualTo(SLOW_BLOCKS);
        }
    }

    static final int SLOW_BLOCKS = 40;

    /** In-memory storage that takes 40 ms to append each of the first {@link #SLOW_BLOCKS} blocks. */
    static final class SlowAppends extends ForwardingStorage {
        SlowAppends(Storage inner) {
            super(inner);
        }

        private static void slowly(FinalBlock b) {
            if (b.number() < SLOW_BLOCKS) {
                try {
                    Thread.sleep(40);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }

        @Override
        public void append(FinalBlock b) {
            slowly(b);
            super.append(b);
        }

        @Override
        public void appendAll(List<FinalBlock> bs) {
            bs.forEach(SlowAppends::slowly);
            super.appendAll(bs);
        }
    }
}
