package dev.tally.node.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * An application's client of a node's RPC for transactions and final blocks: batches go to {@code POST /txs} as one
 * binary body ({@link TxBatch}), and come back with one {@link TxStatus} each; final blocks come from {@code GET
 * /blocks} ({@link BlockFeed}), each the moment it is final. Thread-safe; one keep-alive HTTP/1.1 connection per
 * concurrent caller.
 *
 * <pre>{@code
 * try (TallyClient node = new TallyClient(URI.create("http://127.0.0.1:3154/"))) {
 *     TallyClient.BatchResult r = node.submit(List.of(tx1, tx2));
 *     // r.results().get(i): Accepted, Duplicate, Refused (never retry) or Overloaded (retry after r.retryAfter())
 * }
 * }</pre>
 */
public final class TallyClient implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** What the node made of one transaction. */
    public sealed interface TxStatus {
        /** In the mempool, and on its way to the other nodes. */
        record Accepted() implements TxStatus {}

        /** The node already holds it (waiting, or final in a recent block). */
        record Duplicate() implements TxStatus {}

        /** Refused for what it is (empty, too large, ...): sending it again will not help. */
        record Refused(String reason) implements TxStatus {}

        /** Refused for lack of room: send it again after {@link BatchResult#retryAfter}. */
        record Overloaded(String reason) implements TxStatus {}
    }

    /** One status per transaction sent, in order, and the wait the node asked for when some were overloaded. */
    public record BatchResult(List<TxStatus> results, Optional<Duration> retryAfter) {
        public BatchResult {
            results = List.copyOf(results);
        }

        public long count(Class<? extends TxStatus> kind) {
            return results.stream().filter(kind::isInstance).count();
        }
    }

    /** The node refused the request itself (malformed, too large, ...): the HTTP status and the node's message. */
    public static final class RequestRefusedException extends IOException {
        private static final long serialVersionUID = 1L;
        private final int status;

        RequestRefusedException(int status, String message) {
            super("HTTP " + status + ": " + message);
            this.status = status;
        }

        public int status() {
            return status;
        }
    }

    private final URI txs;
    private final URI blocks;
    private final HttpClient http;
    private final Duration timeout;

    /** A client of the node whose RPC is at {@code rpc} (e.g. {@code http://127.0.0.1:3154/}); 30 s per request. */
    public TallyClient(URI rpc) {
        this(rpc, Duration.ofSeconds(30));
    }

    public TallyClient(URI rpc, Duration timeout) {
        this.txs = Objects.requireNonNull(rpc, "rpc").resolve("/txs");
        this.blocks = rpc.resolve("/blocks");
        this.timeout = Objects.requireNonNull(timeout, "timeout");
        this.http = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(2))
                .build();
    }

    /** Sends 1 to {@link TxBatch#MAX_TRANSACTIONS} transactions in one request. */
    public BatchResult submit(List<byte[]> transactions) throws IOException, InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(txs)
                .timeout(timeout)
                .header("Content-Type", "application/octet-stream")
                .POST(HttpRequest.BodyPublishers.ofByteArray(TxBatch.encode(transactions)))
                .build();
        HttpResponse<byte[]> response = http.send(request, HttpResponse.BodyHandlers.ofByteArray());
        JsonNode body = parse(response);
        Optional<Duration> retryAfter =
                response.headers().firstValue("Retry-After").flatMap(TallyClient::seconds);
        if (body.has("results")) {
            return new BatchResult(statuses(body.get("results"), transactions.size()), retryAfter);
        }
        String message = body.at("/error/message").asText("(no message)");
        if (response.statusCode() == 429) {
            // The whole batch was turned away before the mempool saw it.
            return new BatchResult(
                    Collections.nCopies(transactions.size(), new TxStatus.Overloaded(message)), retryAfter);
        }
        throw new RequestRefusedException(response.statusCode(), message);
    }

    /**
     * Transactions given one at a time, sent in batches by time, as {@link #submit} sends a list: a batch leaves when
     * its oldest transaction has waited {@code interval}, or at {@code maxBatch} transactions (at most
     * {@link TxBatch#MAX_TRANSACTIONS}). Close it before this client.
     *
     * <pre>{@code
     * try (BatchingSubmitter txs = node.batching(Duration.ofMillis(10), 1_000)) {
     *     CompletableFuture<TxStatus> status = txs.submit(tx);
     * }
     * }</pre>
     */
    public BatchingSubmitter batching(Duration interval, int maxBatch) {
        return new BatchingSubmitter(this, interval, maxBatch);
    }

    /**
     * The final blocks from {@code from} on, in order ({@code GET /blocks}): at most {@code max} (1 to 1,000), fewer
     * when they are large; when block {@code from} is not final yet, waits for it up to {@code wait} (at most 30 s),
     * and answers the moment it is. Empty when none came in that time. A block below those the node stores (pruned)
     * is a {@link RequestRefusedException} with status 404; an overloaded node's is 429.
     *
     * <pre>{@code
     * for (long next = from; ; ) {
     *     for (BlockFeed.Entry e : node.blocks(next, 100, Duration.ofSeconds(10))) {
     *         apply(e.block());  // e.block().verify(epoch) checks its commit QC against the committee
     *         next = e.block().number() + 1;
     *     }
     * }
     * }</pre>
     */
    public List<BlockFeed.Entry> blocks(long from, int max, Duration wait) throws IOException, InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(
                        URI.create(blocks + "?from=" + from + "&max=" + max + "&wait_ms=" + wait.toMillis()))
                .timeout(timeout.plus(wait))
                .GET()
                .build();
        HttpResponse<byte[]> response = http.send(request, HttpResponse.BodyHandlers.ofByteArray());
        if (response.statusCode() != 200) {
            throw new RequestRefusedException(
                    response.statusCode(), parse(response).at("/error/message").asText("(no message)"));
        }
        return BlockFeed.decode(response.body());
    }

    private static JsonNode parse(HttpResponse<byte[]> response) throws IOException {
        try {
            return JSON.readTree(response.body());
        } catch (IOException e) {
            throw new RequestRefusedException(response.statusCode(), "the answer is not JSON: " + e.getMessage());
        }
    }

    private static List<TxStatus> statuses(JsonNode results, int sent) throws IOException {
        if (!results.isArray() || results.size() != sent) {
            throw new IOException("the node answered " + results.size() + " results for " + sent + " transactions");
        }
        List<TxStatus> out = new ArrayList<>(sent);
        for (JsonNode r : results) {
            out.add(status(r));
        }
        return out;
    }

    private static TxStatus status(JsonNode r) throws IOException {
        if (r.isTextual() && r.textValue().equals("accepted")) {
            return new TxStatus.Accepted();
        }
        if (r.isTextual() && r.textValue().equals("duplicate")) {
            return new TxStatus.Duplicate();
        }
        if (r.has("refused")) {
            return new TxStatus.Refused(r.get("refused").asText());
        }
        if (r.has("overloaded")) {
            return new TxStatus.Overloaded(r.get("overloaded").asText());
        }
        throw new IOException("an unknown transaction result: " + r);
    }

    private static Optional<Duration> seconds(String header) {
        try {
            return Optional.of(Duration.ofSeconds(Long.parseLong(header.strip())));
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    @Override
    public void close() {
        http.close();
    }
}
