package dev.tally.testbed.chaos;

import dev.tally.testbed.localnet.DelayedWriter;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * A TCP proxy on loopback in front of one node: peers dial it (the node's {@code public_addr} and the gossip
 * addresses of the others point here) and it forwards to the node's real {@code server_addr}. It finds which node
 * dialed ({@link SocketOwners}) and applies the current {@link LinkPolicy}: refuses or cuts connections across a
 * partition, delays every chunk (in order, without limiting throughput), and drops connections at random.
 */
final class ChaosProxy implements AutoCloseable {
    private final int node;
    private final ServerSocket server;
    private final InetSocketAddress target;
    private final Supplier<LinkPolicy> policy;
    private final Supplier<Map<Long, Integer>> pids;
    private final Set<Link> links = ConcurrentHashMap.newKeySet();
    private final Random random;
    final AtomicLong accepted = new AtomicLong();
    final AtomicLong refused = new AtomicLong();
    final AtomicLong cut = new AtomicLong();
    final AtomicLong dropped = new AtomicLong();
    final AtomicLong unknownOrigin = new AtomicLong();

    /** One proxied connection: {@code origin} (−1 if unknown) dialed this proxy's node. */
    private final class Link {
        final int origin;
        final Socket client;
        final Socket upstream;

        Link(int origin, Socket client, Socket upstream) {
            this.origin = origin;
            this.client = client;
            this.upstream = upstream;
        }

        void close() {
            links.remove(this);
            closeQuietly(client);
            closeQuietly(upstream);
        }
    }

    ChaosProxy(
            int node,
            InetSocketAddress target,
            Supplier<LinkPolicy> policy,
            Supplier<Map<Long, Integer>> pids,
            long seed)
            throws IOException {
        this.node = node;
        this.target = target;
        this.policy = policy;
        this.pids = pids;
        this.random = new Random(seed);
        this.server = new ServerSocket(0, 64, InetAddress.getLoopbackAddress());
        Thread.ofPlatform().daemon().name("chaos-proxy-" + node).start(this::acceptLoop);
    }

    InetSocketAddress address() {
        return new InetSocketAddress(InetAddress.getLoopbackAddress(), server.getLocalPort());
    }

    /** Closes the connections the current policy no longer allows. */
    void enforce() {
        LinkPolicy p = policy.get();
        for (Link l : links) {
            if (!p.allowed(l.origin, node)) {
                cut.incrementAndGet();
                l.close();
            }
        }
    }

    /** Closes every proxied connection (their nodes reconnect). */
    void closeAll() {
        links.forEach(Link::close);
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            Socket client;
            try {
                client = server.accept();
            } catch (IOException e) {
                return;
            }
            Thread.ofVirtual().name("chaos-link-" + node).start(() -> serve(client));
        }
    }

    private void serve(Socket client) {
        int origin = -1;
        for (int attempt = 0; attempt < 3 && origin < 0; attempt++) {
            origin = SocketOwners.owner(client.getPort(), server.getLocalPort(), pids.get())
                    .orElse(-1);
        }
        if (origin < 0) {
            unknownOrigin.incrementAndGet();
        }
        if (!policy.get().allowed(origin, node)) {
            refused.incrementAndGet();
            closeQuietly(client);
            return;
        }
        Socket upstream = new Socket();
        try {
            client.setTcpNoDelay(true);
            upstream.setTcpNoDelay(true);
            upstream.connect(target, 2000);
        } catch (IOException e) {
            closeQuietly(client);
            closeQuietly(upstream);
            return;
        }
        accepted.incrementAndGet();
        Link link = new Link(origin, client, upstream);
        links.add(link);
        if (!policy.get().allowed(origin, node)) { // a partition began meanwhile
            link.close();
            return;
        }
        Thread.ofVirtual().start(() -> pump(link, client, upstream));
        pump(link, upstream, client);
    }

    /** Copies {@code from} to {@code to}, through a queue that holds each chunk until its delay has passed. */
    private void pump(Link link, Socket from, Socket to) {
        DelayedWriter writer = new DelayedWriter(to, link::close);
        byte[] buf = new byte[64 * 1024];
        try {
            InputStream in = from.getInputStream();
            while (true) {
                int n = in.read(buf);
                if (n < 0) {
                    break;
                }
                LinkPolicy p = policy.get();
                if (!p.allowed(link.origin, node)) {
                    cut.incrementAndGet();
                    break;
                }
                boolean drop;
                synchronized (random) {
                    drop = p.dropProbability() > 0 && random.nextDouble() < p.dropProbability();
                }
                if (drop) {
                    dropped.incrementAndGet();
                    break;
                }
                writer.write(buf, n, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(p.delayMillis()));
            }
        } catch (IOException e) {
            // closed
        }
        writer.finish();
        link.close();
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException e) {
            // already closed
        }
    }

    @Override
    public void close() {
        try {
            server.close();
        } catch (IOException e) {
            // already closed
        }
        closeAll();
    }
}
