package dev.tally.network;

import java.io.IOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Ports for listeners chosen before they bind (a localnet's nodes, the nodes of in-process tests), taken below the
 * kernel's ephemeral port range. A port found free and released stays unbound until its node starts, seconds later on
 * a loaded machine; inside the ephemeral range any {@code bind(0)} or outgoing connection meanwhile may take it, and
 * the node then fails with its address in use: the chaos run's "node2=-1" start-up failure, and a full node of an
 * in-process cluster whose port a validator's connection had been given. The kernel never hands out a port outside
 * that range on its own, so only a listener asking for that very port can still take it.
 */
public final class LoopbackPorts {
    /** Below this are the well-known and registered ports that services tend to use. */
    public static final int LOWEST = 10_000;

    private static final Path EPHEMERAL_RANGE = Path.of("/proc/sys/net/ipv4/ip_local_port_range");
    /** Linux's default first ephemeral port, when the range cannot be read. */
    private static final int DEFAULT_EPHEMERAL_LOW = 32_768;

    /**
     * Where the next probe goes, counting on from a random place: two processes (two localnets generated at once)
     * rarely probe the same ports, and one process never hands out a port twice before it has gone round the range,
     * even to callers asking one port at a time whose earlier ports are not bound yet.
     */
    private static final AtomicInteger NEXT_PROBE =
            new AtomicInteger(ThreadLocalRandom.current().nextInt(1 << 30));

    private LoopbackPorts() {}

    /** {@code count} distinct ports, each free on loopback a moment ago, in [{@link #LOWEST}, {@link #ephemeralLow()}). */
    public static List<Integer> free(int count) throws IOException {
        int low = LOWEST;
        int high = ephemeralLow();
        if (high - low < 4 * count) {
            throw new IOException("only " + Math.max(0, high - low) + " ports between " + low
                    + " and the first ephemeral port " + high + " (" + EPHEMERAL_RANGE + "); " + count + " needed");
        }
        int span = high - low;
        InetAddress loopback = InetAddress.getLoopbackAddress();
        List<ServerSocket> held = new ArrayList<>();
        try {
            for (int i = 0; i < span && held.size() < count; i++) {
                int port = low + Math.floorMod(NEXT_PROBE.getAndIncrement(), span);
                try {
                    held.add(new ServerSocket(port, 1, loopback));
                } catch (BindException e) {
                    // in use: try the next one
                }
            }
            if (held.size() < count) {
                throw new IOException("only " + held.size() + " free loopback ports between " + low + " and " + high
                        + "; " + count + " needed");
            }
            return held.stream().map(ServerSocket::getLocalPort).toList();
        } finally {
            for (ServerSocket s : held) {
                s.close();
            }
        }
    }

    /** An address on loopback whose port was free a moment ago (see {@link #free}). */
    public static InetSocketAddress freeAddress() throws IOException {
        return new InetSocketAddress(InetAddress.getLoopbackAddress(), free(1).getFirst());
    }

    /** The first port of the kernel's ephemeral range ({@code bind(0)}, outgoing connections). */
    public static int ephemeralLow() {
        try {
            // by lines: a /proc file reports size 0, and readString here read only its first byte
            String[] range =
                    Files.readAllLines(EPHEMERAL_RANGE).getFirst().trim().split("\\s+");
            return Integer.parseInt(range[0]);
        } catch (IOException | RuntimeException e) {
            return DEFAULT_EPHEMERAL_LOW; // elsewhere the range starts higher still (49152 on macOS and Windows)
        }
    }
}
