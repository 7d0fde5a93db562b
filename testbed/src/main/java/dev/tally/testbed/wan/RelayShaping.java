package dev.tally.testbed.wan;

import dev.tally.testbed.localnet.DelayedWriter;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * Links shaped in this process, for kernels without netem: the nodes dial each other through a relay on the bridge's
 * address (one port per node; the dialer is known by its source address, each node having its own), which holds
 * every chunk of bytes for the link's one-way delay, give or take the jitter, in order. A TCP stream loses no bytes,
 * so a lost packet is what TCP makes of it: with the loss probability a chunk waits one retransmission timeout more
 * (Linux's: the round trip plus four times the jitter, at least 200 ms), and the chunks behind it wait for it. A
 * partition refuses and closes the connections it cuts. Unlike netem, connection set-up takes no round trip.
 */
final class RelayShaping implements LinkShaping {
    private final WanTopology topology;
    private final Map<InetAddress, Integer> nodeAt;
    private final List<ServerSocket> servers = new ArrayList<>();
    private final Set<Relayed> open = ConcurrentHashMap.newKeySet();
    /** The sides currently cut off: a link is cut while a side holds exactly one of its ends. */
    private final List<Set<Integer>> cuts = new CopyOnWriteArrayList<>();

    private final Random random = new Random();

    /** One relayed connection, from {@code from} to {@code to}. */
    private record Relayed(int from, int to, Socket client, Socket upstream) {
        void close() {
            closeQuietly(client);
            closeQuietly(upstream);
        }
    }

    private RelayShaping(WanTopology topology, Namespaces namespaces) {
        this.topology = topology;
        this.nodeAt = IntStream.range(0, topology.nodes())
                .boxed()
                .collect(Collectors.toUnmodifiableMap(namespaces::address, i -> i));
    }

    /** Listens on the bridge's address, a port per node, relaying to that node's server in {@code targets}. */
    static RelayShaping start(WanTopology topology, Namespaces namespaces, List<InetSocketAddress> targets)
            throws IOException {
        RelayShaping relay = new RelayShaping(topology, namespaces);
        try {
            for (int i = 0; i < topology.nodes(); i++) {
                ServerSocket s = new ServerSocket(0, 64, namespaces.bridgeAddress());
                relay.servers.add(s);
                int node = i;
                Thread.ofPlatform()
                        .daemon()
                        .name("wan-relay-" + node)
                        .start(() -> relay.acceptLoop(node, s, targets.get(node)));
            }
        } catch (IOException e) {
            relay.close();
            throw e;
        }
        return relay;
    }

    @Override
    public InetSocketAddress dialed(int node) {
        ServerSocket s = servers.get(node);
        return new InetSocketAddress(s.getInetAddress(), s.getLocalPort());
    }

    private void acceptLoop(int node, ServerSocket server, InetSocketAddress target) {
        while (!server.isClosed()) {
            try {
                Socket client = server.accept();
                Thread.ofVirtual().name("wan-link-" + node).start(() -> serve(node, client, target));
            } catch (IOException e) {
                return; // closed
            }
        }
    }

    private boolean isCut(int a, int b) {
        return cuts.stream().anyMatch(side -> side.contains(a) != side.contains(b));
    }

    private void serve(int to, Socket client, InetSocketAddress target) {
        Integer from = nodeAt.get(client.getInetAddress());
        if (from == null || isCut(from, to)) {
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
        Relayed r = new Relayed(from, to, client, upstream);
        open.add(r);
        if (isCut(from, to)) { // a partition began meanwhile
            r.close();
            open.remove(r);
            return;
        }
        Thread.ofVirtual().start(() -> pump(r, client, upstream, topology.link(from, to)));
        pump(r, upstream, client, topology.link(to, from));
    }

    /** Copies {@code in} to {@code out}, each chunk held until its due time (never before the one ahead of it). */
    private void pump(Relayed r, Socket in, Socket out, WanTopology.Link link) {
        DelayedWriter writer = new DelayedWriter(out, r::close);
        byte[] buf = new byte[64 * 1024];
        long lastDue = 0;
        try {
            InputStream i = in.getInputStream();
            for (int n = i.read(buf); n >= 0 && !isCut(r.from(), r.to()); n = i.read(buf)) {
                long due = Math.max(lastDue, System.nanoTime() + delayNanos(link));
                writer.write(buf, n, due);
                lastDue = due;
            }
        } catch (IOException e) {
            // closed
        }
        writer.finish();
        r.close();
        open.remove(r);
    }

    /** The link's one-way delay, a uniform jitter around it, and a retransmission timeout for a "lost" chunk. */
    private long delayNanos(WanTopology.Link link) {
        double ms = link.delayMillis();
        synchronized (random) {
            if (link.jitterMillis() > 0) {
                ms += (random.nextDouble() * 2 - 1) * link.jitterMillis();
            }
            if (link.lossPercent() > 0 && random.nextDouble() * 100 < link.lossPercent()) {
                ms += Math.max(200, 2 * link.delayMillis() + 4 * link.jitterMillis());
            }
        }
        return (long) (Math.max(0, ms) * 1e6);
    }

    @Override
    public void setCut(Set<Integer> side, boolean cut) {
        if (cut) {
            cuts.add(Set.copyOf(side));
            for (Relayed r : open) {
                if (isCut(r.from(), r.to())) {
                    r.close();
                }
            }
        } else {
            cuts.remove(Set.copyOf(side));
        }
    }

    @Override
    public String describe() {
        return "links shaped by a relay on the bridge (this kernel has no netem: delays and cuts of TCP streams)";
    }

    @Override
    public void close() {
        servers.forEach(s -> {
            try {
                s.close();
            } catch (IOException e) {
                // already closed
            }
        });
        open.forEach(Relayed::close);
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException e) {
            // already closed
        }
    }
}
