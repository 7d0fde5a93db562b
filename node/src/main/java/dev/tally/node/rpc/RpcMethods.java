package dev.tally.node.rpc;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tally.execution.ApplicationExecutionLayer;
import dev.tally.execution.TransactionPayload;
import dev.tally.network.BlockStoreState;
import dev.tally.network.SignedNetAddress;
import dev.tally.network.TransactionSink;
import dev.tally.node.client.BlockFeed;
import dev.tally.node.client.TxBatch;
import dev.tally.node.config.GenesisJson;
import dev.tally.node.executor.Node;
import dev.tally.node.executor.NodeHealth;
import dev.tally.node.executor.ReplicaStatus;
import dev.tally.node.executor.StoredRange;
import dev.tally.node.metrics.NodeMetrics;
import dev.tally.protocol.Codec;
import dev.tally.protocol.FinalBlock;
import dev.tally.protocol.ValidatorInfo;
import java.io.ByteArrayOutputStream;
import java.time.Duration;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/** The node's RPC methods, by name. Each takes {@link RpcParams} and answers JSON. Thread-safe. */
public final class RpcMethods {
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private static final HexFormat HEX = HexFormat.of();
    private static final ObjectMapper JSON = new ObjectMapper();

    private interface Method {
        JsonNode call(RpcParams params) throws RpcException;
    }

    private final Node node;
    private final Submissions submissions;
    private final Map<String, Method> methods = new LinkedHashMap<>();

    public RpcMethods(Node node) {
        this.node = node;
        this.submissions = new Submissions(node);
        methods.put("health_check", p -> healthCheck());
        methods.put("last_committed_block", p -> lastCommittedBlock());
        methods.put("last_view", p -> lastView());
        methods.put("block", p -> block(p.nonNegativeLong("number", 0)));
        methods.put("genesis", p -> genesis());
        methods.put("validators", p -> validators());
        methods.put("peers", p -> peers());
        methods.put("push_tx", p -> pushTx(p.hex("tx", 0)));
        methods.put(
                "push_txs",
                p -> submissions
                        .submit(p.hexArray("txs", 0, TxBatch.MAX_TRANSACTIONS))
                        .body());
        if (node.execution() instanceof ApplicationExecutionLayer app) {
            methods.put("app_state", p -> appState(app));
            // An application's query may not shadow a method of the node.
            app.application().queryMethods().forEach(name -> methods.putIfAbsent(name, p -> query(app, name, p)));
        }
    }

    /** Whether the method changes the node's state: such a method is served over POST only. */
    public boolean changesState(String method) {
        return method.equals("push_tx") || method.equals("push_txs");
    }

    /** Whether the method's answer carries a block (in hex, megabytes each): the server bounds those in flight. */
    public boolean readsBlocks(String method) {
        return method.equals("block");
    }

    /** A batch from {@code POST /txs}: one result per transaction (see {@code push_txs}), under admission control. */
    Submissions.Outcome submitBatch(List<byte[]> txs) throws RpcException {
        return submissions.submit(txs);
    }

    public boolean has(String method) {
        return methods.containsKey(method);
    }

    public JsonNode call(String method, RpcParams params) throws RpcException {
        Method m = methods.get(method);
        if (m == null) {
            throw new RpcException(
                    RpcException.METHOD_NOT_FOUND,
                    "no method \"" + method + "\"; methods: " + String.join(", ", methods.keySet()));
        }
        return m.call(params);
    }

    /** A plain HTTP answer, for the health probes. */
    public record HttpAnswer(int status, JsonNode body) {}

    /**
     * GET {@code /health} (and {@code /health_check}: the whole {@code health_check} report) and {@code /ready} (only
     * the verdict, for load balancers): HTTP 200 when the status is ok, 503 otherwise. Empty for any other path.
     */
    public Optional<HttpAnswer> probe(String path) {
        if (!path.equals("health") && !path.equals("health_check") && !path.equals("ready")) {
            return Optional.empty();
        }
        NodeHealth h = node.health();
        JsonNode body = !path.equals("ready")
                ? healthReport(h)
                : NODES.objectNode()
                        .put("ready", h.status() == NodeHealth.Status.OK)
                        .put("status", h.status().text());
        return Optional.of(new HttpAnswer(h.status() == NodeHealth.Status.OK ? 200 : 503, body));
    }

    private JsonNode healthCheck() {
        return healthReport(node.health());
    }

    /**
     * {"status": ok|catching_up|stalled|degraded, "reason", "validator", "last_block" (or null),
     * "last_block_age_ms", "peers": {"gossip", "consensus" (validators), "last_block" (or null)},
     * "storage": {"kind", "free_bytes" (on disk), "problem" (or null)}}.
     */
    private JsonNode healthReport(NodeHealth h) {
        ObjectNode o = NODES.objectNode().put("status", h.status().text());
        putOrNull(o, "reason", h.reason().isEmpty() ? null : h.reason());
        o.put("validator", node.config().isValidator());
        putOrNull(o, "last_block", h.lastBlock());
        o.put("last_block_age_ms", h.lastBlockAgeMillis());
        ObjectNode peers = o.putObject("peers").put("gossip", h.gossipPeers());
        h.consensusPeers().ifPresent(n -> peers.put("consensus", n));
        putOrNull(peers, "last_block", h.peersLastBlock());
        ObjectNode storage = o.putObject("storage").put("kind", h.storage().kind());
        h.storage().freeBytes().ifPresent(n -> storage.put("free_bytes", n));
        putOrNull(
                storage,
                "problem",
                h.storage().problem().isEmpty() ? null : h.storage().problem());
        return o;
    }

    private static void putOrNull(ObjectNode o, String field, String value) {
        if (value == null) {
            o.putNull(field);
        } else {
            o.put(field, value);
        }
    }

    private static void putOrNull(ObjectNode o, String field, OptionalLong value) {
        if (value.isPresent()) {
            o.put(field, value.getAsLong());
        } else {
            o.putNull(field);
        }
    }

    /** The newest final block stored: {"number", "view", "payload_hash"}, or null when none is. */
    private JsonNode lastCommittedBlock() {
        return node.newestBlock()
                .<JsonNode>map(b -> NODES.objectNode()
                        .put("number", b.number())
                        .put("view", b.justification().view().number())
                        .put("payload_hash", b.header().payload().toText())
                        .put("payload_size", b.payload().size()))
                .orElse(NODES.nullNode());
    }

    /** The replica's current view and phase; on a full node, the view of the newest stored block's QC. */
    private JsonNode lastView() throws RpcException {
        Optional<ReplicaStatus> s = node.replicaStatus();
        if (s.isPresent()) {
            return NODES.objectNode()
                    .put("view", s.get().view())
                    .put("phase", s.get().phase().name().toLowerCase(Locale.ROOT));
        }
        Optional<FinalBlock> last = node.newestBlock();
        if (last.isEmpty()) {
            throw new RpcException(
                    RpcException.NOT_AVAILABLE, "a full node knows views from final blocks, and it stores none yet");
        }
        return NODES.objectNode()
                .put("view", last.get().justification().view().number())
                .putNull("phase");
    }

    /**
     * A stored final block: its payload and commit QC in hex, and the whole block in its canonical encoding (the
     * reference's protobuf), which anyone can check offline against the genesis' validators. For a recent block
     * this replica finalized itself, also when it became final here (Unix milliseconds) and how long that took from
     * the proposal.
     */
    private JsonNode block(long number) throws RpcException {
        FinalBlock block = node.block(number).orElseThrow(() -> notStored(number));
        ObjectNode o = NODES.objectNode()
                .put("number", block.number())
                .put("view", block.justification().view().number())
                .put("payload_hash", block.header().payload().toText())
                .put("payload", HEX.formatHex(block.payload().bytes().toByteArray()))
                .put("commit_qc", HEX.formatHex(Codec.encode(block.justification())))
                .put("signers", block.justification().signers().count())
                .put("encoded", HEX.formatHex(Codec.encode(block)));
        transactionCount(block).ifPresent(n -> o.put("transactions", n));
        node.metrics().finalization(number).ifPresent(f -> {
            o.put("final_at_ms", f.finalAtUnixMillis());
            f.proposalToFinalMillis().ifPresent(ms -> o.put("proposal_to_final_ms", ms));
        });
        return o;
    }

    private RpcException notStored(long number) {
        StoredRange r = node.storedBlocks();
        return new RpcException(
                RpcException.NOT_AVAILABLE,
                "block " + number + " is not stored here; stored: "
                        + (r.isEmpty() ? "none" : r.first() + ".." + r.last()));
    }

    /**
     * {@code GET /blocks}, first half: waits for at most {@code wait} until final block {@code from} is stored;
     * whether it is. A block below those stored (pruned, or before the genesis' first) is refused at once.
     */
    boolean awaitBlock(long from, Duration wait) throws RpcException, InterruptedException {
        if (from < node.storedBlocks().first()) {
            throw notStored(from);
        }
        return node.awaitBlock(from, wait);
    }

    /**
     * {@code GET /blocks}, second half: the stored final blocks from {@code from} on ({@link BlockFeed}), at most
     * {@code max}, and none more once they fill {@code maxBytes} (the first always goes).
     */
    byte[] blockFeed(long from, int max, int maxBytes) throws RpcException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (long n = from; n - from < max && out.size() < maxBytes; n++) {
            Optional<FinalBlock> b = node.block(n);
            if (b.isEmpty()) {
                if (n == from) {
                    throw notStored(n);
                }
                break;
            }
            Optional<NodeMetrics.Finalization> f = node.metrics().finalization(n);
            BlockFeed.append(
                    out,
                    Codec.encode(b.get()),
                    f.map(x -> OptionalLong.of(x.finalAtUnixMillis())).orElse(OptionalLong.empty()),
                    f.map(NodeMetrics.Finalization::proposalToFinalMillis).orElse(OptionalLong.empty()));
        }
        return out.toByteArray();
    }

    /** How many transactions the payload holds, when it is in the default execution layer's format. */
    private static Optional<Integer> transactionCount(FinalBlock block) {
        try {
            return Optional.of(TransactionPayload.decode(block.payload(), Integer.MAX_VALUE)
                    .size());
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    private JsonNode genesis() {
        ObjectNode o = NODES.objectNode().put("hash", node.genesis().hash().toText());
        o.set("genesis", GenesisJson.toNode(node.genesis()));
        return o;
    }

    /** The committee with each validator's announced consensus address, where known. */
    private JsonNode validators() {
        Map<dev.tally.crypto.BlsPublicKey, SignedNetAddress> addresses =
                node.network().addressBook().snapshot();
        ArrayNode a = NODES.arrayNode();
        for (ValidatorInfo v : node.epoch().committee().validators()) {
            ObjectNode o = a.addObject()
                    .put("key", v.key().toText())
                    .put("weight", v.weight())
                    .put("leader", v.leader());
            SignedNetAddress addr = addresses.get(v.key());
            if (addr == null) {
                o.putNull("addr");
            } else {
                o.put("addr", NodeHttp.text(addr.address()));
            }
        }
        return a;
    }

    /** Gossip peers with the blocks they advertise, and (on validators) the consensus connections. */
    private JsonNode peers() {
        var gossip = node.network().gossip();
        ObjectNode o = NODES.objectNode();
        ArrayNode g = o.putArray("gossip");
        for (var key : gossip.peers()) {
            ObjectNode p = g.addObject().put("key", key.toText());
            Optional<BlockStoreState> st = gossip.peerState(key);
            if (st.isPresent() && st.get().lastQc().isPresent()) {
                p.put("last_block", st.get().last());
            } else {
                p.putNull("last_block");
            }
        }
        node.network().consensus().ifPresent(mesh -> {
            ObjectNode c = o.putObject("consensus");
            ArrayNode out = c.putArray("outbound");
            mesh.links().sendingTo().forEach(k -> out.add(k.toText()));
            ArrayNode in = c.putArray("inbound");
            mesh.links().receivingFrom().forEach(k -> in.add(k.toText()));
        });
        return o;
    }

    /**
     * Into the mempool and on to peers: "accepted" or "duplicate"; a refused transaction is an error, and one the
     * mempool has no room for is the error "overloaded".
     */
    private JsonNode pushTx(byte[] tx) throws RpcException {
        return switch (submissions.submit(tx)) {
            case TransactionSink.Result.Accepted a -> NODES.textNode("accepted");
            case TransactionSink.Result.Duplicate d -> NODES.textNode("duplicate");
            case TransactionSink.Result.Rejected r ->
                throw new RpcException(RpcException.REJECTED, "transaction rejected: " + r.reason());
            case TransactionSink.Result.Overloaded o ->
                throw new RpcException(RpcException.OVERLOADED, "overloaded: " + o.reason() + "; retry later");
        };
    }

    /** The application's last applied block and its state root, and the roots other nodes disagreed with. */
    private static JsonNode appState(ApplicationExecutionLayer app) throws RpcException {
        var applied = app.lastApplied()
                .orElseThrow(() -> new RpcException(RpcException.NOT_AVAILABLE, "no block applied yet"));
        ObjectNode o = NODES.objectNode();
        o.put("block", applied.block());
        o.put("root", applied.rootHex());
        o.put("root_mismatches", app.rootMismatches());
        return o;
    }

    private static JsonNode query(ApplicationExecutionLayer app, String method, RpcParams params) throws RpcException {
        Object answer;
        try {
            answer = app.application().query(method, params.texts());
        } catch (IllegalArgumentException e) {
            throw new RpcException(RpcException.INVALID_PARAMS, method + ": " + e.getMessage());
        }
        return answer == null ? NODES.nullNode() : JSON.valueToTree(answer);
    }
}
