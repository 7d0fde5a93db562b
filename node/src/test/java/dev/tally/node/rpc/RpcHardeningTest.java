package dev.tally.node.rpc;

import static dev.tally.node.http.RawHttp.readAnswer;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tally.execution.MempoolExecutionLayer;
import dev.tally.node.SoloNode;
import dev.tally.node.config.HttpLimits;
import dev.tally.node.executor.Node;
import dev.tally.node.http.RawHttp;
import dev.tally.node.http.RawHttp.Answer;
import dev.tally.protocol.FinalBlock;
import dev.tally.protocol.TestChain;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every abuse of the RPC from issue 19, over raw sockets against a one-validator chain, answered with its HTTP code
 * while the chain keeps finalizing. A second server on the same node has a 1 s read timeout and a cap of 3
 * connections, so that those limits are quick to reach.
 */
class RpcHardeningTest {
    static final TestChain CHAIN = new TestChain(1);
    /** Block 1 fails to read, while set, with the kind of detail (a class, a path, raw bytes) no client may see. */
    static final String SECRET = "corrupt block in /data/db/000042.sst: \u0000\u00ff";

    static volatile boolean block1Fails;

    static Node node;
    static RpcServer server;
    static RpcServer strict;

    @BeforeAll
    static void start() throws Exception {
        InetSocketAddress any = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
        node = SoloNode.start(
                CHAIN,
                storage -> new MempoolExecutionLayer(storage, CHAIN.genesis, SoloNode.MAX_TX_SIZE, 100, List.of()) {
                    @Override
                    public Optional<FinalBlock> block(long number) {
                        if (number == 1 && block1Fails) {
                            throw new IllegalStateException(SECRET);
                        }
                        return super.block(number);
                    }
                });
        server = RpcServer.start(any, new RpcMethods(node), node.metrics());
        node.attach(server);
        strict = RpcServer.start(
                any,
                HttpLimits.builder()
                        .readTimeout(Duration.ofSeconds(1))
                        .maxConnections(3)
                        .build(),
                new RpcMethods(node),
                node.metrics());
        node.attach(strict);
        awaitBlock(2, Duration.ofSeconds(20));
    }

    @AfterAll
    static void stop() {
        node.close();
    }

    static void awaitBlock(long number, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (node.storedBlocks().last() < number && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(node.storedBlocks().last()).as("blocks keep finalizing").isGreaterThanOrEqualTo(number);
    }

    static void closeAll(List<Socket> sockets) throws IOException {
        for (Socket s : sockets) {
            s.close();
        }
    }

    static Socket connect(RpcServer to) throws IOException {
        return RawHttp.connect(to.address());
    }

    static Answer exchange(RpcServer to, String request) throws IOException {
        return RawHttp.exchange(to.address(), request);
    }

    static String post(String body) {
        return "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " + body.length()
                + "\r\n\r\n" + body;
    }

    static String blockCall(long number) {
        return "{\"jsonrpc\":\"2.0\",\"id\":" + number + ",\"method\":\"block\",\"params\":[" + number + "]}";
    }

    @Test
    void aBatchMakesNoMoreCallsOnceItsAnswersFillTheLimit() throws Exception {
        // The limit lies between one block's answer and two: the second call is made, the third is not.
        int oneBlock = exchange(server, post("[" + blockCall(0) + "]")).body().length();
        HttpLimits limits =
                HttpLimits.builder().maxBatchAnswerChars(oneBlock + 16).build();
        InetSocketAddress any = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
        try (RpcServer limited = RpcServer.start(any, limits, new RpcMethods(node), node.metrics())) {
            int mempool = ((MempoolExecutionLayer) node.execution()).mempoolSize();
            String pushTx = "{\"jsonrpc\":\"2.0\",\"id\":\"tx\",\"method\":\"push_tx\",\"params\":[\"0badcafe\"]}";
            Answer a = exchange(limited, post("[" + blockCall(0) + "," + blockCall(1) + "," + pushTx + "]"));

            assertThat(a.status()).isEqualTo(200);
            var answers = a.json();
            assertThat(answers).hasSize(3);
            assertThat(answers.get(0).at("/result/number").asLong()).isEqualTo(0);
            assertThat(answers.get(1).at("/result/number").asLong()).isEqualTo(1);
            assertThat(answers.get(2).get("id").asText()).isEqualTo("tx");
            assertThat(answers.get(2).at("/error/code").asInt()).isEqualTo(RpcException.BATCH_ANSWER_LIMIT);
            assertThat(answers.get(2).at("/error/message").asText())
                    .contains("not made")
                    .contains("send it in another request");
            assertThat(((MempoolExecutionLayer) node.execution()).mempoolSize())
                    .as("the push_tx after the limit was not made")
                    .isEqualTo(mempool);
            assertThat(a.body().length()).isLessThan(3 * oneBlock);
        }
    }

    @Test
    void stateChangesArePostOnly() throws Exception {
        int before = ((MempoolExecutionLayer) node.execution()).mempoolSize();
        Answer get = exchange(server, "GET /push_tx?tx=abcdef HTTP/1.1\r\nHost: x\r\n\r\n");
        assertThat(get.status()).isEqualTo(405);
        assertThat(get.head()).containsIgnoringCase("Allow: POST");
        assertThat(get.json().at("/error/message").asText()).contains("POST");
        Answer plain = exchange(
                server,
                "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 57\r\n\r\n"
                        + "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"push_tx\",\"params\":[\"ab\"]}");
        assertThat(plain.status())
                .as("a page may POST text/plain without asking the browser first")
                .isEqualTo(415);
        assertThat(((MempoolExecutionLayer) node.execution()).mempoolSize()).isEqualTo(before);
        Answer ok =
                exchange(server, post("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"push_tx\",\"params\":[\"abcd\"]}"));
        assertThat(ok.status()).isEqualTo(200);
        assertThat(ok.json().get("result").asText()).isEqualTo("accepted");
        assertThat(exchange(server, "GET /last_view HTTP/1.1\r\nHost: x\r\n\r\n")
                        .status())
                .isEqualTo(200);
    }

    @Test
    void aRequestThatPromisesMoreThanItSendsIsAnswered408() throws Exception {
        long start = System.nanoTime();
        Answer slowBody = exchange(
                strict,
                "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n12345");
        assertThat(slowBody.status()).isEqualTo(408);
        assertThat(RawHttp.neverFinishedHeaders(strict.address(), "GET /last_view HTTP/1.1")
                        .status())
                .isEqualTo(408);
        assertThat(Duration.ofNanos(System.nanoTime() - start))
                .as("two requests, each given 1 s")
                .isLessThan(Duration.ofSeconds(5));
    }

    @Test
    void connectionsBeyondTheCapAreAnswered503AndAFreedSlotServesAgain() throws Exception {
        List<Socket> held = new ArrayList<>();
        try {
            for (int i = 0; i < 3; i++) {
                Socket s = connect(strict);
                s.getOutputStream()
                        .write("GET /last_view HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                assertThat(readAnswer(s.getInputStream()).status()).isEqualTo(200); // kept alive, holding its slot
                held.add(s);
            }
            Answer refused = exchange(strict, "GET /last_view HTTP/1.1\r\nHost: x\r\n\r\n");
            assertThat(refused.status()).isEqualTo(503);
            assertThat(refused.json().at("/error/message").asText()).contains("too many connections");
            held.removeFirst().close();
            long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
            int status;
            do {
                status = exchange(strict, "GET /last_view HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                        .status();
            } while (status == 503 && System.nanoTime() < deadline);
            assertThat(status).isEqualTo(200);
        } finally {
            closeAll(held);
        }
    }

    @Test
    void oversizedRequestsGetTheirHttpCodes() throws Exception {
        Answer body = exchange(
                server,
                "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 6000000\r\n\r\n{");
        assertThat(body.status()).as("a 6 MB body").isEqualTo(413);
        assertThat(exchange(server, "GET /" + "a".repeat(1 << 20) + " HTTP/1.1\r\nHost: x\r\n\r\n")
                        .status())
                .as("a 1 MB URL")
                .isEqualTo(414);
        assertThat(exchange(server, "GET /last_view HTTP/1.1\r\n" + "X-A: b\r\n".repeat(10_000) + "\r\n")
                        .status())
                .as("10,000 headers")
                .isEqualTo(431);
        assertThat(exchange(server, "GET /last_view HTTP/1.1\r\nX-A: " + "b".repeat(20_000) + "\r\n\r\n")
                        .status())
                .as("one 20 KB header")
                .isEqualTo(431);
    }

    @Test
    void malformedRequestsAre400AndUnknownMethods404Or405() throws Exception {
        assertThat(exchange(server, "GARBAGE\r\n\r\n").status()).isEqualTo(400);
        assertThat(exchange(server, "GET /last_view HTTP/1.1\r\nno colon\r\n\r\n")
                        .status())
                .isEqualTo(400);
        assertThat(exchange(server, "POST / HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: x\r\n\r\n")
                        .status())
                .isEqualTo(400);
        Answer notJson = exchange(server, post("{\u0001"));
        assertThat(notJson.status()).isEqualTo(400);
        assertThat(notJson.json().at("/error/code").asInt()).isEqualTo(RpcException.PARSE_ERROR);
        assertThat(notJson.body()).doesNotContain("\u0001", "Exception", "jackson");
        Answer unknown = exchange(server, post("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"nope\"}"));
        assertThat(unknown.status()).isEqualTo(404);
        assertThat(unknown.json().at("/error/code").asInt()).isEqualTo(RpcException.METHOD_NOT_FOUND);
        Answer delete = exchange(server, "DELETE / HTTP/1.1\r\nHost: x\r\n\r\n");
        assertThat(delete.status()).isEqualTo(405);
        assertThat(delete.head()).containsIgnoringCase("Allow: GET, POST");
        assertThat(exchange(server, "GET /block?number=%zz HTTP/1.1\r\nHost: x\r\n\r\n")
                        .status())
                .isEqualTo(400);
    }

    @Test
    void internalErrorsAre500WithAGenericMessage() throws Exception {
        block1Fails = true;
        try {
            expectGenericInternalErrors();
        } finally {
            block1Fails = false;
        }
    }

    private static void expectGenericInternalErrors() throws Exception {
        Answer post = exchange(server, post("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"block\",\"params\":[1]}"));
        assertThat(post.status()).isEqualTo(500);
        assertThat(post.json().at("/error/code").asInt()).isEqualTo(RpcException.INTERNAL_ERROR);
        assertThat(post.json().at("/error/message").asText()).isEqualTo("block failed; the node's log has the details");
        Answer get = exchange(server, "GET /block?number=1 HTTP/1.1\r\nHost: x\r\n\r\n");
        assertThat(get.status()).isEqualTo(500);
        for (Answer a : List.of(post, get)) {
            assertThat(a.body()).doesNotContain("corrupt", "IllegalState", "\u0000", "000042");
        }
    }

    @Test
    void corsIsOffUnlessAnOriginIsConfigured() throws Exception {
        String fromPage = "GET /last_view HTTP/1.1\r\nHost: x\r\nOrigin: http://page.example\r\n\r\n";
        assertThat(exchange(server, fromPage).head()).doesNotContainIgnoringCase("Access-Control-Allow-Origin");
        assertThat(exchange(server, "OPTIONS / HTTP/1.1\r\nHost: x\r\nOrigin: http://page.example\r\n\r\n")
                        .status())
                .isEqualTo(405);
        try (RpcServer open = RpcServer.start(
                new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                HttpLimits.builder()
                        .corsAllowedOrigin(Optional.of("http://page.example"))
                        .build(),
                new RpcMethods(node),
                node.metrics())) {
            assertThat(exchange(open, fromPage).head()).contains("Access-Control-Allow-Origin: http://page.example");
            Answer preflight = exchange(open, "OPTIONS / HTTP/1.1\r\nHost: x\r\nOrigin: http://page.example\r\n\r\n");
            assertThat(preflight.status()).isEqualTo(204);
            assertThat(preflight.head()).contains("Access-Control-Allow-Methods: GET, POST");
            assertThat(exchange(open, fromPage.replace("page", "other")).head())
                    .doesNotContainIgnoringCase("Access-Control-Allow-Origin");
        }
    }

    @Test
    void blocksKeepFinalizingWhileSlowClientsHoldConnections() throws Exception {
        List<Socket> slow = new ArrayList<>();
        try {
            for (int i = 0; i < 50; i++) {
                Socket s = connect(server);
                s.getOutputStream()
                        .write("POST / HTTP/1.1\r\nContent-Length: 100\r\n\r\n12345"
                                .getBytes(StandardCharsets.US_ASCII));
                slow.add(s);
            }
            long from = node.storedBlocks().last();
            awaitBlock(from + 3, Duration.ofSeconds(10));
            Answer ok = exchange(server, post("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"last_view\"}"));
            assertThat(ok.status()).as("served beside 50 stalled requests").isEqualTo(200);
        } finally {
            closeAll(slow);
        }
    }
}
