package dev.tally.testbed.wan;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One run's virtual network: a network namespace per node ({@code tallywan-PID-I}), each with the end of a veth pair
 * as {@code eth0} and its own address in 10.213.S.0/24, the other ends on a bridge ({@code twbrPID}) in the host's
 * namespace holding 10.213.S.1 (a subnet no other interface of the host uses). The nodes' namespaces have no route
 * beyond that subnet, so their traffic stays among them and the bridge. Names carry the owning process's id: a run
 * removes the namespaces and links of runs whose process is gone before it makes its own.
 */
final class Namespaces implements AutoCloseable {
    static final String PREFIX = "tallywan-";
    private static final Pattern NAMESPACE = Pattern.compile("^" + PREFIX + "(\\d+)-\\d+");
    private static final Pattern LINK = Pattern.compile("^\\d+: (tw(?:br)?(\\d+)(?:v\\d+)?)[@:]");
    private static final String SUBNET = "10.213.";

    private final long pid = ProcessHandle.current().pid();
    private final int subnet;
    private final int nodes;
    private final PrintWriter log;
    private final List<String> made = new ArrayList<>();
    private boolean bridgeMade;

    private Namespaces(int subnet, int nodes, PrintWriter log) {
        this.subnet = subnet;
        this.nodes = nodes;
        this.log = log;
    }

    /** Removes stale runs' leftovers, then makes the bridge and a namespace per node; undoes it all on a failure. */
    static Namespaces create(int nodes, PrintWriter log) throws IOException {
        removeStale(log);
        Namespaces ns = new Namespaces(freeSubnet(), nodes, log);
        try {
            ns.build();
            return ns;
        } catch (IOException | RuntimeException e) {
            ns.close();
            throw e;
        }
    }

    private void build() throws IOException {
        String bridge = bridge();
        Ip.run("ip", "link", "add", bridge, "type", "bridge");
        bridgeMade = true;
        Ip.run("ip", "addr", "add", SUBNET + subnet + ".1/24", "dev", bridge);
        Ip.run("ip", "link", "set", bridge, "up");
        for (int i = 0; i < nodes; i++) {
            String ns = namespace(i);
            String hostEnd = "tw" + pid + "v" + i;
            Ip.run("ip", "netns", "add", ns);
            made.add(ns);
            Ip.run("ip", "link", "add", hostEnd, "type", "veth", "peer", "name", "eth0", "netns", ns);
            Ip.run("ip", "link", "set", hostEnd, "master", bridge);
            Ip.run("ip", "link", "set", hostEnd, "up");
            Ip.run("ip", "-n", ns, "addr", "add", host(i) + "/24", "dev", "eth0");
            Ip.run("ip", "-n", ns, "link", "set", "eth0", "up");
            Ip.run("ip", "-n", ns, "link", "set", "lo", "up");
        }
        log.printf(
                "wan: %d network namespaces %s0..%d on bridge %s, subnet %s%d.0/24%n",
                nodes, PREFIX + pid + "-", nodes - 1, bridge, SUBNET, subnet);
        log.flush();
    }

    String namespace(int node) {
        return PREFIX + pid + "-" + node;
    }

    private String bridge() {
        return "twbr" + pid;
    }

    /** Node {@code node}'s address, in its namespace. */
    InetAddress address(int node) {
        return parse(host(node));
    }

    /** The bridge's address, in the host's namespace: every node reaches it. */
    InetAddress bridgeAddress() {
        return parse(SUBNET + subnet + ".1");
    }

    private String host(int node) {
        return SUBNET + subnet + "." + (node + 2);
    }

    private static InetAddress parse(String literal) {
        try {
            return InetAddress.getByName(literal); // a literal: no look-up
        } catch (UnknownHostException e) {
            throw new IllegalStateException(literal, e);
        }
    }

    /** The command prefix that runs a program in node {@code node}'s namespace. */
    List<String> exec(int node) {
        return List.of(Ip.find("ip").map(Object::toString).orElse("ip"), "netns", "exec", namespace(node));
    }

    /** Cuts (or, with {@code cut} false, restores) every link between {@code side} and the other nodes, both ways. */
    void setCut(Set<Integer> side, boolean cut) throws IOException {
        for (int a = 0; a < nodes; a++) {
            for (int b = 0; b < nodes; b++) {
                if (side.contains(a) != side.contains(b)) {
                    Ip.run("ip", "-n", namespace(a), "route", cut ? "add" : "del", "blackhole", host(b) + "/32");
                }
            }
        }
    }

    /** A subnet 10.213.S.0/24 that no interface of the host is in. */
    private static int freeSubnet() throws IOException {
        String addresses = Ip.run("ip", "-o", "-4", "addr", "show");
        for (int s = 0; s < 256; s++) {
            if (!addresses.contains(" " + SUBNET + s + ".")) {
                return s;
            }
        }
        throw new IOException("every subnet " + SUBNET + "S.0/24 is in use on this host");
    }

    /** Removes the namespaces (killing what runs in them) and links of runs whose process has exited. */
    static void removeStale(PrintWriter log) throws IOException {
        for (String line : Ip.run("ip", "netns", "list").lines().toList()) {
            Matcher m = NAMESPACE.matcher(line);
            if (m.find() && isGone(m.group(1))) {
                String ns = line.split(" ")[0];
                log.println("wan: removing " + ns + ", left by a run that ended without cleaning up");
                removeNamespace(ns);
            }
        }
        for (String line : Ip.run("ip", "-o", "link", "show").lines().toList()) {
            Matcher m = LINK.matcher(line);
            if (m.find() && isGone(m.group(2))) {
                Ip.attempt("ip", List.of("link", "del", m.group(1)));
            }
        }
        log.flush();
    }

    private static boolean isGone(String pid) {
        return ProcessHandle.of(Long.parseLong(pid)).isEmpty();
    }

    private static void removeNamespace(String ns) throws IOException {
        Ip.Result pids = Ip.attempt("ip", List.of("netns", "pids", ns));
        if (pids.ok()) {
            pids.output()
                    .lines()
                    .map(String::strip)
                    .filter(s -> s.matches("\\d+"))
                    .forEach(p -> ProcessHandle.of(Long.parseLong(p)).ifPresent(ProcessHandle::destroyForcibly));
        }
        Ip.attempt("ip", List.of("netns", "del", ns));
    }

    /** Deletes the namespaces (their veth pairs go with them) and the bridge; what runs in them must be stopped first. */
    @Override
    public void close() {
        for (String ns : made) {
            try {
                removeNamespace(ns);
            } catch (IOException e) {
                log.println("wan: could not remove " + ns + ": " + e.getMessage());
            }
        }
        made.clear();
        if (bridgeMade) {
            try {
                Ip.attempt("ip", List.of("link", "del", bridge()));
            } catch (IOException e) {
                log.println("wan: could not remove " + bridge() + ": " + e.getMessage());
            }
            bridgeMade = false;
        }
        log.flush();
    }
}
