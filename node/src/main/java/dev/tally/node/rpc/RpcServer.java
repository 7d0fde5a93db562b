package dev.tally.node.rpc;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.tally.node.metrics.NodeMetrics;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * JSON-RPC 2.0 over HTTP: {@code POST /} with a request (or a batch), and each method also as
 * {@code GET /<method>?param=value}, which answers the bare result (or {@code {"error": ...}} with status 400/404).
 * Runs on the JDK's HTTP server with a virtual thread per request.
 */
public final class RpcServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RpcServer.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    /** Largest request body accepted (a transaction in hex, with room for the envelope). */
    private static final int MAX_REQUEST_BYTES = 4 * 1024 * 1024;

    private final HttpServer server;
    private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
    private final RpcMethods methods;
    private final NodeMetrics metrics;

    private RpcServer(InetSocketAddress address, RpcMethods methods, NodeMetrics metrics) throws IOException {
        this.methods = methods;
        this.metrics = metrics;
        this.server = HttpServer.create(address, 64);
        server.setExecutor(executor);
        server.createContext("/", this::handle);
    }

    public static RpcServer start(InetSocketAddress address, RpcMethods methods, NodeMetrics metrics)
            throws IOException {
        RpcServer s = new RpcServer(address, methods, metrics);
        s.server.start();
        log.info("JSON-RPC listening on http://{}", NodeHttp.text(s.address()));
        return s;
    }

    public InetSocketAddress address() {
        return server.getAddress();
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            switch (ex.getRequestMethod()) {
                case "POST" -> handlePost(ex);
                case "GET" -> handleGet(ex);
                default ->
                    NodeHttp.send(
                            ex,
                            405,
                            "application/json",
                            error(
                                            null,
                                            new RpcException(
                                                    RpcException.INVALID_REQUEST,
                                                    "use POST / for JSON-RPC or GET /<method>"))
                                    .toString());
            }
        } catch (IOException e) {
            log.debug("RPC exchange with {} failed: {}", ex.getRemoteAddress(), e.toString());
        }
    }

    private void handlePost(HttpExchange ex) throws IOException {
        JsonNode request;
        try {
            request = JSON.readTree(readBody(ex.getRequestBody()));
        } catch (IOException e) {
            NodeHttp.send(
                    ex,
                    200,
                    "application/json",
                    error(null, new RpcException(RpcException.PARSE_ERROR, "the body is not JSON: " + e.getMessage()))
                            .toString());
            return;
        }
        JsonNode response;
        if (request != null && request.isArray()) {
            var batch = NODES.arrayNode();
            request.forEach(r -> batch.add(call(r)));
            response = batch;
        } else {
            response = call(request);
        }
        NodeHttp.send(ex, 200, "application/json", response.toString());
    }

    private static byte[] readBody(InputStream in) throws IOException {
        byte[] body = in.readNBytes(MAX_REQUEST_BYTES + 1);
        if (body.length > MAX_REQUEST_BYTES) {
            throw new IOException("request larger than " + MAX_REQUEST_BYTES + " bytes");
        }
        return body;
    }

    /** One JSON-RPC request to its response object. */
    private ObjectNode call(JsonNode request) {
        JsonNode id = request != null && request.has("id") ? request.get("id") : null;
        if (request == null
                || !request.isObject()
                || !"2.0".equals(request.path("jsonrpc").asText(null))
                || !request.path("method").isTextual()) {
            return error(
                    id,
                    new RpcException(
                            RpcException.INVALID_REQUEST,
                            "expected {\"jsonrpc\": \"2.0\", \"method\": ..., \"params\": ..., \"id\": ...}"));
        }
        JsonNode params = request.has("params") ? request.get("params") : NODES.objectNode();
        if (!params.isObject() && !params.isArray()) {
            return error(id, new RpcException(RpcException.INVALID_PARAMS, "params must be an object or an array"));
        }
        try {
            JsonNode result = invoke(request.get("method").textValue(), params);
            ObjectNode response = NODES.objectNode().put("jsonrpc", "2.0");
            response.set("result", result);
            response.set("id", id);
            return response;
        } catch (RpcException e) {
            return error(id, e);
        }
    }

    private void handleGet(HttpExchange ex) throws IOException {
        URI uri = ex.getRequestURI();
        String method = uri.getPath().replaceFirst("^/+", "");
        var probe = methods.probe(method);
        if (probe.isPresent()) {
            NodeHttp.send(
                    ex,
                    probe.get().status(),
                    "application/json",
                    probe.get().body().toString());
            return;
        }
        ObjectNode params = NODES.objectNode();
        String query = uri.getRawQuery();
        if (query != null && !query.isEmpty()) {
            for (String pair : query.split("&")) {
                int eq = pair.indexOf('=');
                String key = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
                String value = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
                params.put(key, value);
            }
        }
        try {
            NodeHttp.send(ex, 200, "application/json", invoke(method, params).toString());
        } catch (RpcException e) {
            int status =
                    e.code() == RpcException.METHOD_NOT_FOUND || e.code() == RpcException.NOT_AVAILABLE ? 404 : 400;
            ObjectNode body = NODES.objectNode();
            body.set("error", errorObject(e));
            NodeHttp.send(ex, status, "application/json", body.toString());
        }
    }

    private JsonNode invoke(String method, JsonNode params) throws RpcException {
        long start = System.nanoTime();
        boolean ok = false;
        try {
            JsonNode result = methods.call(method, new RpcParams(params));
            ok = true;
            return result;
        } catch (RuntimeException e) {
            log.warn("RPC {} failed", method, e);
            throw new RpcException(RpcException.INTERNAL_ERROR, method + " failed: " + e);
        } finally {
            if (methods.has(method)) {
                metrics.rpcLatency(method, ok, System.nanoTime() - start);
            }
        }
    }

    private static ObjectNode error(JsonNode id, RpcException e) {
        ObjectNode response = NODES.objectNode().put("jsonrpc", "2.0");
        response.set("error", errorObject(e));
        response.set("id", id);
        return response;
    }

    private static ObjectNode errorObject(RpcException e) {
        return NODES.objectNode().put("code", e.code()).put("message", e.getMessage());
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }

    @Override
    public String toString() {
        return "RPC server on " + NodeHttp.text(address());
    }
}
