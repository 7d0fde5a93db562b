package dev.tally.network;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Named RPCs over one authenticated {@link NoiseStream}: one reader thread, one writer thread (both virtual), a
 * virtual thread per request being served (but pings, which the reader answers) and an optional ping loop, which
 * pings only a peer from which nothing arrived for a ping interval.
 *
 * <p>Application frames, written into the encrypted stream (so a frame larger than one Noise message spans
 * several): {@code u8 kind (1 request, 2 response, 3 message) ++ u8 rpc ++ u32 call id ++ u32 body length ++ body},
 * integers big-endian. A frame whose declared length exceeds the RPC's limit for its kind closes the connection
 * before its body is read. A message (kind 3, call id 0) is a request without a response, for an RPC served by a
 * {@link MessageHandler}: the reader hands it over itself, in order, so TCP's flow control is its back-pressure.
 * Each RPC has a per-direction in-flight limit ({@link Rpc#inflight()}) that the client respects and
 * the server enforces (a peer that exceeds it is dropped), and a token bucket that the client waits on before
 * calling and the server waits on before handling (a peer that calls too fast is throttled: its calls stay in
 * flight, so it soon cannot send more). A call takes one token, or, for an RPC served by an {@link ItemHandler},
 * one per item of its request (e.g. per transaction of a batch): the client says how many it sends, the server's
 * handler counts them once it has decoded the request. Memory per connection is bounded by the limits: one frame
 * being read, the requests in flight and the bounded write queue.
 *
 * <p>Any failure (I/O, a frame over its limit, an unknown call, a handler rejecting a request, a call timing out)
 * closes the connection with a logged reason; pending calls then fail with an {@link IOException}.
 */
final class Connection implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Connection.class);
    static final int HEADER = 10;
    static final byte REQUEST = 1;
    static final byte RESPONSE = 2;
    static final byte MESSAGE = 3;

    /** Serves one RPC. Runs on its own virtual thread; may block. Throwing closes the connection. */
    @FunctionalInterface
    interface Handler {
        byte[] handle(byte[] request) throws Exception;
    }

    /** Waits for rate tokens of the RPC being served. */
    @FunctionalInterface
    interface Meter {
        void take(int items) throws InterruptedException;
    }

    /**
     * Serves an RPC whose rate limit counts the items of a request rather than calls: it decodes the request, takes
     * one token per item from {@code meter}, then acts on it. Otherwise as {@link Handler}.
     */
    @FunctionalInterface
    interface ItemHandler {
        byte[] handle(byte[] request, Meter meter) throws Exception;
    }

    /**
     * Takes a one-way message on the connection's reader thread, so that messages are handled in the order sent and
     * a slow handler slows its peer's sending (TCP). May block, briefly. Throwing closes the connection.
     */
    @FunctionalInterface
    interface MessageHandler {
        void handle(byte[] message) throws Exception;
    }

    /** {@code written}, if not null, runs once the writer wrote the frame into the stream. */
    private record Frame(byte kind, Rpc rpc, int callId, byte[] body, Runnable written) {
        Frame(byte kind, Rpc rpc, int callId, byte[] body) {
            this(kind, rpc, callId, body, null);
        }
    }

    private record Pending(Rpc rpc, CompletableFuture<byte[]> response) {}

    private final String label;
    private final NoiseStream stream;
    private final RpcConfig config;
    private final Map<Rpc, ItemHandler> handlers = new EnumMap<>(Rpc.class);
    private final Map<Rpc, MessageHandler> messageHandlers = new EnumMap<>(Rpc.class);
    private final Duration pingInterval;
    private final Duration pingTimeout;
    private final Map<Rpc, Semaphore> clientSlots = new EnumMap<>(Rpc.class);
    private final Map<Rpc, TokenBucket> clientRate = new EnumMap<>(Rpc.class);
    private final Map<Rpc, AtomicInteger> serverInflight = new EnumMap<>(Rpc.class);
    private final Map<Rpc, TokenBucket> serverRate = new EnumMap<>(Rpc.class);
    private final Map<Integer, Pending> pending = new ConcurrentHashMap<>();
    private final AtomicInteger nextCallId = new AtomicInteger();
    private final BlockingQueue<Frame> outbound;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final CompletableFuture<String> closeReason = new CompletableFuture<>();
    private final CopyOnWriteArrayList<Consumer<String>> closeListeners = new CopyOnWriteArrayList<>();
    private volatile Traffic traffic = new Traffic();
    /** When the reader last began a frame ({@link System#nanoTime}): what a ping's timeout is measured against. */
    private volatile long lastReceived = System.nanoTime();
    /** How many ping timeouts of silence close a connection whose ping is unanswered. */
    static final int SILENT_PINGS = 3;

    Connection(
            String label,
            NoiseStream stream,
            RpcConfig config,
            Map<Rpc, Handler> handlers,
            Duration pingInterval,
            Duration pingTimeout) {
        this.label = label;
        this.stream = stream;
        this.config = config;
        handlers.forEach(this::servePerCall);
        servePerCall(Rpc.PING, req -> req);
        this.pingInterval = pingInterval;
        this.pingTimeout = pingTimeout;
        int bound = 16;
        for (Rpc r : Rpc.values()) {
            clientSlots.put(r, new Semaphore(r.inflight(), true));
            clientRate.put(r, new TokenBucket(config.limit(r).rate()));
            serverInflight.put(r, new AtomicInteger());
            serverRate.put(r, new TokenBucket(config.limit(r).rate()));
            bound += 2 * r.inflight();
        }
        this.outbound = new LinkedBlockingQueue<>(bound);
    }

    private void servePerCall(Rpc rpc, Handler h) {
        handlers.put(rpc, (request, meter) -> {
            meter.take(1);
            return h.handle(request);
        });
    }

    /** Serves {@code rpc} with a handler that takes a rate token per item of a request; call before {@link #start}. */
    Connection serveItems(Rpc rpc, ItemHandler h) {
        handlers.put(rpc, h);
        return this;
    }

    /** Takes {@code rpc}'s one-way messages with {@code h}; call before {@link #start}. */
    Connection serveMessages(Rpc rpc, MessageHandler h) {
        messageHandlers.put(rpc, h);
        return this;
    }

    /** Counts this connection's bytes also into {@code endpoint}; call before {@link #start}. */
    Connection countInto(Traffic endpoint) {
        this.traffic = new Traffic(endpoint);
        return this;
    }

    /** The bytes this connection sent and received. */
    Traffic traffic() {
        return traffic;
    }

    /** Starts the reader, the writer and (if configured) the ping loop. */
    Connection start() {
        Thread.ofVirtual().name("net-read " + label).start(this::readLoop);
        Thread.ofVirtual().name("net-write " + label).start(this::writeLoop);
        if (pingInterval != null) {
            Thread.ofVirtual().name("net-ping " + label).start(this::pingLoop);
        }
        return this;
    }

    String label() {
        return label;
    }

    boolean isOpen() {
        return !closed.get();
    }

    /** Completes with the reason when the connection closes. */
    CompletableFuture<String> closed() {
        return closeReason;
    }

    // Closed already: the listener runs once the reason is set. Nothing waits for that, and notifyClosed logs a failure
    // as close() does, so the future thenAccept returns has nothing to tell.
    @SuppressWarnings("FutureReturnValueIgnored")
    void onClose(Consumer<String> listener) {
        closeListeners.add(listener);
        if (closed.get()) {
            closeReason.thenAccept(reason -> notifyClosed(listener, reason));
            closeListeners.remove(listener);
        }
    }

    /**
     * Calls an RPC: waits for an in-flight slot and a rate token, sends the request and waits for the response
     * (at most {@code timeout}, if given; a timeout closes the connection, since the call stays in flight at the peer).
     */
    byte[] call(Rpc rpc, byte[] request, Duration timeout) throws IOException, InterruptedException {
        return call(rpc, request, 1, timeout);
    }

    /** As {@link #call(Rpc, byte[], Duration)} for a request of {@code items} items, each taking a rate token. */
    byte[] call(Rpc rpc, byte[] request, int items, Duration timeout) throws IOException, InterruptedException {
        Semaphore slots = clientSlots.get(rpc);
        slots.acquire();
        try {
            return callReserved(rpc, request, items, timeout);
        } finally {
            slots.release();
        }
    }

    /** Takes an in-flight slot for {@code rpc} if one is free now; the caller must then {@link #callReserved} and release. */
    boolean tryReserve(Rpc rpc) {
        return clientSlots.get(rpc).tryAcquire();
    }

    /**
     * Waits up to {@code wait} for an in-flight slot for {@code rpc}; the caller must then {@link #callReserved} or
     * {@link #sendReserved}, or release.
     */
    boolean reserve(Rpc rpc, Duration wait) throws InterruptedException {
        return clientSlots.get(rpc).tryAcquire(wait.toNanos(), TimeUnit.NANOSECONDS);
    }

    void release(Rpc rpc) {
        clientSlots.get(rpc).release();
    }

    /**
     * Sends a one-way message with an in-flight slot already held: waits for a rate token and queues it for the writer,
     * which releases the slot once the message is written (so at most {@link Rpc#inflight()} wait in the queue) and
     * then runs {@code written}. A message still queued when the connection closes is lost, its slot with it.
     */
    void sendReserved(Rpc rpc, byte[] message, Runnable written) throws IOException, InterruptedException {
        if (closed.get()) {
            throw new IOException(label + " is closed: " + closeReason.getNow("closing"));
        }
        clientRate.get(rpc).acquire(1);
        enqueue(new Frame(MESSAGE, rpc, 0, message, () -> {
            release(rpc);
            written.run();
        }));
    }

    /** Calls with an in-flight slot already held: waits for a rate token, sends, waits for the response. */
    byte[] callReserved(Rpc rpc, byte[] request, Duration timeout) throws IOException, InterruptedException {
        return callReserved(rpc, request, 1, timeout);
    }

    /** As {@link #callReserved(Rpc, byte[], Duration)}, waiting for one rate token per item of the request. */
    byte[] callReserved(Rpc rpc, byte[] request, int items, Duration timeout) throws IOException, InterruptedException {
        if (closed.get()) {
            throw new IOException(label + " is closed: " + closeReason.getNow("closing"));
        }
        clientRate.get(rpc).acquire(items);
        int id = nextCallId.incrementAndGet();
        CompletableFuture<byte[]> response = new CompletableFuture<>();
        pending.put(id, new Pending(rpc, response));
        try {
            enqueue(new Frame(REQUEST, rpc, id, request));
            try {
                return timeout == null ? response.get() : await(rpc, response, timeout);
            } catch (ExecutionException e) {
                throw new IOException(
                        label + ": " + rpc + " call failed: " + e.getCause().getMessage(), e.getCause());
            }
        } finally {
            pending.remove(id);
        }
    }

    /**
     * Waits for a call's response at most {@code timeout}, then closes the connection (the call stays in flight at the
     * peer). A ping, which asks whether the peer is alive, waits on while frames keep coming, and closes the
     * connection only once nothing has arrived for {@value #SILENT_PINGS} ping timeouts: a busy peer answers late, a
     * dead one sends nothing. At n = 100 on two cores, a view change (each validator checking 99 timeout votes) or a
     * collection left answers to pings over 10 s behind; closing those connections brought the handshakes that kept
     * the mesh from forming.
     */
    private byte[] await(Rpc rpc, CompletableFuture<byte[]> response, Duration timeout)
            throws IOException, InterruptedException, ExecutionException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            try {
                return response.get(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
            } catch (TimeoutException e) {
                long silence = SILENT_PINGS * timeout.toNanos();
                long silenceEnds = lastReceived + silence;
                if (rpc != Rpc.PING || silenceEnds - System.nanoTime() <= 0) {
                    close(
                            rpc == Rpc.PING
                                    ? "ping unanswered and nothing received for " + silence / 1_000_000 + " ms"
                                    : rpc + " call timed out after " + timeout.toMillis() + " ms");
                    throw new IOException(label + ": " + rpc + " call timed out", e);
                }
                deadline = silenceEnds;
            }
        }
    }

    private void enqueue(Frame f) throws IOException {
        if (!outbound.offer(f)) {
            // Cannot happen while in-flight limits hold; a safety net against unbounded buffering.
            close("write queue overflow");
        }
        if (closed.get()) {
            throw new IOException(label + " is closed: " + closeReason.getNow("closing"));
        }
    }

    /** Bytes sent and received over the given connections (absent ones are null), or empty if all are absent. */
    static Optional<long[]> trafficOf(Connection... connections) {
        long sent = 0;
        long received = 0;
        boolean any = false;
        for (Connection c : connections) {
            if (c != null) {
                any = true;
                sent += c.traffic().bytesSent();
                received += c.traffic().bytesReceived();
            }
        }
        return any ? Optional.of(new long[] {sent, received}) : Optional.empty();
    }

    private void writeLoop() {
        try {
            OutputStream out = stream.out();
            byte[] header = new byte[HEADER];
            while (!closed.get()) {
                Frame f = outbound.poll();
                if (f == null) {
                    out.flush();
                    f = outbound.take();
                }
                header[0] = f.kind;
                header[1] = (byte) f.rpc.id();
                putInt(header, 2, f.callId);
                putInt(header, 6, f.body.length);
                out.write(header);
                out.write(f.body);
                traffic.sent(HEADER + f.body.length);
                if (f.written != null) {
                    f.written.run();
                }
            }
        } catch (IOException e) {
            close("write failed: " + e.getMessage());
        } catch (InterruptedException e) {
            close("writer interrupted");
        }
    }

    private void readLoop() {
        try {
            DataInputStream in = new DataInputStream(stream.in());
            byte[] header = new byte[HEADER];
            while (!closed.get()) {
                in.readFully(header);
                lastReceived = System.nanoTime();
                byte kind = header[0];
                Rpc rpc = Rpc.byId(header[1] & 0xff);
                int callId = getInt(header, 2);
                long length = getInt(header, 6) & 0xffffffffL;
                if (rpc == null) {
                    throw new ProtocolException("frame for unknown rpc id " + (header[1] & 0xff));
                }
                RpcConfig.Limit limit = config.limit(rpc);
                if (kind == REQUEST) {
                    ItemHandler h = handlers.get(rpc);
                    if (h == null) {
                        throw new ProtocolException("request for " + rpc + ", which this endpoint does not serve");
                    }
                    if (length > limit.maxRequestBytes()) {
                        throw new ProtocolException(rpc + " request of " + length + " bytes exceeds the limit of "
                                + limit.maxRequestBytes());
                    }
                    if (serverInflight.get(rpc).incrementAndGet() > rpc.inflight()) {
                        throw new ProtocolException(
                                "peer exceeded the in-flight limit of " + rpc.inflight() + " for " + rpc);
                    }
                    byte[] body = new byte[(int) length];
                    in.readFully(body);
                    traffic.received(HEADER + length);
                    if (rpc == Rpc.PING) {
                        // An echo needs no thread of its own (at n = 100 thousands of them waited for a carrier at
                        // once). A peer pinging faster than the rate limit waits here, its other frames with it.
                        serve(rpc, callId, h, body);
                    } else {
                        Thread.ofVirtual()
                                .name("net-serve " + rpc + " " + label)
                                .start(() -> serve(rpc, callId, h, body));
                    }
                } else if (kind == RESPONSE) {
                    Pending p = pending.get(callId);
                    if (p == null || p.rpc != rpc) {
                        throw new ProtocolException("response to unknown call " + callId + " (" + rpc + ")");
                    }
                    if (length > limit.maxResponseBytes()) {
                        throw new ProtocolException(rpc + " response of " + length + " bytes exceeds the limit of "
                                + limit.maxResponseBytes());
                    }
                    byte[] body = new byte[(int) length];
                    in.readFully(body);
                    traffic.received(HEADER + length);
                    p.response.complete(body);
                } else if (kind == MESSAGE) {
                    take(rpc, callId, length, in);
                } else {
                    throw new ProtocolException("frame of unknown kind " + kind);
                }
            }
        } catch (ProtocolException e) {
            close("protocol violation: " + e.getMessage());
        } catch (IOException e) {
            close(closed.get() ? "closed" : "read failed: " + e);
        }
    }

    /** Reads a one-way message's body and hands it over, on the reader thread. */
    private void take(Rpc rpc, int callId, long length, DataInputStream in) throws IOException {
        MessageHandler h = messageHandlers.get(rpc);
        if (h == null) {
            throw new ProtocolException("message for " + rpc + ", which this endpoint does not take as messages");
        }
        if (callId != 0) {
            throw new ProtocolException(rpc + " message with call id " + callId + ", not 0");
        }
        long max = config.limit(rpc).maxRequestBytes();
        if (length > max) {
            throw new ProtocolException(rpc + " message of " + length + " bytes exceeds the limit of " + max);
        }
        byte[] body = new byte[(int) length];
        in.readFully(body);
        traffic.received(HEADER + length);
        try {
            serverRate.get(rpc).acquire(1);
            h.handle(body);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        } catch (Exception e) {
            throw new ProtocolException(rpc + " message rejected: " + e.getMessage(), e);
        }
    }

    private void serve(Rpc rpc, int callId, ItemHandler h, byte[] request) {
        try {
            TokenBucket rate = serverRate.get(rpc);
            byte[] response = h.handle(request, rate::acquire);
            serverInflight.get(rpc).decrementAndGet();
            enqueue(new Frame(RESPONSE, rpc, callId, response));
        } catch (InterruptedException e) {
            close("interrupted");
        } catch (Exception e) {
            close(rpc + " request rejected: " + e.getMessage());
        }
    }

    private void pingLoop() {
        SecureRandom rnd = new SecureRandom();
        try {
            while (!closed.get()) {
                Thread.sleep(pingInterval);
                if (System.nanoTime() - lastReceived < pingInterval.toNanos()) {
                    continue; // frames from the peer came within the interval: it is alive, no need to ask
                }
                byte[] data = new byte[32];
                rnd.nextBytes(data);
                byte[] echo = call(Rpc.PING, data, pingTimeout);
                if (!Arrays.equals(data, echo)) {
                    close("bad ping response");
                }
            }
        } catch (InterruptedException | IOException e) {
            close("ping failed: " + e.getMessage());
        }
    }

    /** Closes the connection (idempotent) and fails pending calls. */
    void close(String reason) {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        log.info("{}: connection closed: {}", label, reason);
        try {
            stream.close();
        } catch (IOException ignored) {
            // closing anyway
        }
        IOException failure = new IOException(label + " closed: " + reason);
        pending.values().forEach(p -> p.response.completeExceptionally(failure));
        outbound.clear();
        // Wake the writer if it waits for a frame.
        outbound.offer(new Frame(RESPONSE, Rpc.PING, 0, new byte[0]));
        closeReason.complete(reason);
        for (Consumer<String> l : closeListeners) {
            notifyClosed(l, reason);
        }
    }

    private void notifyClosed(Consumer<String> listener, String reason) {
        try {
            listener.accept(reason);
        } catch (RuntimeException e) {
            log.warn("{}: close listener failed", label, e);
        }
    }

    @Override
    public void close() {
        close("closed locally");
    }

    private static void putInt(byte[] b, int off, int v) {
        b[off] = (byte) (v >>> 24);
        b[off + 1] = (byte) (v >>> 16);
        b[off + 2] = (byte) (v >>> 8);
        b[off + 3] = (byte) v;
    }

    private static int getInt(byte[] b, int off) {
        return (b[off] & 0xff) << 24 | (b[off + 1] & 0xff) << 16 | (b[off + 2] & 0xff) << 8 | (b[off + 3] & 0xff);
    }

    @Override
    public String toString() {
        return label;
    }
}
