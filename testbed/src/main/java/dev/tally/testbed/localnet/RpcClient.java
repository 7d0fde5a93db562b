package dev.tally.testbed.localnet;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/** A small JSON-RPC client of a node, for the localnet monitor and tests. */
public final class RpcClient {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final URI uri;
    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private final AtomicLong ids = new AtomicLong();

    public RpcClient(InetSocketAddress address) {
        this.uri = URI.create("http://" + address.getAddress().getHostAddress() + ":" + address.getPort() + "/");
    }

    /** A method's result; an RPC error becomes an {@link IOException} with the node's message. */
    public JsonNode call(String method, Object... params) throws IOException, InterruptedException {
        ObjectNode req = JSON.createObjectNode()
                .put("jsonrpc", "2.0")
                .put("method", method)
                .put("id", ids.incrementAndGet());
        var array = req.putArray("params");
        for (Object p : params) {
            array.addPOJO(p);
        }
        HttpResponse<String> r = http.send(
                HttpRequest.newBuilder(uri)
                        .timeout(Duration.ofSeconds(5))
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(req)))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        JsonNode body = JSON.readTree(r.body());
        if (body.has("error")) {
            throw new IOException(
                    method + ": " + body.get("error").path("message").asText());
        }
        return body.get("result");
    }
}
