package dev.tally.node.rpc;

import static dev.tally.node.rpc.RpcHardeningTest.exchange;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tally.node.SoloNode;
import dev.tally.node.client.TallyClient;
import dev.tally.node.client.TallyClient.TxStatus;
import dev.tally.node.client.TxBatch;
import dev.tally.node.config.HttpLimits;
import dev.tally.node.executor.Node;
import dev.tally.node.http.RawHttp;
import dev.tally.node.http.RawHttp.Answer;
import dev.tally.protocol.TestChain;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The batched client path ({@code POST /txs}, {@code push_txs}, {@link TallyClient}) and its bad inputs. */
class TxBatchPathTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final TestChain CHAIN = new TestChain(1);

    static Node node;
    static RpcServer server;
    static RpcServer small;
    static TallyClient client;

    @BeforeAll
    static void start() throws Exception {
        InetSocketAddress any = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
        node = SoloNode.start(CHAIN);
        server = RpcServer.start(any, new RpcMethods(node), node.metrics());
        node.attach(server);
        small = RpcServer.start(
                any, HttpLimits.builder().maxBodyBytes(1024).build(), new RpcMethods(node), node.metrics());
        node.attach(small);
        client = clientOf(server);
    }

    static TallyClient clientOf(RpcServer s) {
        return new TallyClient(URI.create("http://127.0.0.1:" + s.address().getPort() + "/"));
    }

    @AfterAll
    static void stop() {
        client.close();
        node.close();
    }

    static byte[] tx(int size) {
        byte[] tx = new byte[size];
        ThreadLocalRandom.current().nextBytes(tx);
        return tx;
    }

    static Answer postTxs(RpcServer to, byte[] body) throws IOException {
        try (Socket s = RpcHardeningTest.connect(to)) {
            RawHttp.post(s.getOutputStream(), "/txs", "application/octet-stream", body, body.length);
            return RawHttp.readAnswer(s.getInputStream());
        }
    }

    @Test
    void aBatchGetsOneResultPerTransactionAndItsTransactionsBecomeFinal() throws Exception {
        byte[] a = tx(256);
        byte[] b = tx(256);
        List<byte[]> batch = List.of(a, b, a.clone(), tx(SoloNode.MAX_TX_SIZE + 1), new byte[0]);
        TallyClient.BatchResult r = client.submit(batch);
        assertThat(r.results().subList(0, 3))
                .containsExactly(new TxStatus.Accepted(), new TxStatus.Accepted(), new TxStatus.Duplicate());
        assertThat(r.results().get(3))
                .isEqualTo(new TxStatus.Refused("transaction 3: transaction of 1001 bytes exceeds the limit of 1000"));
        assertThat(r.results().get(4)).isEqualTo(new TxStatus.Refused("transaction 4: empty transaction"));
        assertThat(r.retryAfter()).isEmpty();

        assertThat(client.submit(List.of(b, a)).results())
                .as("a transaction already taken is a duplicate, waiting or final")
                .containsExactly(new TxStatus.Duplicate(), new TxStatus.Duplicate());
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!final_(a) || !final_(b)) {
            assertThat(System.nanoTime()).as("both transactions become final").isLessThan(deadline);
            Thread.sleep(20);
        }
    }

    /** Whether a block stored on the node carries the transaction (as a length-prefixed item of its payload). */
    private static boolean final_(byte[] tx) {
        var range = node.storedBlocks();
        for (long n = range.isEmpty() ? 0 : range.first(); !range.isEmpty() && n <= range.last(); n++) {
            byte[] payload =
                    node.execution().block(n).orElseThrow().payload().bytes().toByteArray();
            for (int i = 0; i + tx.length <= payload.length; i++) {
                if (Arrays.equals(payload, i, i + tx.length, tx, 0, tx.length)) {
                    return true;
                }
            }
        }
        return false;
    }

    @Test
    void garbageIsRefusedWholeNamingTheTransactionAndByte() throws Exception {
        Answer text = postTxs(server, "{\"jsonrpc\":\"2.0\"}".getBytes(StandardCharsets.US_ASCII));
        assertThat(text.status()).isEqualTo(400);
        assertThat(text.json().at("/error/message").asText()).startsWith("transaction 0 (at byte 0): its prefix says");

        byte[] ok = tx(10);
        byte[] cut = Arrays.copyOf(TxBatch.encode(List.of(ok)), 14 + 3);
        Answer truncated = postTxs(server, cut);
        assertThat(truncated.status()).isEqualTo(400);
        assertThat(truncated.json().at("/error/message").asText())
                .isEqualTo("transaction 1 (at byte 14): the body ends inside its length prefix, after 3 of 4 bytes");
        assertThat(client.submit(List.of(ok)).results())
                .as("nothing of a refused body was taken")
                .containsExactly(new TxStatus.Accepted());

        assertThat(postTxs(server, new byte[0]).json().at("/error/message").asText())
                .isEqualTo("the body holds no transaction");
    }

    @Test
    void oversizedBatchesAreRefusedWithTheirLimit() throws Exception {
        List<byte[]> many = new ArrayList<>();
        for (int i = 0; i <= TxBatch.MAX_TRANSACTIONS; i++) {
            many.add(new byte[] {1});
        }
        byte[] body = Arrays.copyOf(TxBatch.encode(many.subList(0, TxBatch.MAX_TRANSACTIONS)), 5 * many.size());
        body[body.length - 2] = 1;
        Answer tooMany = postTxs(server, body);
        assertThat(tooMany.status()).isEqualTo(400);
        assertThat(tooMany.json().at("/error/message").asText())
                .isEqualTo("transaction 10000 (at byte 50000) is one too many: at most 10000 per batch");

        Answer tooLarge = postTxs(small, TxBatch.encode(List.of(tx(600), tx(600))));
        assertThat(tooLarge.status()).isEqualTo(413);
        assertThat(tooLarge.json().at("/error/message").asText()).contains("larger than 1024 bytes");
    }

    @Test
    void theBinaryPathWantsItsContentTypeAndPost() throws Exception {
        Answer json = exchange(
                server,
                "POST /txs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n[]");
        assertThat(json.status()).isEqualTo(415);
        assertThat(json.json().at("/error/message").asText()).contains("application/octet-stream");
        Answer get = exchange(server, "GET /txs HTTP/1.1\r\nHost: x\r\n\r\n");
        assertThat(get.status()).isEqualTo(405);
        assertThat(get.head()).containsIgnoringCase("Allow: POST");
    }

    @Test
    void pushTxsTakesAnArrayOfHexAndNamesABadItem() throws Exception {
        HexFormat hex = HexFormat.of();
        String good = hex.formatHex(tx(32));
        Answer r = exchange(
                server,
                RpcHardeningTest.post("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"push_txs\",\"params\":{\"txs\":[\""
                        + good + "\",\"" + good + "\"]}}"));
        assertThat(r.status()).isEqualTo(200);
        JsonNode result = r.json().get("result");
        assertThat(result.get("accepted").asInt()).isEqualTo(1);
        assertThat(result.get("duplicate").asInt()).isEqualTo(1);
        assertThat(result.get("results").toString()).isEqualTo("[\"accepted\",\"duplicate\"]");

        Answer bad = exchange(
                server,
                RpcHardeningTest.post("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"push_txs\",\"params\":[[\"" + good
                        + "\",\"00\",\"zz\"]]}"));
        assertThat(bad.json().at("/error/code").asInt()).isEqualTo(RpcException.INVALID_PARAMS);
        assertThat(bad.json().at("/error/message").asText()).startsWith("txs[2] is not hex");
        Answer empty = exchange(
                server,
                RpcHardeningTest.post("{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"push_txs\",\"params\":[[]]}"));
        assertThat(empty.json().at("/error/message").asText())
                .isEqualTo("param \"txs\" must be an array of 1 to 10000 hex texts, got 0 items");
    }

    @Test
    void theClientReportsARefusedRequestWithTheNodesMessage() {
        try (TallyClient toSmall = clientOf(small)) {
            assertThatThrownBy(() -> toSmall.submit(List.of(tx(2000))))
                    .isInstanceOf(TallyClient.RequestRefusedException.class)
                    .hasMessageContaining("HTTP 413")
                    .hasMessageContaining("larger than 1024 bytes");
        }
    }
}
