package dev.tally.node.rpc;

import java.net.InetSocketAddress;

/** Small helpers shared by the node's HTTP endpoints. */
public final class NodeHttp {
    private NodeHttp() {}

    /** {@code host:port}, as configs write addresses. */
    public static String text(InetSocketAddress a) {
        String host = a.getAddress().getHostAddress();
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + a.getPort();
    }
}
