package dev.tally.node.rpc;

import dev.tally.node.config.NodeConfigJson;
import java.net.InetSocketAddress;

/** Small helpers shared by the node's HTTP endpoints. */
public final class NodeHttp {
    private NodeHttp() {}

    /** {@code host:port}, as configs write addresses. */
    public static String text(InetSocketAddress a) {
        return NodeConfigJson.text(a);
    }
}
