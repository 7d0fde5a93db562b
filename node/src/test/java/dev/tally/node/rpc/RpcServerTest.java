package dev.tally.node.rpc;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tally.node.SoloNode;
import dev.tally.node.executor.Node;
import dev.tally.protocol.TestChain;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** JSON-RPC over HTTP against a one-validator chain (which finalizes blocks on its own). */
class RpcServerTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient HTTP = HttpClient.newHttpClient();
    static final TestChain CHAIN = new TestChain(1);
    static Node node;
    static RpcServer server;
    static String base;

    @BeforeAll
    static void start() throws Exception {
        InetSocketAddress any = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
        node = SoloNode.start(CHAIN);
        server = RpcServer.start(any, new RpcMethods(node), node.metrics());
        node.attach(server);
        base = "http://127.0.0.1:" + server.address().getPort() + "/";
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (node.storedBlocks().last() < 1 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
    }

    @AfterAll
    static void stop() {
        node.close();
    }

    static JsonNode post(String body) throws Exception {
        return post(200, body);
    }

    /** The response, once its HTTP status is checked: a request's own faults are HTTP errors too. */
    static JsonNode post(int status, String body) throws Exception {
        HttpResponse<String> r = HTTP.send(
                HttpRequest.newBuilder(URI.create(base))
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(body))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(status);
        return JSON.readTree(r.body());
    }

    static JsonNode call(String method, String params) throws Exception {
        return post("{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"" + method + "\",\"params\":" + params + "}");
    }

    static HttpResponse<String> get(String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(base + path)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void methodsAnswerWithTheNodesState() throws Exception {
        JsonNode r = call("health_check", "{}");
        assertThat(r.get("id").asInt()).isEqualTo(7);
        assertThat(r.at("/result/status").asText()).isEqualTo("ok");
        assertThat(call("last_committed_block", "[]").at("/result/number").asLong())
                .isGreaterThanOrEqualTo(1);
        long view = call("last_view", "[]").at("/result/view").asLong();
        assertThat(view).isBetween(1L, node.replicaStatus().orElseThrow().view());
        JsonNode block = call("block", "{\"number\": 1}").get("result");
        assertThat(block.get("number").asLong()).isEqualTo(1);
        assertThat(block.get("commit_qc").asText()).matches("[0-9a-f]+");
        assertThat(block.get("transactions").asInt()).isZero();
        assertThat(call("genesis", "[]").at("/result/hash").asText())
                .isEqualTo(CHAIN.genesis.hash().toText());
        assertThat(call("validators", "[]").get("result")).hasSize(1);
        assertThat(call("peers", "[]").at("/result/gossip").isArray()).isTrue();
        assertThat(call("push_tx", "[\"0xabcdef\"]").get("result").asText()).isEqualTo("accepted");
    }

    @Test
    void errorsAreJsonRpcErrorsWithClearMessages() throws Exception {
        assertThat(post(400, "{").at("/error/code").asInt()).isEqualTo(RpcException.PARSE_ERROR);
        assertThat(post(400, "{\"method\":\"health_check\"}").at("/error/code").asInt())
                .isEqualTo(RpcException.INVALID_REQUEST);
        JsonNode unknown = post(404, "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"nope\",\"params\":[]}");
        assertThat(unknown.at("/error/code").asInt()).isEqualTo(RpcException.METHOD_NOT_FOUND);
        assertThat(unknown.at("/error/message").asText()).contains("nope", "last_committed_block");
        JsonNode badParam = call("block", "{\"number\": \"ten\"}");
        assertThat(badParam.at("/error/code").asInt()).isEqualTo(RpcException.INVALID_PARAMS);
        assertThat(badParam.at("/error/message").asText()).contains("\"number\"", "ten");
        assertThat(call("block", "{}").at("/error/message").asText()).contains("missing param \"number\"");
        JsonNode missing = call("block", "[99999999]");
        assertThat(missing.at("/error/code").asInt()).isEqualTo(RpcException.NOT_AVAILABLE);
        assertThat(missing.at("/error/message").asText()).contains("99999999", "not stored");
        assertThat(call("push_tx", "[\"zz\"]").at("/error/code").asInt()).isEqualTo(RpcException.INVALID_PARAMS);
        JsonNode tooBig = call("push_tx", "[\"" + "ab".repeat(2_000) + "\"]");
        assertThat(tooBig.at("/error/code").asInt()).isEqualTo(RpcException.REJECTED);
        assertThat(tooBig.at("/error/message").asText()).contains("exceeds");
    }

    @Test
    void batchesAnswerEachRequest() throws Exception {
        JsonNode r = post(
                "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"health_check\"},{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"nope\"}]");
        assertThat(r).hasSize(2);
        assertThat(r.get(0).at("/result/status").asText()).isEqualTo("ok");
        assertThat(r.get(1).at("/error/code").asInt()).isEqualTo(RpcException.METHOD_NOT_FOUND);
    }

    @Test
    void everyMethodIsAlsoAGet() throws Exception {
        HttpResponse<String> ok = get("block?number=0");
        assertThat(ok.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(ok.body()).get("number").asLong()).isZero();
        HttpResponse<String> bad = get("block?number=x");
        assertThat(bad.statusCode()).isEqualTo(400);
        assertThat(JSON.readTree(bad.body()).at("/error/message").asText()).contains("number");
        assertThat(get("nope").statusCode()).isEqualTo(404);
        assertThat(get("last_view").body()).contains("\"view\"");
    }
}
