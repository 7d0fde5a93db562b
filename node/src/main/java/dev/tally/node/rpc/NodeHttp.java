package dev.tally.node.rpc;

import com.sun.net.httpserver.HttpExchange;
import dev.tally.node.config.NodeConfigJson;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/** Small helpers shared by the node's HTTP endpoints. */
public final class NodeHttp {
    private NodeHttp() {}

    public static void send(HttpExchange ex, int status, String contentType, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", contentType + "; charset=utf-8");
        ex.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }

    /** {@code host:port}, as configs write addresses. */
    public static String text(InetSocketAddress a) {
        return NodeConfigJson.text(a);
    }
}
