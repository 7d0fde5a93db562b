package dev.tally.testbed.wan;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Links shaped by the kernel: in each node's namespace, {@code eth0}'s egress is an HTB with one class per other node,
 * each with a {@code netem} queue (half the round trip, the jitter, the loss) and a filter on that node's address;
 * the rest (the harness's RPC) leaves undelayed. Partitions are blackhole routes ({@link Namespaces#setCut}).
 */
final class NetemShaping implements LinkShaping {
    private final Namespaces namespaces;
    private final List<InetSocketAddress> servers;

    private NetemShaping(Namespaces namespaces, List<InetSocketAddress> servers) {
        this.namespaces = namespaces;
        this.servers = List.copyOf(servers);
    }

    /** Shapes every node's egress; throws, naming the command, if a {@code tc} command fails. */
    static NetemShaping apply(Namespaces namespaces, WanTopology topology, List<InetSocketAddress> servers)
            throws IOException {
        for (int i = 0; i < topology.nodes(); i++) {
            List<String> prefix = namespaces.exec(i);
            for (List<String> tc :
                    commands(i, topology, j -> namespaces.address(j).getHostAddress())) {
                List<String> args = new ArrayList<>(prefix.subList(1, prefix.size()));
                args.add("tc");
                args.addAll(tc);
                Ip.Result r = Ip.attempt("ip", args);
                if (!r.ok()) {
                    throw new IOException(
                            "tc " + String.join(" ", tc) + " in " + namespaces.namespace(i) + ": " + r.output());
                }
            }
        }
        return new NetemShaping(namespaces, servers);
    }

    /** Whether this kernel has netem: tries a netem queue on node 0's {@code eth0}, and removes it. */
    static boolean available(Namespaces namespaces) throws IOException {
        List<String> prefix = namespaces.exec(0);
        List<String> add = new ArrayList<>(prefix.subList(1, prefix.size()));
        add.addAll(List.of("tc", "qdisc", "add", "dev", "eth0", "root", "netem", "delay", "1ms"));
        if (!Ip.attempt("ip", add).ok()) {
            return false;
        }
        List<String> del = new ArrayList<>(prefix.subList(1, prefix.size()));
        del.addAll(List.of("tc", "qdisc", "del", "dev", "eth0", "root"));
        Ip.attempt("ip", del);
        return true;
    }

    /** How node {@code node} maps a node to its address. */
    interface Addresses {
        String of(int node);
    }

    /** The {@code tc} commands (without "tc") that shape node {@code node}'s egress. Class and handle ids are hex. */
    static List<List<String>> commands(int node, WanTopology topology, Addresses addresses) {
        List<List<String>> commands = new ArrayList<>();
        commands.add(List.of("qdisc", "add", "dev", "eth0", "root", "handle", "1:", "htb", "default", "1"));
        commands.add(List.of("class", "add", "dev", "eth0", "parent", "1:", "classid", "1:1", "htb", "rate", "10gbit"));
        for (int j = 0; j < topology.nodes(); j++) {
            if (j == node) {
                continue;
            }
            String id = Integer.toHexString(0x10 + j);
            WanTopology.Link link = topology.link(node, j);
            List<String> netem = new ArrayList<>(List.of(
                    "qdisc",
                    "add",
                    "dev",
                    "eth0",
                    "parent",
                    "1:" + id,
                    "handle",
                    id + ":",
                    "netem",
                    "limit",
                    "100000",
                    "delay",
                    millis(link.delayMillis())));
            if (link.jitterMillis() > 0) {
                netem.add(millis(link.jitterMillis()));
            }
            if (link.lossPercent() > 0) {
                netem.addAll(List.of("loss", String.format(Locale.ROOT, "%.4f%%", link.lossPercent())));
            }
            commands.add(List.of(
                    "class", "add", "dev", "eth0", "parent", "1:", "classid", "1:" + id, "htb", "rate", "10gbit"));
            commands.add(netem);
            commands.add(List.of(
                    "filter",
                    "add",
                    "dev",
                    "eth0",
                    "parent",
                    "1:",
                    "protocol",
                    "ip",
                    "prio",
                    "1",
                    "u32",
                    "match",
                    "ip",
                    "dst",
                    addresses.of(j) + "/32",
                    "flowid",
                    "1:" + id));
        }
        return commands;
    }

    private static String millis(double ms) {
        return String.format(Locale.ROOT, "%.3fms", ms);
    }

    @Override
    public InetSocketAddress dialed(int node) {
        return servers.get(node);
    }

    @Override
    public void setCut(Set<Integer> side, boolean cut) throws IOException {
        namespaces.setCut(side, cut);
    }

    @Override
    public String describe() {
        return "links shaped by tc netem in each node's namespace";
    }

    @Override
    public void close() {
        // the queues go with the namespaces
    }
}
