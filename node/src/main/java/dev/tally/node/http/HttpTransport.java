package dev.tally.node.http;

import dev.tally.node.config.HttpLimits;
import java.io.BufferedOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A small HTTP/1.1 server that answers every abuse with an HTTP error instead of holding or resetting the connection:
 * the JDK's {@code HttpServer} has no read timeout and no connection cap, and resets the connection on a long URL or
 * too many headers. One virtual thread per connection, keep-alive, bodies by {@code Content-Length} only; the limits
 * are {@link HttpLimits}. After an error the connection closes, once the client's unread bytes are drained (for up
 * to a second) so that it reads the answer rather than a reset. Bodies held at once stay within
 * {@link HttpLimits#maxBodyBytesInFlight}: one more is read past and answered 429 at once, on a connection kept open.
 */
public final class HttpTransport implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(HttpTransport.class);
    private static final Duration LINGER = Duration.ofSeconds(1);
    // Compiled once: String.matches compiles its pattern on every call, several times per request.
    private static final Pattern METHOD = Pattern.compile("[A-Z]{1,16}");
    private static final Pattern VERSION = Pattern.compile("HTTP/1\\.[01]");
    private static final Pattern HEADER_NAME = Pattern.compile("[!#$%&'*+.^_`|~0-9A-Za-z-]+");
    private static final Pattern CONTENT_LENGTH = Pattern.compile("[0-9]{1,18}");

    /** The content type of a binary body: the only one sent without a charset. */
    public static final String BINARY = "application/octet-stream";

    /** A request as the handler sees it; header names are lower case. */
    public record Request(
            String method, String path, Optional<String> rawQuery, Map<String, String> headers, byte[] body) {}

    /**
     * An answer: a body with its content type (text is sent as UTF-8, with that charset named), extra headers (e.g.
     * {@code Allow}), and what to do once it is written or could not be (give back what the handler took to make it).
     */
    public record Response(
            int status, String contentType, byte[] body, Map<String, String> headers, Runnable afterWrite) {
        public Response(int status, String contentType, String body, Map<String, String> headers) {
            this(status, contentType, body.getBytes(StandardCharsets.UTF_8), headers, () -> {});
        }

        public Response(int status, String contentType, String body) {
            this(status, contentType, body, Map.of());
        }

        /** A 200 with a binary body ({@link #BINARY}). */
        public static Response binary(byte[] body) {
            return new Response(200, BINARY, body, Map.of(), () -> {});
        }
    }

    public interface Handler {
        Response handle(Request request);

        /** The answer to a request refused before the handler saw it, with a message safe to show anyone. */
        Response refusal(int status, String message);
    }

    /** A body beyond the bytes in flight, read past: answered 429 with the message, the connection kept. */
    private static final class Overloaded extends Exception {
        private static final long serialVersionUID = 1L;

        Overloaded(String message) {
            super(message, null, false, false);
        }
    }

    /** A request refused by the transport: the HTTP status and a message for the client. */
    private static final class Refusal extends Exception {
        private static final long serialVersionUID = 1L;
        private final int status;

        Refusal(int status, String message) {
            super(message, null, false, false);
            this.status = status;
        }
    }

    private final String name;
    private final ServerSocket socket;
    private final HttpLimits limits;
    private final Handler handler;
    private final Semaphore connections;
    /** Bytes of the bodies held now, from the start of their reading until their answer is written. */
    private final Semaphore bodyBytes;
    // The refusals every request may meet, made once rather than per request: without a stack trace, one serves all.
    private final Refusal requestLineTooLong;
    private final Refusal headersTooLarge;

    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();

    private HttpTransport(String name, ServerSocket socket, HttpLimits limits, Handler handler) {
        this.name = name;
        this.socket = socket;
        this.limits = limits;
        this.handler = handler;
        this.connections = new Semaphore(limits.maxConnections());
        this.bodyBytes = new Semaphore(limits.maxBodyBytesInFlight());
        this.requestLineTooLong =
                new Refusal(414, "the request line is longer than " + limits.maxRequestLineBytes() + " bytes");
        this.headersTooLarge = new Refusal(
                431,
                "request headers exceed " + limits.maxHeaders() + " lines or " + limits.maxHeaderBytes() + " bytes");
    }

    /** Serves {@code handler} on {@code address}; {@code name} (e.g. "RPC", "metrics") names it in logs and threads. */
    public static HttpTransport start(String name, InetSocketAddress address, HttpLimits limits, Handler handler)
            throws IOException {
        ServerSocket s = new ServerSocket();
        try {
            s.bind(address, 128);
        } catch (IOException e) {
            s.close();
            throw e;
        }
        HttpTransport t = new HttpTransport(name, s, limits, handler);
        Thread.ofPlatform().daemon().name(name + "-accept").start(t::acceptLoop);
        return t;
    }

    public InetSocketAddress address() {
        return (InetSocketAddress) socket.getLocalSocketAddress();
    }

    private void acceptLoop() {
        while (!socket.isClosed()) {
            Socket s;
            try {
                s = socket.accept();
            } catch (IOException e) {
                if (!socket.isClosed()) {
                    log.warn("{} accept failed: {}", name, e.toString());
                }
                continue;
            }
            if (connections.tryAcquire()) {
                open.add(s);
                executor.execute(() -> {
                    try {
                        serve(s);
                    } finally {
                        open.remove(s);
                        connections.release();
                    }
                });
            } else {
                log.debug(
                        "{} connection from {} refused: {} open",
                        name,
                        s.getRemoteSocketAddress(),
                        limits.maxConnections());
                executor.execute(() -> refuse(
                        s,
                        new Refusal(503, "too many connections (" + limits.maxConnections() + "); try again later")));
            }
        }
    }

    /** Requests on one connection, in turn, until the client closes it, idles too long, or is refused. */
    private void serve(Socket s) {
        try (s) {
            Input in = new Input(s);
            OutputStream out = new BufferedOutputStream(s.getOutputStream());
            while (in.awaitRequest(limits.idleTimeout())) {
                Request request;
                try {
                    request = read(in, out);
                } catch (Refusal r) {
                    refuse(s, r);
                    return;
                } catch (Overloaded o) {
                    write(out, handler.refusal(429, o.getMessage()), Map.of(), true);
                    continue;
                }
                boolean keepAlive = !"close".equalsIgnoreCase(request.headers().get("connection"));
                Response response;
                try {
                    response = answer(request);
                } finally {
                    // Given back once answered, before the answer is written: a client that has read it may send its
                    // next body at once (OverloadFloodTest saw that refused when the bytes came back after the write).
                    bodyBytes.release(request.body().length);
                }
                try {
                    write(out, response, cors(request), keepAlive);
                } finally {
                    response.afterWrite().run();
                }
                if (!keepAlive) {
                    return;
                }
            }
        } catch (EOFException e) {
            log.debug("{} client {} closed mid-request", name, s.getRemoteSocketAddress());
        } catch (IOException e) {
            log.debug("{} connection with {} failed: {}", name, s.getRemoteSocketAddress(), e.toString());
        }
    }

    private Response answer(Request request) {
        if (request.method().equals("OPTIONS") && limits.corsAllowedOrigin().isPresent()) {
            return new Response(
                    204,
                    "text/plain",
                    "",
                    Map.of(
                            "Access-Control-Allow-Methods", "GET, POST",
                            "Access-Control-Allow-Headers", "Content-Type",
                            "Access-Control-Max-Age", "600"));
        }
        try {
            return handler.handle(request);
        } catch (RuntimeException e) {
            log.warn("{} request {} {} failed", name, request.method(), request.path(), e);
            return handler.refusal(500, "internal error; the node's log has the details");
        }
    }

    /** The CORS headers for this request: none unless an origin is configured and the request comes from it. */
    private Map<String, String> cors(Request request) {
        String origin = request.headers().get("origin");
        return limits.corsAllowedOrigin()
                .filter(allowed -> origin != null && (allowed.equals("*") || allowed.equals(origin)))
                .map(allowed -> Map.of("Access-Control-Allow-Origin", allowed, "Vary", "Origin"))
                .orElse(Map.of());
    }

    private Request read(Input in, OutputStream out) throws IOException, Refusal, Overloaded {
        in.startRequest(limits.readTimeout());
        try {
            String line = in.line(limits.maxRequestLineBytes(), requestLineTooLong);
            String[] parts = line.split(" ", -1);
            if (parts.length != 3
                    || !METHOD.matcher(parts[0]).matches()
                    || !parts[1].startsWith("/")
                    || !VERSION.matcher(parts[2]).matches()) {
                throw new Refusal(400, "malformed request line");
            }
            Map<String, String> headers = headers(in);
            byte[] body = body(in, out, headers);
            int q = parts[1].indexOf('?');
            return new Request(
                    parts[0],
                    q < 0 ? parts[1] : parts[1].substring(0, q),
                    q < 0 ? Optional.empty() : Optional.of(parts[1].substring(q + 1)),
                    headers,
                    body);
        } catch (SocketTimeoutException e) {
            throw new Refusal(
                    408,
                    "the request did not arrive within " + limits.readTimeout().toMillis() + " ms");
        }
    }

    private Map<String, String> headers(Input in) throws IOException, Refusal {
        Map<String, String> headers = new LinkedHashMap<>();
        int bytes = 0;
        for (int count = 0; ; count++) {
            String line = in.line(limits.maxHeaderBytes() - bytes, headersTooLarge);
            bytes += line.length() + 2;
            if (line.isEmpty()) {
                return headers;
            }
            int colon = line.indexOf(':');
            if (count == limits.maxHeaders()) {
                throw headersTooLarge;
            }
            if (colon <= 0 || !HEADER_NAME.matcher(line).region(0, colon).matches()) {
                throw new Refusal(400, "malformed header line");
            }
            String name = line.substring(0, colon).toLowerCase(Locale.ROOT);
            String value = line.substring(colon + 1).strip();
            String before = headers.putIfAbsent(name, value);
            if (before != null) {
                if (name.equals("content-length") && !before.equals(value)) {
                    throw new Refusal(400, "conflicting Content-Length headers");
                }
                headers.put(name, before + ", " + value);
            }
        }
    }

    /** The body, its bytes taken from {@link #bodyBytes} (the caller gives them back once it has answered). */
    private byte[] body(Input in, OutputStream out, Map<String, String> headers)
            throws IOException, Refusal, Overloaded {
        if (headers.containsKey("transfer-encoding")) {
            throw new Refusal(411, "send the body with a Content-Length, not a Transfer-Encoding");
        }
        String length = headers.get("content-length");
        if (length == null) {
            return new byte[0];
        }
        if (!CONTENT_LENGTH.matcher(length).matches()) {
            throw new Refusal(400, "malformed Content-Length");
        }
        long n = Long.parseLong(length);
        if (n > limits.maxBodyBytes()) {
            throw new Refusal(413, "the body is larger than " + limits.maxBodyBytes() + " bytes");
        }
        boolean room = bodyBytes.tryAcquire((int) n);
        if ("100-continue".equalsIgnoreCase(headers.get("expect"))) {
            out.write("HTTP/1.1 100 Continue\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
        }
        if (!room) {
            // Read past rather than refused before the body: the client gets its answer on a connection it can reuse.
            in.skip(n);
            throw new Overloaded("overloaded: " + limits.maxBodyBytesInFlight()
                    + " bytes of request bodies are being handled; retry later");
        }
        try {
            return in.bytes((int) n);
        } catch (IOException | RuntimeException e) {
            bodyBytes.release((int) n);
            throw e;
        }
    }

    private static void write(OutputStream out, Response r, Map<String, String> extra, boolean keepAlive)
            throws IOException {
        byte[] body = r.body();
        StringBuilder head = new StringBuilder()
                .append("HTTP/1.1 ")
                .append(r.status())
                .append(' ')
                .append(reason(r.status()))
                .append("\r\n");
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put(
                "Content-Type", r.contentType().equals(BINARY) ? r.contentType() : r.contentType() + "; charset=utf-8");
        headers.put("Content-Length", Integer.toString(body.length));
        headers.putAll(r.headers());
        headers.putAll(extra);
        if (!keepAlive) {
            headers.put("Connection", "close");
        }
        headers.forEach((k, v) -> head.append(k).append(": ").append(v).append("\r\n"));
        out.write(head.append("\r\n").toString().getBytes(StandardCharsets.ISO_8859_1));
        out.write(body);
        out.flush();
    }

    /** Answers with the refusal and closes, after draining what the client still sends (for at most a second). */
    private void refuse(Socket s, Refusal r) {
        try (s) {
            log.debug(
                    "{} request from {} refused ({}): {}", name, s.getRemoteSocketAddress(), r.status, r.getMessage());
            write(s.getOutputStream(), handler.refusal(r.status, r.getMessage()), Map.of(), false);
            s.shutdownOutput();
            long deadline = System.nanoTime() + LINGER.toNanos();
            InputStream in = s.getInputStream();
            byte[] scratch = new byte[16 * 1024];
            for (long left = LINGER.toMillis(); left > 0; left = (deadline - System.nanoTime()) / 1_000_000) {
                s.setSoTimeout((int) left);
                if (in.read(scratch) < 0) {
                    return;
                }
            }
        } catch (IOException e) {
            log.debug("{} refusal to {} not delivered: {}", name, s.getRemoteSocketAddress(), e.toString());
        }
    }

    private static String reason(int status) {
        return switch (status) {
            case 200 -> "OK";
            case 204 -> "No Content";
            case 400 -> "Bad Request";
            case 404 -> "Not Found";
            case 405 -> "Method Not Allowed";
            case 408 -> "Request Timeout";
            case 411 -> "Length Required";
            case 413 -> "Content Too Large";
            case 414 -> "URI Too Long";
            case 415 -> "Unsupported Media Type";
            case 429 -> "Too Many Requests";
            case 431 -> "Request Header Fields Too Large";
            case 500 -> "Internal Server Error";
            case 503 -> "Service Unavailable";
            default -> "Status " + status;
        };
    }

    /** A socket's input, buffered, with a deadline for the whole request rather than for each read. */
    private static final class Input {
        private final Socket socket;
        private final InputStream raw;
        private final byte[] buffer = new byte[8 * 1024];
        private int pos;
        private int end;
        private long deadlineNanos;

        Input(Socket socket) throws IOException {
            this.socket = socket;
            this.raw = socket.getInputStream();
        }

        /** Waits for a request's first byte: false when the client closed the connection or idled too long. */
        boolean awaitRequest(Duration idle) throws IOException {
            if (pos < end) {
                return true;
            }
            deadlineNanos = System.nanoTime() + idle.toNanos();
            try {
                return fill();
            } catch (SocketTimeoutException e) {
                return false;
            }
        }

        void startRequest(Duration timeout) {
            deadlineNanos = System.nanoTime() + timeout.toNanos();
        }

        private boolean fill() throws IOException {
            long left = (deadlineNanos - System.nanoTime()) / 1_000_000;
            if (left <= 0) {
                throw new SocketTimeoutException();
            }
            socket.setSoTimeout((int) Math.min(left, Integer.MAX_VALUE));
            int n = raw.read(buffer);
            if (n < 0) {
                return false;
            }
            pos = 0;
            end = n;
            return true;
        }

        /** A line without its CRLF (or bare LF), in ISO-8859-1; longer than {@code limit} bytes: the refusal. */
        String line(int limit, Refusal tooLong) throws IOException, Refusal {
            StringBuilder spanning = null; // only for a line that spans reads
            while (true) {
                if (pos == end && !fill()) {
                    throw new EOFException();
                }
                int from = pos;
                int lf = from;
                while (lf < end && buffer[lf] != '\n') {
                    lf++;
                }
                int length = lf - from + (spanning == null ? 0 : spanning.length());
                if (length > limit) {
                    throw tooLong;
                }
                String piece = new String(buffer, from, lf - from, StandardCharsets.ISO_8859_1);
                if (lf == end) {
                    pos = end;
                    spanning = (spanning == null ? new StringBuilder() : spanning).append(piece);
                    continue;
                }
                pos = lf + 1;
                String line = spanning == null ? piece : spanning.append(piece).toString();
                return line.endsWith("\r") ? line.substring(0, line.length() - 1) : line;
            }
        }

        /** Reads and drops {@code n} bytes, through the buffer. */
        void skip(long n) throws IOException {
            for (long left = n; left > 0; ) {
                if (pos == end && !fill()) {
                    throw new EOFException();
                }
                int k = (int) Math.min(left, end - pos);
                pos += k;
                left -= k;
            }
        }

        byte[] bytes(int n) throws IOException {
            byte[] out = new byte[n];
            int got = 0;
            while (got < n) {
                if (pos == end && !fill()) {
                    throw new EOFException();
                }
                int k = Math.min(n - got, end - pos);
                System.arraycopy(buffer, pos, out, got, k);
                pos += k;
                got += k;
            }
            return out;
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
        open.forEach(s -> {
            try {
                s.close();
            } catch (IOException e) {
                log.debug("closing {} connection: {}", name, e.toString());
            }
        });
        executor.shutdownNow();
    }
}
