package dev.tally.node.rpc;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tally.node.client.BlockFeed;
import dev.tally.node.client.TxBatch;
import dev.tally.node.config.HttpLimits;
import dev.tally.node.http.HttpTransport;
import dev.tally.node.http.HttpTransport.Response;
import dev.tally.node.metrics.NodeMetrics;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Semaphore;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * JSON-RPC 2.0 over HTTP: {@code POST /} with a request (or a batch), and each method that does not change state also
 * as {@code GET /<method>?param=value}, which answers the bare result (or {@code {"error": ...}} with status 400/404).
 * A method that changes state ({@code push_tx}) is POST only, and a POST must say {@code Content-Type:
 * application/json}: a web page can send neither without the browser first asking the node, which answers no CORS
 * header unless {@link HttpLimits#corsAllowedOrigin} is set. The transport ({@link HttpTransport}) applies
 * {@link HttpLimits}. An error never carries internals (class names, raw bytes): the client gets a generic message,
 * the log the detail.
 */
public final class RpcServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RpcServer.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    /** Where a binary batch of transactions is posted. */
    public static final String TXS_PATH = "/txs";
    /** Where final blocks are read in binary, as they come ({@link #handleBlockFeed}). */
    public static final String BLOCKS_PATH = "/blocks";

    static final int FEED_DEFAULT_BLOCKS = 100;
    static final int FEED_MAX_BLOCKS = 1_000;
    static final int FEED_MAX_WAIT_MS = 30_000;

    private final HttpTransport transport;
    private final RpcMethods methods;
    private final NodeMetrics metrics;
    private final int maxBatchAnswerChars;
    private final int maxBlockReads;
    /** Answers that read blocks being made or written: they are the large ones (see {@link HttpLimits}). */
    private final Semaphore blockReads;

    private RpcServer(InetSocketAddress address, HttpLimits limits, RpcMethods methods, NodeMetrics metrics)
            throws IOException {
        this.methods = methods;
        this.metrics = metrics;
        this.maxBatchAnswerChars = limits.maxBatchAnswerChars();
        this.maxBlockReads = limits.maxBlockReadsInFlight();
        this.blockReads = new Semaphore(maxBlockReads);
        this.transport = HttpTransport.start("RPC", address, limits, new Handler());
    }

    public static RpcServer start(InetSocketAddress address, RpcMethods methods, NodeMetrics metrics)
            throws IOException {
        return start(address, HttpLimits.DEFAULT, methods, metrics);
    }

    public static RpcServer start(InetSocketAddress address, HttpLimits limits, RpcMethods methods, NodeMetrics metrics)
            throws IOException {
        RpcServer s = new RpcServer(address, limits, methods, metrics);
        log.info("JSON-RPC listening on http://{}", NodeHttp.text(s.address()));
        return s;
    }

    public InetSocketAddress address() {
        return transport.address();
    }

    private final class Handler implements HttpTransport.Handler {
        @Override
        public Response handle(HttpTransport.Request request) {
            return switch (request.method()) {
                case "POST" -> handlePost(request);
                case "GET" -> handleGet(request);
                default ->
                    new Response(
                            405,
                            "application/json",
                            error(null, new RpcException(RpcException.INVALID_REQUEST, "use POST / or GET /<method>"))
                                    .toString(),
                            Map.of("Allow", "GET, POST"));
            };
        }

        @Override
        public Response refusal(int status, String message) {
            int code = switch (status) {
                case 500 -> RpcException.INTERNAL_ERROR;
                case 429 -> RpcException.OVERLOADED;
                default -> RpcException.INVALID_REQUEST;
            };
            return new Response(
                    status,
                    "application/json",
                    error(null, new RpcException(code, message)).toString(),
                    retryAfter(status));
        }
    }

    private Response handlePost(HttpTransport.Request r) {
        if (r.path().equals(TXS_PATH)) {
            return handleTxs(r);
        }
        String type = r.headers().getOrDefault("content-type", "");
        if (!type.toLowerCase(Locale.ROOT).startsWith("application/json")) {
            return jsonError(
                    415, new RpcException(RpcException.INVALID_REQUEST, "POST needs Content-Type: application/json"));
        }
        JsonNode request;
        try {
            request = JSON.readTree(r.body());
        } catch (IOException e) {
            log.debug("RPC body is not JSON: {}", e.getMessage());
            return jsonError(400, new RpcException(RpcException.PARSE_ERROR, "the body is not JSON"));
        }
        if (readsBlocks(request)) {
            return readingBlocks(() -> post(request), e -> error(null, e));
        }
        return post(request);
    }

    private Response post(JsonNode request) {
        if (request != null && request.isArray()) {
            return new Response(200, "application/json", batch(request));
        }
        ObjectNode response = call(request);
        int status =
                response.has("error") ? postStatus(response.at("/error/code").asInt()) : 200;
        return new Response(status, "application/json", response.toString(), retryAfter(status));
    }

    /** A call of a method that reads blocks ({@link RpcMethods#readsBlocks}), or a batch with one. */
    private boolean readsBlocks(JsonNode request) {
        if (request != null && request.isArray()) {
            for (JsonNode call : request) {
                if (isBlockRead(call)) {
                    return true;
                }
            }
            return false;
        }
        return isBlockRead(request);
    }

    private boolean isBlockRead(JsonNode call) {
        return call != null
                && call.isObject()
                && call.path("method").isTextual()
                && methods.readsBlocks(call.path("method").textValue());
    }

    /**
     * The answer, made and written while one of the {@link HttpLimits#maxBlockReadsInFlight} permits is held; without
     * a free one, 429 at once (the error rendered by {@code refusal}), so that large answers in flight stay bounded.
     */
    private Response readingBlocks(Supplier<Response> answer, Function<RpcException, JsonNode> refusal) {
        if (!blockReads.tryAcquire()) {
            RpcException e = new RpcException(
                    RpcException.OVERLOADED,
                    "overloaded: " + maxBlockReads + " requests reading blocks are being answered; retry later");
            return new Response(429, "application/json", refusal.apply(e).toString(), retryAfter(429));
        }
        boolean handedOver = false;
        try {
            Response r = answer.get();
            handedOver = true;
            return new Response(r.status(), r.contentType(), r.body(), r.headers(), blockReads::release);
        } finally {
            if (!handedOver) {
                blockReads.release();
            }
        }
    }

    /**
     * {@code POST /txs}: a binary batch ({@link TxBatch}) answered as {@code push_txs} answers, bare: 200, or 429 with
     * {@code Retry-After} when some transaction (or the whole batch) was refused as overloaded. A body that is not a
     * batch is refused whole (400, naming the transaction and byte), so that nothing of it is half taken.
     */
    private Response handleTxs(HttpTransport.Request r) {
        String type = r.headers().getOrDefault("content-type", "");
        if (!type.toLowerCase(Locale.ROOT).startsWith("application/octet-stream")) {
            return new Response(
                    415,
                    "application/json",
                    getError(new RpcException(
                                    RpcException.INVALID_REQUEST,
                                    "POST " + TXS_PATH + " needs Content-Type: application/octet-stream"))
                            .toString());
        }
        long start = System.nanoTime();
        boolean ok = false;
        try {
            Submissions.Outcome outcome = methods.submitBatch(TxBatch.decode(r.body()));
            ok = true;
            int status = outcome.overloaded() ? 429 : 200;
            return new Response(status, "application/json", outcome.body().toString(), retryAfter(status));
        } catch (TxBatch.MalformedBatchException e) {
            return new Response(
                    400,
                    "application/json",
                    getError(new RpcException(RpcException.INVALID_PARAMS, e.getMessage()))
                            .toString());
        } catch (RpcException e) {
            int status = postStatus(e.code());
            return new Response(status, "application/json", getError(e).toString(), retryAfter(status));
        } finally {
            metrics.rpcLatency("POST " + TXS_PATH, ok, System.nanoTime() - start);
        }
    }

    /** A 429's {@code Retry-After}: how long an overloaded node asks a client to wait. */
    private static Map<String, String> retryAfter(int status) {
        return status == 429 ? Map.of("Retry-After", Integer.toString(Submissions.RETRY_AFTER_SECONDS)) : Map.of();
    }

    /**
     * The HTTP status of a single request's error: the request's own faults are HTTP errors; a well-formed call the
     * node answers with an error (bad params, a block it does not store, a refused transaction) is a 200.
     */
    private static int postStatus(int code) {
        return switch (code) {
            case RpcException.PARSE_ERROR, RpcException.INVALID_REQUEST -> 400;
            case RpcException.METHOD_NOT_FOUND -> 404;
            case RpcException.INTERNAL_ERROR -> 500;
            case RpcException.OVERLOADED -> 429;
            default -> 200;
        };
    }

    private static Response jsonError(int status, RpcException e) {
        return new Response(status, "application/json", error(null, e).toString());
    }

    /**
     * A batch's answers, in order, each rendered as its call is made, so that the answers are held once as text. Once
     * they fill {@link HttpLimits#maxBatchAnswerChars}, the remaining calls are not made (a {@code push_tx} among them
     * is not taken) and each is answered with {@link RpcException#BATCH_ANSWER_LIMIT}; the answer is then at most the
     * limit and one call's answer.
     */
    private String batch(JsonNode calls) {
        StringBuilder answers = new StringBuilder().append('[');
        for (JsonNode one : calls) {
            if (answers.length() > 1) {
                answers.append(',');
            }
            if (answers.length() < maxBatchAnswerChars) {
                answers.append(call(one));
            } else {
                answers.append(error(
                        idOf(one),
                        new RpcException(
                                RpcException.BATCH_ANSWER_LIMIT,
                                "not made: the batch's answers before it fill the limit of " + maxBatchAnswerChars
                                        + " characters; send it in another request")));
            }
        }
        return answers.append(']').toString();
    }

    private static JsonNode idOf(JsonNode request) {
        return request != null && request.has("id") ? request.get("id") : null;
    }

    /** One JSON-RPC request to its response object. */
    private ObjectNode call(JsonNode request) {
        JsonNode id = idOf(request);
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

    private Response handleGet(HttpTransport.Request r) {
        String method = r.path().replaceFirst("^/+", "");
        var probe = methods.probe(method);
        if (probe.isPresent()) {
            return new Response(
                    probe.get().status(), "application/json", probe.get().body().toString(), Map.of());
        }
        if (methods.changesState(method) || r.path().equals(TXS_PATH)) {
            String how = r.path().equals(TXS_PATH)
                    ? "POST a batch of transactions to " + TXS_PATH + " as application/octet-stream"
                    : "POST it as JSON-RPC to /";
            return new Response(
                    405,
                    "application/json",
                    getError(new RpcException(RpcException.INVALID_REQUEST, method + " changes state: " + how))
                            .toString(),
                    Map.of("Allow", "POST"));
        }
        if (r.path().equals(BLOCKS_PATH)) {
            return handleBlockFeed(r);
        }
        if (methods.readsBlocks(method)) {
            return readingBlocks(() -> get(method, r), RpcServer::getError);
        }
        return get(method, r);
    }

    /** A GET of a method that does not change state: its query as the params. */
    private Response get(String method, HttpTransport.Request r) {
        try {
            return new Response(
                    200, "application/json", invoke(method, query(r)).toString());
        } catch (RpcException e) {
            return getError(getStatus(e), e);
        }
    }

    /** A GET's query as params, by name, each value text. */
    private static ObjectNode query(HttpTransport.Request r) throws RpcException {
        ObjectNode params = NODES.objectNode();
        try {
            for (String pair : r.rawQuery()
                    .filter(q -> !q.isEmpty())
                    .map(q -> q.split("&"))
                    .orElse(new String[0])) {
                int eq = pair.indexOf('=');
                String key = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
                String value = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
                params.put(key, value);
            }
        } catch (IllegalArgumentException e) {
            throw new RpcException(RpcException.INVALID_PARAMS, "malformed query: " + e.getMessage());
        }
        return params;
    }

    /** The HTTP status of a GET's error. */
    private static int getStatus(RpcException e) {
        return switch (e.code()) {
            case RpcException.METHOD_NOT_FOUND, RpcException.NOT_AVAILABLE -> 404;
            case RpcException.INTERNAL_ERROR -> 500;
            case RpcException.OVERLOADED -> 429;
            default -> 400;
        };
    }

    private static Response getError(int status, RpcException e) {
        return new Response(status, "application/json", getError(e).toString(), retryAfter(status));
    }

    /**
     * {@code GET /blocks?from=N[&max=K][&wait_ms=W]}: the final blocks from {@code N} on, in order, at most {@code K}
     * ({@value #FEED_DEFAULT_BLOCKS} by default, at most {@value #FEED_MAX_BLOCKS}) and as many as fit the batch answer
     * limit (one at least), as a {@link BlockFeed} body. When block {@code N} is not stored yet, the request waits
     * for it up to {@code W} ms (0 by default, at most {@value #FEED_MAX_WAIT_MS}) and is answered the moment it is
     * stored: a client follows the chain with one request per new block instead of polling. None in that time: an
     * empty body. The wait holds no permit; making and writing the answer holds one of the block reads'.
     */
    private Response handleBlockFeed(HttpTransport.Request r) {
        long from;
        int max;
        try {
            RpcParams p = new RpcParams(query(r));
            from = p.nonNegativeLong("from", 0);
            max = (int) p.longBetween("max", 1, 1, FEED_MAX_BLOCKS, FEED_DEFAULT_BLOCKS);
            Duration wait = Duration.ofMillis(p.longBetween("wait_ms", 2, 0, FEED_MAX_WAIT_MS, 0));
            metrics.blockFeedReaders(1);
            boolean stored;
            try {
                stored = methods.awaitBlock(from, wait);
            } finally {
                metrics.blockFeedReaders(-1);
            }
            if (!stored) {
                return Response.binary(new byte[0]);
            }
        } catch (RpcException e) {
            return getError(getStatus(e), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return getError(503, new RpcException(RpcException.NOT_AVAILABLE, "the node is stopping"));
        }
        return readingBlocks(
                () -> {
                    long start = System.nanoTime();
                    boolean ok = false;
                    try {
                        byte[] body = methods.blockFeed(from, max, maxBatchAnswerChars);
                        ok = true;
                        return Response.binary(body);
                    } catch (RpcException e) {
                        return getError(getStatus(e), e);
                    } finally {
                        metrics.rpcLatency("GET " + BLOCKS_PATH, ok, System.nanoTime() - start);
                    }
                },
                RpcServer::getError);
    }

    /** A GET's error: {@code {"error": {...}}}, without the JSON-RPC envelope. */
    private static ObjectNode getError(RpcException e) {
        ObjectNode body = NODES.objectNode();
        body.set("error", errorObject(e));
        return body;
    }

    private JsonNode invoke(String method, JsonNode params) throws RpcException {
        long start = System.nanoTime();
        boolean ok = false;
        try {
            JsonNode result = methods.call(method, new RpcParams(params));
            ok = true;
            return result;
        } catch (RuntimeException e) {
            // The detail (a class name, bytes from storage) is for the operator's log, not for whoever asked.
            log.warn("RPC {} failed", method, e);
            throw new RpcException(RpcException.INTERNAL_ERROR, method + " failed; the node's log has the details");
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
    public void close() throws IOException {
        transport.close();
    }

    @Override
    public String toString() {
        return "RPC server on " + NodeHttp.text(address());
    }
}
