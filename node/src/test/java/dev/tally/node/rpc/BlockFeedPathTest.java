package dev.tally.node.rpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tally.node.Await;
import dev.tally.node.MetricSnapshots;
import dev.tally.node.SoloNode;
import dev.tally.node.client.BlockFeed;
import dev.tally.node.client.TallyClient;
import dev.tally.node.config.HttpLimits;
import dev.tally.node.executor.Node;
import dev.tally.protocol.Codec;
import dev.tally.protocol.TestChain;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code GET /blocks} against a one-validator chain (which finalizes blocks on its own, a few a second): final blocks
 * in their canonical encoding, each answered the moment it is stored, and a clear error for a bad request.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class BlockFeedPathTest {
    static final HttpClient HTTP = HttpClient.newHttpClient();
    static final TestChain CHAIN = new TestChain(1);
    static Node node;
    static RpcServer server;
    static TallyClient client;

    @BeforeAll
    static void start() throws Exception {
        node = SoloNode.start(CHAIN);
        server = serve(node, HttpLimits.DEFAULT);
        client = clientOf(server);
        assertThat(node.awaitBlock(3, Duration.ofSeconds(20))).isTrue();
    }

    @AfterAll
    static void stop() {
        client.close();
        node.close();
    }

    @Test
    void storedBlocksComeInOrderAsTheNodeEncodesThemWithWhenTheyBecameFinal() throws Exception {
        List<BlockFeed.Entry> feed = client.blocks(0, 3, Duration.ZERO);

        assertThat(feed).extracting(e -> e.block().number()).containsExactly(0L, 1L, 2L);
        for (BlockFeed.Entry e : feed) {
            assertThat(Codec.encode(e.block()))
                    .isEqualTo(Codec.encode(node.block(e.block().number()).orElseThrow()));
            e.block().verify(CHAIN.epoch);
            assertThat(e.finalAtMillis())
                    .as(
                            "block %d was finalized by this node's replica",
                            e.block().number())
                    .hasValue(node.metrics()
                            .finalization(e.block().number())
                            .orElseThrow()
                            .finalAtUnixMillis());
        }
    }

    @Test
    void aReadOfTheNextBlockIsAnsweredTheMomentItIsStored() throws Exception {
        // A block some way ahead: not stored when the request arrives (the chain makes a few a second).
        long ahead = node.storedBlocks().last() + 3;
        long start = System.nanoTime();
        List<BlockFeed.Entry> feed = client.blocks(ahead, 10, Duration.ofSeconds(20));
        long tookMillis = (System.nanoTime() - start) / 1_000_000;

        assertThat(feed).isNotEmpty();
        assertThat(feed.getFirst().block().number()).isEqualTo(ahead);
        assertThat(MetricSnapshots.value(node.metrics(), "tally_rpc_block_feed_readers", null, null))
                .as("no reader waits once answered")
                .isZero();
        // A read that missed the moment its block was stored would wait the whole 20 s.
        assertThat(tookMillis).as("ms until the answer").isLessThan(10_000);
    }

    @Test
    void withoutAWaitABlockNotYetFinalIsAnEmptyAnswerAtOnce() throws Exception {
        long far = node.storedBlocks().last() + 1_000_000;
        assertThat(client.blocks(far, 10, Duration.ZERO)).isEmpty();
        assertThat(client.blocks(far, 10, Duration.ofMillis(50))).isEmpty();

        HttpResponse<byte[]> raw = HTTP.send(
                HttpRequest.newBuilder(URI.create(
                                "http://127.0.0.1:" + server.address().getPort() + "/blocks?from=" + far))
                        .build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertThat(raw.statusCode()).isEqualTo(200);
        assertThat(raw.headers().firstValue("Content-Type")).hasValue("application/octet-stream");
        assertThat(raw.body()).isEmpty();
    }

    @Test
    void anAnswerHoldsAtMostTheBlocksAskedFor() throws Exception {
        assertThat(client.blocks(1, 2, Duration.ZERO))
                .extracting(e -> e.block().number())
                .containsExactly(1L, 2L);
    }

    @Test
    void anAnswerPastTheByteLimitEndsAfterTheBlockThatCrossedIt() throws Exception {
        RpcServer small =
                serve(node, HttpLimits.builder().maxBatchAnswerChars(1).build());
        try (TallyClient c = clientOf(small)) {
            assertThat(c.blocks(0, 3, Duration.ZERO))
                    .extracting(e -> e.block().number())
                    .containsExactly(0L);
        } finally {
            small.close();
        }
    }

    @Test
    void aBadRequestIsRefusedNamingTheParam() throws Exception {
        assertRefused("blocks", 400, "missing param \\\"from\\\"");
        assertRefused("blocks?from=-1", 400, "param \\\"from\\\" must not be negative");
        assertRefused("blocks?from=x", 400, "param \\\"from\\\" must be a number");
        assertRefused("blocks?from=0&max=0", 400, "param \\\"max\\\" must be from 1 to 1000, got 0");
        assertRefused("blocks?from=0&max=1001", 400, "param \\\"max\\\" must be from 1 to 1000, got 1001");
        assertRefused("blocks?from=0&wait_ms=30001", 400, "param \\\"wait_ms\\\" must be from 0 to 30000, got 30001");
        assertThatThrownBy(() -> client.blocks(0, 0, Duration.ZERO))
                .isInstanceOfSatisfying(
                        TallyClient.RequestRefusedException.class,
                        e -> assertThat(e.status()).isEqualTo(400))
                .hasMessageContaining("param \"max\"");
    }

    @Test
    void aBlockBeforeTheChainsFirstIsNotStoredHere() throws Exception {
        Node later = SoloNode.start(new TestChain(1, 5));
        try (TallyClient c = clientOf(serve(later, HttpLimits.DEFAULT))) {
            assertThatThrownBy(() -> c.blocks(4, 1, Duration.ofSeconds(5)))
                    .isInstanceOfSatisfying(
                            TallyClient.RequestRefusedException.class,
                            e -> assertThat(e.status()).isEqualTo(404))
                    .hasMessageContaining("block 4 is not stored here");
        } finally {
            later.close();
        }
    }

    @Test
    void aReaderWaitingWhenTheNodeStopsIsLetGoAtOnce() throws Exception {
        Node stopping = SoloNode.start(new TestChain(1));
        try (TallyClient c = clientOf(serve(stopping, HttpLimits.DEFAULT))) {
            var reader = CompletableFuture.supplyAsync(() -> {
                try {
                    return c.blocks(1_000_000, 1, Duration.ofSeconds(30));
                } catch (Exception e) {
                    throw new CompletionException(e);
                }
            });
            Await.until(
                    "the reader to wait",
                    Duration.ofSeconds(10),
                    () -> MetricSnapshots.value(stopping.metrics(), "tally_rpc_block_feed_readers", null, null) >= 1);
            assertThat(MetricSnapshots.value(stopping.metrics(), "tally_rpc_block_feed_readers", null, null))
                    .as("the reader counted while it waits")
                    .isEqualTo(1);
            long start = System.nanoTime();
            stopping.close();
            assertThatThrownBy(() -> reader.get(10, TimeUnit.SECONDS))
                    .as("the reader's request ends with the node, not after its 30 s wait")
                    .isInstanceOf(ExecutionException.class);
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
        } finally {
            stopping.close();
        }
    }

    /** An RPC server on loopback for {@code n}, closed with it. */
    private static RpcServer serve(Node n, HttpLimits limits) throws IOException {
        RpcServer s = RpcServer.start(
                new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), limits, new RpcMethods(n), n.metrics());
        n.attach(s);
        return s;
    }

    private static TallyClient clientOf(RpcServer s) {
        return new TallyClient(URI.create("http://127.0.0.1:" + s.address().getPort() + "/"));
    }

    private static void assertRefused(String path, int status, String message) throws Exception {
        HttpResponse<String> r = HTTP.send(
                HttpRequest.newBuilder(URI.create(
                                "http://127.0.0.1:" + server.address().getPort() + "/" + path))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(path).isEqualTo(status);
        assertThat(r.headers().firstValue("Content-Type")).hasValue("application/json; charset=utf-8");
        assertThat(r.body()).as(path).contains(message);
    }
}
