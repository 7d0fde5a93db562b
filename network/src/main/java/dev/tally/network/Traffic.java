package dev.tally.network;

import java.util.concurrent.atomic.LongAdder;

/**
 * Bytes moved over connections: framing headers and RPC bodies as written to and read from the encrypted stream
 * (not counting the Noise overhead). One per connection, and one per endpoint (gossip, consensus) that sums them.
 * Thread-safe.
 */
public final class Traffic {
    private final LongAdder sent = new LongAdder();
    private final LongAdder received = new LongAdder();
    private final Traffic parent;

    public Traffic() {
        this(null);
    }

    Traffic(Traffic parent) {
        this.parent = parent;
    }

    void sent(long bytes) {
        sent.add(bytes);
        if (parent != null) {
            parent.sent(bytes);
        }
    }

    void received(long bytes) {
        received.add(bytes);
        if (parent != null) {
            parent.received(bytes);
        }
    }

    public long bytesSent() {
        return sent.sum();
    }

    public long bytesReceived() {
        return received.sum();
    }
}
