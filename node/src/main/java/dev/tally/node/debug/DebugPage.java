package dev.tally.node.debug;

import dev.tally.crypto.BlsPublicKey;
import dev.tally.network.SignedNetAddress;
import dev.tally.node.config.HttpLimits;
import dev.tally.node.config.NodeConfig;
import dev.tally.node.executor.Node;
import dev.tally.node.executor.StoredRange;
import dev.tally.node.http.HttpTransport;
import dev.tally.node.http.HttpTransport.Response;
import dev.tally.node.http.ReadOnlyPages;
import dev.tally.node.rpc.NodeHttp;
import dev.tally.protocol.ValidatorInfo;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An HTML page for people: the node's identity, limits, consensus position, peers; it refreshes itself. Served at
 * GET {@code /} on the hardened {@link HttpTransport} with {@link ReadOnlyPages#LIMITS}.
 */
public final class DebugPage implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(DebugPage.class);

    private final Node node;
    private final HttpTransport server;

    private DebugPage(Node node, InetSocketAddress address, HttpLimits limits) throws IOException {
        this.node = node;
        this.server = HttpTransport.start(
                "debug-page",
                address,
                limits,
                new ReadOnlyPages(Map.of("/", () -> new Response(200, "text/html", render()))));
    }

    public static DebugPage start(Node node, InetSocketAddress address) throws IOException {
        return start(node, address, ReadOnlyPages.LIMITS);
    }

    /** As {@link #start(Node, InetSocketAddress)}, with other limits (tests reach them quickly). */
    public static DebugPage start(Node node, InetSocketAddress address, HttpLimits limits) throws IOException {
        DebugPage page = new DebugPage(node, address, limits);
        log.info("debug page on http://{}/", NodeHttp.text(page.address()));
        return page;
    }

    /** Where the page is served. */
    public InetSocketAddress address() {
        return server.address();
    }

    private String render() {
        StringBuilder h = new StringBuilder();
        h.append("<!doctype html><html><head><meta charset=utf-8><meta http-equiv=refresh content=2>")
                .append(
                        "<title>tally node</title><style>body{font-family:monospace}td{padding:0 1em}</style></head><body>")
                .append("<h1>tally node</h1><h2>Identity</h2><table>");
        identityAndLimits(h);
        StoredRange blocks = node.storedBlocks();
        consensus(h, blocks);
        syncAndTraffic(h, blocks);
        gossipPeers(h);
        validators(h);
        return h.append("</table></body></html>").toString();
    }

    private void identityAndLimits(StringBuilder h) {
        NodeConfig c = node.config();
        row(h, "node key", c.nodeKey().publicKey().toText());
        row(
                h,
                "validator key",
                c.validatorKey().map(k -> k.publicKey().toText()).orElse("(full node)"));
        row(h, "server / public address", NodeHttp.text(c.serverAddr()) + " / " + NodeHttp.text(c.publicAddr()));
        row(
                h,
                "genesis",
                node.genesis().hash().toText() + " (chain " + node.genesis().chainId() + ", fork "
                        + node.genesis().forkNumber() + ")");
        h.append("</table><h2>Limits</h2><table>");
        row(h, "max payload size", c.maxPayloadSize() + " bytes");
        row(h, "max transaction size", c.maxTxSize() + " bytes");
        row(h, "view timeout", c.viewTimeout().toMillis() + " ms");
        row(h, "block retention", c.blockRetention().map(String::valueOf).orElse("all blocks"));
    }

    private void consensus(StringBuilder h, StoredRange blocks) {
        h.append("</table><h2>Consensus</h2><table>");
        row(
                h,
                "epoch",
                node.epoch().number() + " (from block " + node.epoch().firstBlock() + ", "
                        + node.epoch().committee().size() + " validators)");
        if (node.replicaStatus().isEmpty()) {
            row(
                    h,
                    "role",
                    node.config().isValidator()
                            ? "validator outside the current committee (syncs only)"
                            : "full node (syncs only)");
        }
        node.replicaStatus().ifPresent(s -> {
            row(h, "view", String.valueOf(s.view()));
            row(h, "phase", s.phase().name().toLowerCase(Locale.ROOT));
        });
        row(h, "finalized height", blocks.isEmpty() ? "none" : String.valueOf(blocks.last()));
        row(h, "stored blocks", blocks.isEmpty() ? "none" : blocks.first() + ".." + blocks.last());
    }

    private void syncAndTraffic(StringBuilder h, StoredRange blocks) {
        var gossip = node.network().gossip();
        long peersLast = gossip.peers().stream()
                .map(gossip::peerState)
                .flatMap(java.util.Optional::stream)
                .mapToLong(dev.tally.network.BlockStoreState::last)
                .max()
                .orElse(blocks.last());
        h.append("</table><h2>Block sync</h2><table>");
        row(
                h,
                "sync queue",
                peersLast > blocks.last()
                        ? (peersLast - blocks.last()) + " blocks behind peers (up to " + peersLast + ")"
                        : "empty (up to date with peers)");
        row(h, "blocks fetched / failed fetches", gossip.blocksFetched() + " / " + gossip.fetchFailures());
        h.append("</table><h2>Traffic</h2><table>");
        row(
                h,
                "gossip sent / received",
                gossip.traffic().bytesSent() + " / " + gossip.traffic().bytesReceived() + " bytes");
        node.network()
                .consensus()
                .ifPresent(m -> row(
                        h,
                        "consensus sent / received",
                        m.traffic().bytesSent() + " / " + m.traffic().bytesReceived() + " bytes"));
    }

    private void gossipPeers(StringBuilder h) {
        var gossip = node.network().gossip();
        h.append(
                "</table><h2>Gossip peers</h2><table><tr><th>peer</th><th>blocks</th><th>sent / received bytes</th></tr>");
        for (var key : gossip.peers()) {
            String traffic =
                    gossip.peerTraffic(key).map(t -> t[0] + " / " + t[1]).orElse("-");
            h.append("<tr class=peer><td>")
                    .append(escape(key.toText()))
                    .append("</td><td>")
                    .append(escape(gossip.peerState(key).map(Object::toString).orElse("(no state yet)")))
                    .append("</td><td>")
                    .append(traffic)
                    .append("</td></tr>");
        }
    }

    private void validators(StringBuilder h) {
        h.append(
                "</table><h2>Validators</h2><table><tr><th>key</th><th>weight</th><th>address</th><th>consensus link</th>"
                        + "<th>sent / received bytes</th></tr>");
        Map<BlsPublicKey, SignedNetAddress> addresses =
                node.network().addressBook().snapshot();
        Set<BlsPublicKey> out =
                node.network().consensus().map(m -> m.links().sendingTo()).orElse(Set.of());
        Set<BlsPublicKey> in =
                node.network().consensus().map(m -> m.links().receivingFrom()).orElse(Set.of());
        Set<BlsPublicKey> oneWay =
                node.network().consensus().map(m -> m.links().sendingOneWay()).orElse(Set.of());
        Set<BlsPublicKey> shared = node.network()
                .consensus()
                .map(m -> m.links().sendingOnTheirConnection())
                .orElse(Set.of());
        for (ValidatorInfo v : node.epoch().committee().validators()) {
            SignedNetAddress a = addresses.get(v.key());
            h.append("<tr><td>")
                    .append(escape(v.key().toText()))
                    .append("</td><td>")
                    .append(v.weight())
                    .append("</td><td>")
                    .append(a == null ? "?" : escape(NodeHttp.text(a.address())))
                    .append("</td><td>")
                    // "(rpc)": the peer runs a build before one-way consensus frames (docs/adr/0006); "shared": one
                    // connection, the peer's, carries both ways (docs/adr/0008).
                    .append(out.contains(v.key()) ? (oneWay.contains(v.key()) ? "out " : "out (rpc) ") : "")
                    .append(in.contains(v.key()) ? "in" : "")
                    .append(shared.contains(v.key()) ? " (shared)" : "")
                    .append("</td><td>")
                    .append(node.network()
                            .consensus()
                            .flatMap(m -> m.links().peerTraffic(v.key()))
                            .map(t -> t[0] + " / " + t[1])
                            .orElse("-"))
                    .append("</td></tr>");
        }
    }

    private static void row(StringBuilder h, String name, String value) {
        h.append("<tr><td>")
                .append(escape(name))
                .append("</td><td>")
                .append(escape(value))
                .append("</td></tr>");
    }

    private static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }

    @Override
    public void close() throws IOException {
        server.close();
    }

    @Override
    public String toString() {
        return "debug page on " + NodeHttp.text(address());
    }
}
