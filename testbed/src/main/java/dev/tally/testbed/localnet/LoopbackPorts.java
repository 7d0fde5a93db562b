package dev.tally.testbed.localnet;

import java.io.IOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Ports for a localnet's listeners, chosen below the kernel's ephemeral port range. A port found free and released
 * stays unbound until its node's JVM starts, seconds later on a loaded machine; inside the ephemeral range any
 * {@code bind(0)} meanwhile (the chaos proxies right after, another test on the machine) may take it, and the node
 * then exits with its address in use: the chaos run's "node2=-1" start-up failure. The kernel never hands out a port
 * outside that range on its own, so only a listener asking for that very port can still take it.
 */
final class LoopbackPorts {
    /** Below this are the well-known and registered ports that services tend to use. */
    static final int LOWEST = 10_000;

    private static final Path EPHEMERAL_RANGE = Path.of("/proc/sys/net/ipv4/ip_local_port_range");
    /** Linux's default first ephemeral port, when the range cannot be read. */
    private static final int DEFAULT_EPHEMERAL_LOW = 32_768;

    private LoopbackPorts() {}

    /**
     * {@code count} distinct ports, each free on loopback a moment ago, from a random place in
     * [{@link #LOWEST}, {@link #ephemeralLow()}) so that two localnets generated at once rarely probe the same ones.
     */
    static List<Integer> free(int count) throws IOException {
        int low = LOWEST;
        int high = ephemeralLow();
        if (high - low < 4 * count) {
            throw new IOException("only " + Math.max(0, high - low) + " ports between " + low
                    + " and the first ephemeral port " + high + " (" + EPHEMERAL_RANGE + "); " + count + " needed");
        }
        int span = high - low;
        int start = ThreadLocalRandom.current().nextInt(span);
        InetAddress loopback = InetAddress.getLoopbackAddress();
        List<ServerSocket> held = new ArrayList<>();
        try {
            for (int i = 0; i < span && held.size() < count; i++) {
                int port = low + (start + i) % span;
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

    /** The first port of the kernel's ephemeral range ({@code bind(0)}, outgoing connections). */
    static int ephemeralLow() {
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
