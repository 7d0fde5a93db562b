package dev.tally.node.http;

import dev.tally.node.config.HttpLimits;
import dev.tally.node.http.HttpTransport.Request;
import dev.tally.node.http.HttpTransport.Response;
import java.time.Duration;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The handler of an endpoint that only reads (the metrics, the debug page): GET on its paths, 405 with
 * {@code Allow: GET} for any other method (so that no page in a browser can change anything through it, and nothing
 * it serves takes a body), 404 for any other path, refusals in plain text.
 */
public final class ReadOnlyPages implements HttpTransport.Handler {
    /**
     * Limits for these endpoints: a few scrapers or people at a time (32 connections), the RPC's read and idle
     * timeouts, and 1 KiB of body, as a GET has none.
     */
    public static final HttpLimits LIMITS = HttpLimits.builder()
            .maxConnections(32)
            .readTimeout(Duration.ofSeconds(10))
            .idleTimeout(Duration.ofSeconds(30))
            .maxBodyBytes(1024)
            .build();

    private final Map<String, Supplier<Response>> pages;

    /** {@code pages}: path to the answer, computed for each GET. */
    public ReadOnlyPages(Map<String, Supplier<Response>> pages) {
        this.pages = Map.copyOf(pages);
    }

    @Override
    public Response handle(Request request) {
        if (!request.method().equals("GET")) {
            return new Response(405, "text/plain", "GET only: this endpoint only reads\n", Map.of("Allow", "GET"));
        }
        Supplier<Response> page = pages.get(request.path());
        if (page == null) {
            return refusal(404, "no such page; try " + String.join(" or ", pages.keySet()));
        }
        return page.get();
    }

    @Override
    public Response refusal(int status, String message) {
        return new Response(status, "text/plain", message + "\n");
    }
}
