package dev.tally.node.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tally.node.Await;
import dev.tally.node.ForwardingStorage;
import dev.tally.node.MetricSnapshots;
import dev.tally.node.executor.Node;
import dev.tally.node.rpc.RpcMethods;
import dev.tally.node.rpc.RpcServer;
import dev.tally.protocol.Codec;
import dev.tally.protocol.FinalBlock;
import dev.tally.storage.DiskDamage;
import dev.tally.storage.RocksStorage;
import dev.tally.storage.Storage;
import dev.tally.storage.StorageCheck;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 19: a bit flipped in a block file of a stopped node (real RocksDB on disk) is found by db check, detected
 * at read, served to no one, repaired from peers by block sync; health says degraded, then ok.
 */
class StorageIntegrityTest {
    static final int BLOCKS = 120;
    static final long DAMAGED = 60;

    @TempDir
    Path tmp;

    /** Holds repairs until released, so that the test sees the node degraded before block sync repairs it. */
    static final class HeldRepairs extends ForwardingStorage {
        final CountDownLatch release = new CountDownLatch(1);

        HeldRepairs(Storage inner) {
            super(inner);
        }

        @Override
        public void repair(FinalBlock b) {
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            super.repair(b);
        }
    }

    static double corruptBlocksTotal(Node node) {
        return MetricSnapshots.value(node.metrics(), "tally_storage_corrupt_blocks", null, null);
    }

    static JsonNode rpcBlock(RpcServer rpc, long number) throws Exception {
        HttpResponse<String> r = HealthTest.HTTP.send(
                HttpRequest.newBuilder(
                                URI.create("http://127.0.0.1:" + rpc.address().getPort() + "/"))
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(
                                "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"block\",\"params\":{\"number\":" + number
                                        + "}}"))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.body()).doesNotContain("Exception", "dev.tally", "\\u0000");
        return HealthTest.JSON.readTree(r.body());
    }

    @Test
    @Timeout(value = 150, unit = TimeUnit.SECONDS)
    void aFlippedBitIsFoundDegradesHealthAndIsRepairedFromPeers() throws Exception {
        Path data = tmp.resolve("full");
        try (Cluster c = new Cluster(4, Duration.ofMillis(300))) {
            c.startAllInMemory();
            var fullConfig = c.fullNodeConfig(0, 1, 2, 3);
            Node full = c.start(fullConfig, RocksStorage.open(data, c.chain.genesis));
            Await.until(
                    "the full node at block " + BLOCKS,
                    Duration.ofSeconds(90),
                    () -> full.storedBlocks().last() >= BLOCKS);
            full.close();
            full.awaitTermination();

            DiskDamage.compact(data);
            DiskDamage.flipBlock(data, DAMAGED);
            assertThat(StorageCheck.run(data).findings())
                    .as("db check")
                    .anySatisfy(f -> assertThat(f.record()).endsWith("(block " + DAMAGED + ")"));

            HeldRepairs storage = new HeldRepairs(RocksStorage.open(data, c.chain.genesis));
            Node restarted = c.startOther(fullConfig, storage);
            RpcServer rpc = RpcServer.start(
                    new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                    new RpcMethods(restarted),
                    restarted.metrics());
            restarted.attach(rpc);
            // The node's start read it already (the mempool's window of recent final blocks); a client's read is
            // answered as absent, without raw bytes or class names.
            JsonNode answer = rpcBlock(rpc, DAMAGED);
            assertThat(answer.at("/error/message").asText()).contains("block " + DAMAGED + " is not stored here");
            assertThat(storage.corruptBlocks()).contains(DAMAGED);
            assertThat(restarted.execution().block(DAMAGED))
                    .as("served to no one")
                    .isEmpty();
            assertThat(corruptBlocksTotal(restarted)).isGreaterThanOrEqualTo(1.0);
            HealthTest.Answer degraded = HealthTest.await(rpc, "health", 503, Duration.ofSeconds(10));
            assertThat(degraded.body().get("status").asText()).isEqualTo("degraded");
            assertThat(degraded.body().get("reason").asText()).contains("corrupt block ");
            assertThat(degraded.body().at("/storage/problem").asText()).contains("corrupt block ");

            storage.release.countDown();
            assertThat(HealthTest.await(rpc, "health", 200, Duration.ofSeconds(30))
                            .body()
                            .get("status")
                            .asText())
                    .isEqualTo("ok");
            assertThat(storage.corruptBlocks()).isEmpty();
            FinalBlock repaired = restarted.execution().block(DAMAGED).orElseThrow();
            FinalBlock reference = c.validators[0].execution().block(DAMAGED).orElseThrow();
            assertThat(Codec.encode(repaired)).isEqualTo(Codec.encode(reference));
            assertThat(rpcBlock(rpc, DAMAGED).at("/result/number").asLong()).isEqualTo(DAMAGED);
            long last = restarted.storedBlocks().last();
            Await.until(
                    "new blocks after the repair",
                    Duration.ofSeconds(20),
                    () -> restarted.storedBlocks().last() > last);
            restarted.close();
            restarted.awaitTermination();
        }
        // The damaged file was dropped once its blocks were repaired: the directory checks clean.
        DiskDamage.compact(data);
        StorageCheck.Report after = StorageCheck.run(data);
        assertThat(after.findings()).isEmpty();
        assertThat(after.blocksChecked()).isGreaterThan(BLOCKS);
    }
}
