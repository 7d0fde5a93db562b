package dev.tally.node.metrics;

import dev.tally.node.config.HttpLimits;
import dev.tally.node.http.HttpTransport;
import dev.tally.node.http.HttpTransport.Response;
import dev.tally.node.http.ReadOnlyPages;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * The node's metrics for Prometheus: GET {@code /metrics} in the text format, on the hardened {@link HttpTransport}
 * with {@link ReadOnlyPages#LIMITS} (the Prometheus client's own server has no read timeout and no connection cap).
 */
public final class MetricsServer implements AutoCloseable {
    private static final PrometheusTextFormatWriter FORMAT = PrometheusTextFormatWriter.create();

    private final HttpTransport transport;

    private MetricsServer(HttpTransport transport) {
        this.transport = transport;
    }

    public static MetricsServer start(InetSocketAddress address, PrometheusRegistry registry) throws IOException {
        return start(address, ReadOnlyPages.LIMITS, registry);
    }

    /** As {@link #start(InetSocketAddress, PrometheusRegistry)}, with other limits (tests reach them quickly). */
    public static MetricsServer start(InetSocketAddress address, HttpLimits limits, PrometheusRegistry registry)
            throws IOException {
        return new MetricsServer(HttpTransport.start(
                "metrics", address, limits, new ReadOnlyPages(Map.of("/metrics", () -> scrape(registry)))));
    }

    private static Response scrape(PrometheusRegistry registry) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            FORMAT.write(out, registry.scrape());
        } catch (IOException e) {
            throw new UncheckedIOException(e); // not on a byte array
        }
        return new Response(200, "text/plain; version=0.0.4", out.toString(StandardCharsets.UTF_8));
    }

    public InetSocketAddress address() {
        return transport.address();
    }

    @Override
    public void close() throws IOException {
        transport.close();
    }
}
