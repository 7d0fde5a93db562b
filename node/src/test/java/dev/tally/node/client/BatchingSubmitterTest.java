package dev.tally.node.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tally.node.client.TallyClient.TxStatus;
import dev.tally.node.config.HttpLimits;
import dev.tally.node.http.HttpTransport;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Transactions given one at a time leave in batches by time, and each gets its own answer. */
class BatchingSubmitterTest {
    /** A made-up node: records each batch's size; a transaction whose first byte is odd is a duplicate. */
    private final List<Integer> batches = new CopyOnWriteArrayList<>();

    private volatile int status = 200;
    private HttpTransport node;
    private TallyClient client;

    @BeforeEach
    void start() throws Exception {
        node = HttpTransport.start(
                "fake-node",
                new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                HttpLimits.DEFAULT,
                new HttpTransport.Handler() {
                    @Override
                    public HttpTransport.Response handle(HttpTransport.Request request) {
                        if (status != 200) {
                            return refusal(status, "no such luck");
                        }
                        List<byte[]> txs;
                        try {
                            txs = TxBatch.decode(request.body());
                        } catch (TxBatch.MalformedBatchException e) {
                            return refusal(400, e.getMessage());
                        }
                        batches.add(txs.size());
                        List<String> results = new ArrayList<>();
                        for (byte[] tx : txs) {
                            results.add(tx[0] % 2 == 0 ? "\"accepted\"" : "\"duplicate\"");
                        }
                        return new HttpTransport.Response(
                                200, "application/json", "{\"results\": [" + String.join(",", results) + "]}");
                    }

                    @Override
                    public HttpTransport.Response refusal(int status, String message) {
                        return new HttpTransport.Response(
                                status, "application/json", "{\"error\": {\"message\": \"" + message + "\"}}");
                    }
                });
        client = new TallyClient(URI.create("http://127.0.0.1:" + node.address().getPort() + "/"));
    }

    @AfterEach
    void stop() throws Exception {
        client.close();
        node.close();
    }

    private static byte[] tx(int i) {
        return new byte[] {(byte) i, (byte) (i >> 8), 7};
    }

    private static TxStatus await(CompletableFuture<TxStatus> f) throws Exception {
        return f.get(10, TimeUnit.SECONDS);
    }

    @Test
    void transactionsOfOneIntervalLeaveInOneRequestEachWithItsOwnStatus() throws Exception {
        List<CompletableFuture<TxStatus>> statuses = new ArrayList<>();
        try (BatchingSubmitter txs = client.batching(Duration.ofMillis(300), 1_000)) {
            for (int i = 0; i < 50; i++) {
                statuses.add(txs.submit(tx(i)));
            }
            for (int i = 0; i < 50; i++) {
                assertThat(await(statuses.get(i)))
                        .as("transaction %d", i)
                        .isEqualTo(i % 2 == 0 ? new TxStatus.Accepted() : new TxStatus.Duplicate());
            }
        }
        assertThat(batches).containsExactly(50);
    }

    @Test
    void aFullBatchLeavesWithoutWaitingForTheInterval() throws Exception {
        List<CompletableFuture<TxStatus>> statuses = new ArrayList<>();
        try (BatchingSubmitter txs = client.batching(Duration.ofHours(1), 10)) {
            for (int i = 0; i < 25; i++) {
                statuses.add(txs.submit(tx(2 * i)));
            }
            assertThat(await(statuses.get(19))).isEqualTo(new TxStatus.Accepted());
            assertThat(batches).containsExactly(10, 10);
            assertThat(statuses.get(20))
                    .as("the third batch waits for its interval")
                    .isNotDone();
        }
        assertThat(statuses.get(24)).as("close sends what is pending").isCompletedWithValue(new TxStatus.Accepted());
        assertThat(batches).containsExactly(10, 10, 5);
    }

    @Test
    void aRefusedRequestFailsEachOfItsTransactions() throws Exception {
        status = 400;
        try (BatchingSubmitter txs = client.batching(Duration.ZERO, 10)) {
            CompletableFuture<TxStatus> f = txs.submit(tx(0));
            assertThatThrownBy(() -> await(f))
                    .isInstanceOf(ExecutionException.class)
                    .cause()
                    .isInstanceOf(TallyClient.RequestRefusedException.class)
                    .hasMessage("HTTP 400: no such luck");
        }
    }

    @Test
    void aClosedSubmitterTakesNoMoreAndBadSettingsAreRefused() {
        BatchingSubmitter txs = client.batching(Duration.ZERO, 1);
        txs.close();
        assertThatThrownBy(() -> txs.submit(tx(0)))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("closed");
        assertThatThrownBy(() -> client.batching(Duration.ofMillis(-1), 1))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> client.batching(Duration.ZERO, TxBatch.MAX_TRANSACTIONS + 1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("maxBatch");
    }
}
