package dev.tally.node.config;

import java.time.Duration;
import java.util.Optional;

/**
 * What the RPC's HTTP server accepts before it answers with an error instead of a result (config fields
 * {@code rpc_max_connections}, {@code rpc_read_timeout_ms}, {@code rpc_idle_timeout_ms}, {@code rpc_max_body_bytes},
 * {@code rpc_cors_allowed_origin}; see {@link NodeConfigJson}). The defaults follow
 * CometBFT's RPC server (900 connections, 10 s read timeout, 1 MB body) where they fit a node whose largest request
 * is one transaction in hex.
 *
 * @param maxConnections open connections at once; one more is answered 503 and closed. 900, as CometBFT: far above
 *     what the testbed's clients open, well below a default file-descriptor limit of 1024.
 * @param readTimeout how long a request may take to arrive once its first byte has (line, headers and body): beyond
 *     it, 408 and the connection closes. 10 s: a 4 MiB body needs only 3.4 Mbit/s, and a client that promises more
 *     bytes than it sends holds a connection for no longer.
 * @param idleTimeout how long a kept-alive connection may wait for its next request before it is closed. 30 s.
 * @param maxBodyBytes the largest body; a larger Content-Length is answered 413 without reading the body. 4 MiB:
 *     a 1 MiB transaction in hex (2 MiB) with room for the envelope.
 * @param maxBodyBytesInFlight the most bytes of request bodies the server holds at once, from the moment it starts
 *     reading one to the moment its answer is written: a body that would go beyond them is read past (not kept) and
 *     answered 429 "overloaded" with {@code Retry-After} at once, the connection kept. 32 MiB, 8 of the largest
 *     bodies: without it, {@code maxConnections} clients each sending a body of {@code maxBodyBytes} would hold 3.6 GiB.
 *     Not a config field; at least {@code maxBodyBytes}.
 * @param maxBatchAnswerChars how much JSON the answers of one JSON-RPC batch may fill: once they do, the batch's
 *     remaining calls are not made and each is answered with the error {@code -32006}, to send again in another
 *     request. 8 MiB: a batch of {@code block} calls asks for the payloads in hex, and 32 full blocks of 2.5 MB made
 *     a 160 MB answer that a node's heap could not hold. Not a config field.
 * @param maxBlockReadsInFlight how many requests that read blocks ({@code block}, alone or in a batch) the server
 *     answers at once, from the moment it starts making the answer to the moment it is written; one more is answered
 *     429 "overloaded" with {@code Retry-After} at once. 2: one such answer holds up to about 40 MB while it is made
 *     and written (a batch's 8 MiB of JSON and its last block's, as text and as bytes), so that {@code maxConnections}
 *     readers asking at once would otherwise hold gigabytes. Not a config field.
 * @param maxRequestLineBytes the longest request line (method, URL, version); beyond it, 414. 8 KiB, as most servers.
 * @param maxHeaderBytes the most header bytes; beyond them, 431. 16 KiB.
 * @param maxHeaders the most header lines; beyond them, 431. 100, as Go's and Jetty's servers.
 * @param corsAllowedOrigin the origin that browsers may let call the RPC ({@code *} for any); empty: no CORS header,
 *     so a web page the operator has open cannot read answers from a local node.
 */
public record HttpLimits(
        int maxConnections,
        Duration readTimeout,
        Duration idleTimeout,
        int maxBodyBytes,
        int maxBodyBytesInFlight,
        int maxBatchAnswerChars,
        int maxBlockReadsInFlight,
        int maxRequestLineBytes,
        int maxHeaderBytes,
        int maxHeaders,
        Optional<String> corsAllowedOrigin) {

    public static final HttpLimits DEFAULT = builder().build();

    public HttpLimits {
        if (maxConnections < 1
                || maxBodyBytes < 1
                || maxBatchAnswerChars < 1
                || maxBlockReadsInFlight < 1
                || maxRequestLineBytes < 16
                || maxHeaderBytes < 1
                || maxHeaders < 1) {
            throw new IllegalArgumentException("HTTP limits must be positive (request line at least 16): " + this);
        }
        if (maxBodyBytesInFlight < maxBodyBytes) {
            throw new IllegalArgumentException("the body bytes in flight (" + maxBodyBytesInFlight
                    + ") must hold at least the largest body (" + maxBodyBytes + ")");
        }
        if (readTimeout.isNegative() || readTimeout.isZero() || idleTimeout.isNegative() || idleTimeout.isZero()) {
            throw new IllegalArgumentException("HTTP timeouts must be positive: " + readTimeout + ", " + idleTimeout);
        }
    }

    /** The defaults, to change by name. */
    public static Builder builder() {
        return new Builder();
    }

    public static final class Builder {
        private int maxConnections = 900;
        private Duration readTimeout = Duration.ofSeconds(10);
        private Duration idleTimeout = Duration.ofSeconds(30);
        private int maxBodyBytes = 4 * 1024 * 1024;
        private int maxBodyBytesInFlight = 32 * 1024 * 1024;
        private int maxBatchAnswerChars = 8 * 1024 * 1024;
        private int maxBlockReadsInFlight = 2;
        private int maxRequestLineBytes = 8 * 1024;
        private int maxHeaderBytes = 16 * 1024;
        private int maxHeaders = 100;
        private Optional<String> corsAllowedOrigin = Optional.empty();

        private Builder() {}

        public Builder maxConnections(int n) {
            this.maxConnections = n;
            return this;
        }

        public Builder readTimeout(Duration d) {
            this.readTimeout = d;
            return this;
        }

        public Builder idleTimeout(Duration d) {
            this.idleTimeout = d;
            return this;
        }

        public Builder maxBodyBytes(int n) {
            this.maxBodyBytes = n;
            return this;
        }

        public Builder maxBodyBytesInFlight(int n) {
            this.maxBodyBytesInFlight = n;
            return this;
        }

        public Builder maxBatchAnswerChars(int n) {
            this.maxBatchAnswerChars = n;
            return this;
        }

        public Builder maxBlockReadsInFlight(int n) {
            this.maxBlockReadsInFlight = n;
            return this;
        }

        public Builder corsAllowedOrigin(Optional<String> origin) {
            this.corsAllowedOrigin = origin;
            return this;
        }

        public HttpLimits build() {
            return new HttpLimits(
                    maxConnections,
                    readTimeout,
                    idleTimeout,
                    maxBodyBytes,
                    maxBodyBytesInFlight,
                    maxBatchAnswerChars,
                    maxBlockReadsInFlight,
                    maxRequestLineBytes,
                    maxHeaderBytes,
                    maxHeaders,
                    corsAllowedOrigin);
        }
    }
}
