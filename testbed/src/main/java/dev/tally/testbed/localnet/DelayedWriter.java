package dev.tally.testbed.localnet;

import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.util.Arrays;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The writing half of a relay that delays a TCP stream (the chaos proxies, the WAN emulation's relay): chunks go out
 * in order, each not before its due time, from a virtual thread of its own, so the reading half never waits.
 */
public final class DelayedWriter {
    private record Chunk(byte[] bytes, long dueNanos) {}

    private static final Chunk END = new Chunk(new byte[0], 0);

    private final LinkedBlockingQueue<Chunk> queue = new LinkedBlockingQueue<>();
    private final Thread thread;

    /** Starts writing to {@code out}; {@code onEnd} runs once the stream ended or failed (e.g. closes both sockets). */
    @SuppressWarnings("ReferenceEquality") // END is a sentinel: that object, not an equal chunk, ends the stream
    public DelayedWriter(Socket out, Runnable onEnd) {
        thread = Thread.ofVirtual().start(() -> {
            try {
                OutputStream o = out.getOutputStream();
                for (Chunk c = queue.take(); c != END; c = queue.take()) {
                    long wait = c.dueNanos() - System.nanoTime();
                    if (wait > 0) {
                        TimeUnit.NANOSECONDS.sleep(wait);
                    }
                    o.write(c.bytes());
                    o.flush();
                }
            } catch (IOException | InterruptedException e) {
                // closed
            }
            onEnd.run();
        });
    }

    /** Queues the first {@code length} bytes of {@code buffer} (copied) to go out at {@code dueNanos}. */
    public void write(byte[] buffer, int length, long dueNanos) {
        queue.add(new Chunk(Arrays.copyOf(buffer, length), dueNanos));
    }

    /** Ends the stream after the chunks queued so far and waits up to 10 s for them to go out. */
    public void finish() {
        queue.add(END);
        try {
            thread.join(TimeUnit.SECONDS.toMillis(10));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
