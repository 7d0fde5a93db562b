package dev.tally.testbed.chaos;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Which of our child processes opened a loopback TCP connection, found through Linux's {@code /proc}: the socket's
 * inode from {@code /proc/net/tcp[6]} (by its two ports), then the process holding that inode among its file
 * descriptors. Lets a proxy that every node dials tell the nodes apart without them binding distinct addresses.
 */
final class SocketOwners {
    private SocketOwners() {}

    /** The node (a value of {@code pids}) whose socket has local port {@code clientPort} and remote port {@code serverPort}. */
    static Optional<Integer> owner(int clientPort, int serverPort, Map<Long, Integer> pids) {
        Optional<String> inode = inode(clientPort, serverPort);
        if (inode.isEmpty()) {
            return Optional.empty();
        }
        String link = "socket:[" + inode.get() + "]";
        for (Map.Entry<Long, Integer> e : pids.entrySet()) {
            try (Stream<Path> fds = Files.list(Path.of("/proc", Long.toString(e.getKey()), "fd"))) {
                boolean found = fds.anyMatch(fd -> {
                    try {
                        return Files.readSymbolicLink(fd).toString().equals(link);
                    } catch (IOException | UnsupportedOperationException x) {
                        return false; // closed meanwhile
                    }
                });
                if (found) {
                    return Optional.of(e.getValue());
                }
            } catch (IOException x) {
                // the process is gone
            }
        }
        return Optional.empty();
    }

    private static Optional<String> inode(int clientPort, int serverPort) {
        for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
            List<String> lines;
            try {
                lines = Files.readAllLines(Path.of(table));
            } catch (IOException e) {
                continue;
            }
            for (String line : lines.subList(Math.min(1, lines.size()), lines.size())) {
                String[] f = line.trim().split("\\s+");
                if (f.length > 9 && port(f[1]) == clientPort && port(f[2]) == serverPort && !f[9].equals("0")) {
                    return Optional.of(f[9]);
                }
            }
        }
        return Optional.empty();
    }

    private static int port(String hexAddress) {
        int colon = hexAddress.lastIndexOf(':');
        try {
            return colon < 0 ? -1 : Integer.parseInt(hexAddress.substring(colon + 1), 16);
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** Whether this system has the tables the lookup needs. */
    static boolean available() {
        return Files.isReadable(Path.of("/proc/net/tcp")) && Files.isDirectory(Path.of("/proc/self/fd"));
    }
}
