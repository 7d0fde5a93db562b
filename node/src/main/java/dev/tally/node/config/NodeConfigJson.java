package dev.tally.node.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tally.crypto.BlsSecretKey;
import dev.tally.crypto.InvalidEncodingException;
import dev.tally.crypto.NodePublicKey;
import dev.tally.crypto.NodeSecretKey;
import dev.tally.execution.MempoolExecutionLayer;
import dev.tally.execution.ScheduledCommittee;
import dev.tally.protocol.Genesis;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * The node's JSON config. Unknown fields, bad keys, bad addresses and missing required fields are refused with
 * the field named. Secret keys are given inline, or as {@code {"file": "path"}} (relative to the config's
 * directory) or {@code {"env": "VARIABLE"}} so they need not sit in the config file:
 *
 * <pre>{@code
 * {
 *   "server_addr": "127.0.0.1:3054",          // required: where peers connect
 *   "public_addr": "127.0.0.1:3054",          // required: what other validators dial
 *   "rpc_addr": "127.0.0.1:3154",             // optional: JSON-RPC
 *   "metrics_addr": "127.0.0.1:3254",         // optional: Prometheus /metrics
 *   "debug_page_addr": "127.0.0.1:3354",      // optional: HTML debug page
 *   "genesis": { ... },                        // required: see GenesisJson
 *   "max_payload_size": 2500000,              // bytes, default 2,500,000
 *   "max_tx_size": 100000,                    // bytes, default 100,000
 *   "proposal_payload_size": 1000000,         // bytes, default 1,000,000 (within the two above): the most this node
 *                                             // proposes; it accepts proposals up to max_payload_size
 *   "view_timeout_ms": 2000,                  // default 2000; the same on every validator
 *   "empty_block_interval_ms": 500,           // default 500 (a quarter of a view timeout under 2 s): with an empty
 *                                             // mempool, a leader waits this long for a transaction before proposing
 *                                             // an empty block; 0: no wait; must be below view_timeout_ms / 2
 *   "validator_key": {"file": "validator.key"}, // optional: absent for a full node
 *   "validator_key_file": "validator.key",    // or this instead of validator_key
 *   "node_key": "node:secret:ed25519:...",    // required, or node_key_file instead
 *   "node_key_file": "node.key",
 *   "gossip_dynamic_inbound_limit": 100,      // default 100
 *   "gossip_static_inbound": ["node:public:ed25519:..."],                        // default []
 *   "gossip_static_outbound": [{"key": "node:public:ed25519:...", "addr": "127.0.0.1:3055"}], // default []
 *   "fetch_schedule_interval_ms": 5000,       // default 5000: how often to ask for the validator schedule
 *   "block_retention": 100000,                // optional: keep only this many recent blocks
 *   "schedule": [                             // optional: committees taking over at their activation block
 *     {"activation_block": 20, "validators": [...], "leader_selection": {...}}  // as in the genesis
 *   ],
 *   "rpc_max_connections": 900,               // default 900: open RPC connections; beyond them, HTTP 503
 *   "rpc_read_timeout_ms": 10000,             // default 10000: a request must arrive within it; else HTTP 408
 *   "rpc_idle_timeout_ms": 30000,             // default 30000: an idle kept-alive RPC connection closes after it
 *   "rpc_max_body_bytes": 4194304,            // default 4 MiB: a larger RPC request body is HTTP 413
 *   "rpc_cors_allowed_origin": "https://app.example", // optional ("*" for any): no CORS header when absent
 *   "mempool_max_bytes": 67108864             // default 64 MiB: bytes of waiting transactions; at least max_tx_size
 * }
 * }</pre>
 */
public final class NodeConfigJson {
    public static final String ROOT = "config";
    public static final int DEFAULT_MAX_PAYLOAD_SIZE = 2_500_000;
    public static final int DEFAULT_MAX_TX_SIZE = 100_000;
    public static final long DEFAULT_VIEW_TIMEOUT_MS = 2_000;
    public static final int DEFAULT_DYNAMIC_INBOUND_LIMIT = 100;
    public static final long DEFAULT_FETCH_SCHEDULE_INTERVAL_MS = 5_000;

    /** Permissions a key file must not have: it is for its owner's eyes only. */
    private static final Set<PosixFilePermission> GROUP_OR_OTHER = EnumSet.complementOf(EnumSet.of(
            PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE, PosixFilePermission.OWNER_EXECUTE));

    private static final Pattern IPV4 = Pattern.compile("[0-9.]+");
    /** Letters, digits and hyphens in dot-separated labels (RFC 1123), e.g. a Kubernetes pod's DNS name. */
    private static final Pattern HOST_NAME = Pattern.compile(
            "[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\\.?");

    /** Every top-level field; docs/CONFIG.md documents each (ConfigReferenceTest holds the two together). */
    static final List<String> FIELDS = List.of(
            "server_addr",
            "public_addr",
            "rpc_addr",
            "metrics_addr",
            "debug_page_addr",
            "genesis",
            "max_payload_size",
            "max_tx_size",
            "proposal_payload_size",
            "view_timeout_ms",
            "empty_block_interval_ms",
            "validator_key",
            "validator_key_file",
            "node_key",
            "node_key_file",
            "gossip_dynamic_inbound_limit",
            "gossip_static_inbound",
            "gossip_static_outbound",
            "fetch_schedule_interval_ms",
            "block_retention",
            "schedule",
            "rpc_max_connections",
            "rpc_read_timeout_ms",
            "rpc_idle_timeout_ms",
            "rpc_max_body_bytes",
            "rpc_cors_allowed_origin",
            "mempool_max_bytes");

    private NodeConfigJson() {}

    /** Reads a config file; relative key-file paths resolve against its directory. */
    public static NodeConfig read(Path file, Map<String, String> environment) throws ConfigException {
        String json;
        try {
            json = Files.readString(file);
        } catch (NoSuchFileException e) {
            throw new ConfigException(ROOT, "no such file: " + file);
        } catch (IOException e) {
            throw new ConfigException(ROOT, "cannot read " + file + ": " + e.getMessage());
        }
        Path dir = file.toAbsolutePath().getParent();
        return parse(json, dir, environment);
    }

    public static NodeConfig parse(String json, Path baseDir, Map<String, String> environment) throws ConfigException {
        ObjectFields c = ObjectFields.of(GenesisJson.readTree(json, ROOT), ROOT, FIELDS.toArray(String[]::new));
        Genesis genesis = GenesisJson.fromNode(c.get("genesis"), c.path("genesis"));
        Optional<BlsSecretKey> validatorKey =
                optionalSecret(c, "validator_key", baseDir, environment, BlsSecretKey::fromText);
        InetSocketAddress publicAddr = peerAddress(c.text("public_addr"), c.path("public_addr"));
        if (publicAddr.getPort() == 0) {
            throw new ConfigException(c.path("public_addr"), "port 0 cannot be dialed; give the port peers should use");
        }
        Duration viewTimeout = Duration.ofMillis(
                c.has("view_timeout_ms") ? c.positiveLong("view_timeout_ms") : DEFAULT_VIEW_TIMEOUT_MS);
        int maxPayloadSize = intOr(c, "max_payload_size", DEFAULT_MAX_PAYLOAD_SIZE);
        int maxTxSize = intOr(c, "max_tx_size", DEFAULT_MAX_TX_SIZE);
        return new NodeConfig(
                address(c, "server_addr"),
                publicAddr,
                optionalAddress(c, "rpc_addr"),
                optionalAddress(c, "metrics_addr"),
                optionalAddress(c, "debug_page_addr"),
                genesis,
                maxPayloadSize,
                maxTxSize,
                viewTimeout,
                validatorKey,
                optionalSecret(c, "node_key", baseDir, environment, NodeSecretKey::fromText)
                        .orElseThrow(() ->
                                new ConfigException(c.path("node_key"), "missing: give node_key, or node_key_file")),
                c.has("gossip_dynamic_inbound_limit")
                        ? intValue(c, "gossip_dynamic_inbound_limit", 0)
                        : DEFAULT_DYNAMIC_INBOUND_LIMIT,
                staticInbound(c),
                staticOutbound(c),
                Duration.ofMillis(
                        c.has("fetch_schedule_interval_ms")
                                ? c.positiveLong("fetch_schedule_interval_ms")
                                : DEFAULT_FETCH_SCHEDULE_INTERVAL_MS),
                c.has("block_retention") ? Optional.of(c.positiveLong("block_retention")) : Optional.empty(),
                schedule(c, genesis),
                rpcLimits(c),
                mempoolMaxBytes(c, maxTxSize),
                emptyBlockInterval(c, viewTimeout),
                proposalPayloadSize(c, maxPayloadSize, maxTxSize));
    }

    private static int proposalPayloadSize(ObjectFields c, int maxPayloadSize, int maxTxSize) throws ConfigException {
        if (!c.has("proposal_payload_size")) {
            return NodeConfig.defaultProposalPayloadSize(maxPayloadSize, maxTxSize);
        }
        int bytes = intOr(c, "proposal_payload_size", 0);
        try {
            NodeConfig.checkProposalPayloadSize(bytes, maxPayloadSize, maxTxSize);
        } catch (IllegalArgumentException e) {
            throw new ConfigException(c.path("proposal_payload_size"), e.getMessage());
        }
        return bytes;
    }

    /** The {@code rpc_*} limits; each absent one keeps its {@link HttpLimits#DEFAULT}. */
    private static HttpLimits rpcLimits(ObjectFields c) throws ConfigException {
        HttpLimits d = HttpLimits.DEFAULT;
        return HttpLimits.builder()
                .maxConnections(intOr(c, "rpc_max_connections", d.maxConnections()))
                .readTimeout(Duration.ofMillis(
                        c.has("rpc_read_timeout_ms")
                                ? c.positiveLong("rpc_read_timeout_ms")
                                : d.readTimeout().toMillis()))
                .idleTimeout(Duration.ofMillis(
                        c.has("rpc_idle_timeout_ms")
                                ? c.positiveLong("rpc_idle_timeout_ms")
                                : d.idleTimeout().toMillis()))
                .maxBodyBytes(intOr(c, "rpc_max_body_bytes", d.maxBodyBytes()))
                .corsAllowedOrigin(
                        c.has("rpc_cors_allowed_origin")
                                ? Optional.of(c.text("rpc_cors_allowed_origin"))
                                : Optional.empty())
                .build();
    }

    private static long mempoolMaxBytes(ObjectFields c, int maxTxSize) throws ConfigException {
        if (!c.has("mempool_max_bytes")) {
            return Math.max(MempoolExecutionLayer.DEFAULT_MEMPOOL_MAX_BYTES, maxTxSize);
        }
        long bytes = c.positiveLong("mempool_max_bytes");
        if (bytes < maxTxSize) {
            throw new ConfigException(
                    c.path("mempool_max_bytes"),
                    "must hold one transaction of max_tx_size (" + maxTxSize + " bytes), got " + bytes);
        }
        return bytes;
    }

    /** {@code empty_block_interval_ms}, checked against the view timeout; absent: the default for that timeout. */
    private static Duration emptyBlockInterval(ObjectFields c, Duration viewTimeout) throws ConfigException {
        if (!c.has("empty_block_interval_ms")) {
            return NodeConfig.defaultEmptyBlockInterval(viewTimeout);
        }
        Duration interval = Duration.ofMillis(c.nonNegativeLong("empty_block_interval_ms"));
        try {
            NodeConfig.checkEmptyBlockInterval(interval, viewTimeout);
        } catch (IllegalArgumentException e) {
            throw new ConfigException(c.path("empty_block_interval_ms"), e.getMessage());
        }
        return interval;
    }

    /** The {@code schedule}: committees with strictly increasing activation blocks after the genesis' first block. */
    private static List<ScheduledCommittee> schedule(ObjectFields c, Genesis genesis) throws ConfigException {
        List<ScheduledCommittee> out = new ArrayList<>();
        if (!c.has("schedule")) {
            return out;
        }
        ArrayNode array = c.array("schedule");
        long previous = genesis.firstBlock();
        for (int i = 0; i < array.size(); i++) {
            String at = c.path("schedule") + "[" + i + "]";
            ObjectFields e = ObjectFields.of(array.get(i), at, "activation_block", "validators", "leader_selection");
            long activation = e.nonNegativeLong("activation_block");
            if (activation <= previous) {
                throw new ConfigException(
                        e.path("activation_block"),
                        "must be above " + previous
                                + (i == 0 ? " (the genesis' first block)" : " (the previous entry's activation block)")
                                + ", got " + activation);
            }
            out.add(new ScheduledCommittee(activation, GenesisJson.schedule(e)));
            previous = activation;
        }
        return out;
    }

    private static int intOr(ObjectFields c, String field, int fallback) throws ConfigException {
        return c.has(field) ? intValue(c, field, 1) : fallback;
    }

    private static int intValue(ObjectFields c, String field, long min) throws ConfigException {
        long v = min == 0 ? c.nonNegativeLong(field) : c.positiveLong(field);
        if (v > Integer.MAX_VALUE) {
            throw new ConfigException(c.path(field), "must be at most " + Integer.MAX_VALUE + ", got " + v);
        }
        return (int) v;
    }

    private static Optional<InetSocketAddress> optionalAddress(ObjectFields c, String field) throws ConfigException {
        return c.has(field) ? Optional.of(address(c, field)) : Optional.empty();
    }

    private static InetSocketAddress address(ObjectFields c, String field) throws ConfigException {
        return parseAddress(c.text(field), c.path(field));
    }

    /** {@code host:port}, {@code [v6]:port}; a host name other than an IP literal is resolved once, now. */
    static InetSocketAddress parseAddress(String text, String path) throws ConfigException {
        InetSocketAddress parsed = peerAddress(text, path);
        if (!parsed.isUnresolved()) {
            return parsed;
        }
        try {
            return new InetSocketAddress(InetAddress.getByName(parsed.getHostString()), parsed.getPort());
        } catch (UnknownHostException e) {
            throw new ConfigException(path, "unknown host \"" + parsed.getHostString() + "\"");
        }
    }

    /**
     * An address this node dials or announces ({@code public_addr}, {@code gossip_static_outbound}): an IP literal, or
     * a host name kept unresolved, which the network resolves at each use. A peer that comes back at another IP
     * address under the same name (a restarted Kubernetes pod) is found again, and a name that does not resolve yet
     * (a pod not yet scheduled) is retried rather than fatal.
     */
    static InetSocketAddress peerAddress(String text, String path) throws ConfigException {
        int colon = text.lastIndexOf(':');
        if (colon <= 0 || colon == text.length() - 1) {
            throw new ConfigException(path, "must be host:port (e.g. 127.0.0.1:3054), got \"" + text + "\"");
        }
        String host = text.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        int port;
        try {
            port = Integer.parseInt(text.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new ConfigException(path, "port must be a number, got \"" + text.substring(colon + 1) + "\"");
        }
        if (port < 0 || port > 65535) {
            throw new ConfigException(path, "port must be in 0..65535, got " + port);
        }
        if (host.contains(":") || IPV4.matcher(host).matches()) {
            try {
                return new InetSocketAddress(InetAddress.getByName(host), port); // a literal: no look-up
            } catch (UnknownHostException e) {
                throw new ConfigException(path, "bad IP address \"" + host + "\"");
            }
        }
        if (!HOST_NAME.matcher(host).matches()) {
            throw new ConfigException(path, "\"" + host + "\" is neither an IP address nor a host name");
        }
        return InetSocketAddress.createUnresolved(host, port);
    }

    /**
     * A secret key given as {@code field} (inline, {"file": path} or {"env": variable}) or as {@code field_file} (a
     * path), not both; empty when neither is there.
     */
    private static <K> Optional<K> optionalSecret(
            ObjectFields c, String field, Path baseDir, Map<String, String> env, Function<String, K> decode)
            throws ConfigException {
        String fileField = field + "_file";
        if (c.has(field) && c.has(fileField)) {
            throw new ConfigException(c.path(fileField), "give " + field + " or " + fileField + ", not both");
        }
        if (c.has(fileField)) {
            String where = c.path(fileField);
            return Optional.of(decode(readKeyFile(baseDir.resolve(c.text(fileField)), where), where, decode));
        }
        return c.has(field) ? Optional.of(secret(c, field, baseDir, env, decode)) : Optional.empty();
    }

    private static <K> K secret(
            ObjectFields c, String field, Path baseDir, Map<String, String> env, Function<String, K> decode)
            throws ConfigException {
        JsonNode value = c.get(field);
        String text;
        String where = c.path(field);
        if (value.isTextual()) {
            text = value.textValue();
        } else {
            ObjectFields source = ObjectFields.of(value, where, "file", "env");
            if (source.has("file") == source.has("env")) {
                throw new ConfigException(
                        where,
                        "give the key inline as text, or exactly one of {\"file\": path} or {\"env\": variable}");
            }
            if (source.has("file")) {
                where = source.path("file");
                text = readKeyFile(baseDir.resolve(source.text("file")), where);
            } else {
                String name = source.text("env");
                where = source.path("env");
                text = env.get(name);
                if (text == null) {
                    throw new ConfigException(where, "environment variable " + name + " is not set");
                }
            }
        }
        return decode(text, where, decode);
    }

    private static <K> K decode(String text, String where, Function<String, K> decode) throws ConfigException {
        try {
            return decode.apply(text.strip());
        } catch (InvalidEncodingException e) {
            throw new ConfigException(where, e.getMessage());
        }
    }

    /** A secret key file: it must exist and, where permissions are POSIX, be readable by its owner only. */
    private static String readKeyFile(Path file, String where) throws ConfigException {
        try {
            Optional<Set<PosixFilePermission>> permissions = posixPermissions(file);
            if (permissions.isPresent() && !Collections.disjoint(permissions.get(), GROUP_OR_OTHER)) {
                throw new ConfigException(
                        where,
                        "key file " + file + " is accessible to other users ("
                                + PosixFilePermissions.toString(permissions.get()) + "); restrict it: chmod 600 "
                                + file);
            }
            return Files.readString(file).strip();
        } catch (NoSuchFileException e) {
            throw new ConfigException(where, "no such file: " + file);
        } catch (IOException e) {
            throw new ConfigException(where, "cannot read key file " + file + ": " + e.getMessage());
        }
    }

    private static Optional<Set<PosixFilePermission>> posixPermissions(Path file) throws IOException {
        try {
            return Optional.of(Files.getPosixFilePermissions(file));
        } catch (UnsupportedOperationException e) {
            return Optional.empty(); // not a POSIX file system: nothing to check
        }
    }

    private static List<NodePublicKey> staticInbound(ObjectFields c) throws ConfigException {
        List<NodePublicKey> keys = new ArrayList<>();
        if (!c.has("gossip_static_inbound")) {
            return keys;
        }
        ArrayNode array = c.array("gossip_static_inbound");
        for (int i = 0; i < array.size(); i++) {
            String at = c.path("gossip_static_inbound") + "[" + i + "]";
            JsonNode k = array.get(i);
            if (!k.isTextual()) {
                throw new ConfigException(
                        at, "must be a node public key (node:public:ed25519:<hex>), got " + ObjectFields.describe(k));
            }
            keys.add(nodeKey(k.textValue(), at));
        }
        return keys;
    }

    private static Map<NodePublicKey, InetSocketAddress> staticOutbound(ObjectFields c) throws ConfigException {
        Map<NodePublicKey, InetSocketAddress> peers = new LinkedHashMap<>();
        if (!c.has("gossip_static_outbound")) {
            return peers;
        }
        ArrayNode array = c.array("gossip_static_outbound");
        for (int i = 0; i < array.size(); i++) {
            String at = c.path("gossip_static_outbound") + "[" + i + "]";
            ObjectFields peer = ObjectFields.of(array.get(i), at, "key", "addr");
            NodePublicKey key = nodeKey(peer.text("key"), peer.path("key"));
            if (peers.put(key, peerAddress(peer.text("addr"), peer.path("addr"))) != null) {
                throw new ConfigException(peer.path("key"), "the same peer is listed twice");
            }
        }
        return peers;
    }

    private static NodePublicKey nodeKey(String text, String path) throws ConfigException {
        try {
            return NodePublicKey.fromText(text);
        } catch (InvalidEncodingException e) {
            throw new ConfigException(path, e.getMessage());
        }
    }

    /** The JSON of a config, secrets inline; {@link #parse} reads it back to an equal config. */
    public static String toJson(NodeConfig cfg) {
        ObjectNode c = GenesisJson.MAPPER.createObjectNode();
        c.put("server_addr", text(cfg.serverAddr()));
        c.put("public_addr", text(cfg.publicAddr()));
        cfg.rpcAddr().ifPresent(a -> c.put("rpc_addr", text(a)));
        cfg.metricsAddr().ifPresent(a -> c.put("metrics_addr", text(a)));
        cfg.debugPageAddr().ifPresent(a -> c.put("debug_page_addr", text(a)));
        c.set("genesis", GenesisJson.toNode(cfg.genesis()));
        c.put("max_payload_size", cfg.maxPayloadSize());
        c.put("max_tx_size", cfg.maxTxSize());
        c.put("proposal_payload_size", cfg.proposalPayloadSize());
        c.put("view_timeout_ms", cfg.viewTimeout().toMillis());
        c.put("empty_block_interval_ms", cfg.emptyBlockInterval().toMillis());
        cfg.validatorKey().ifPresent(k -> c.put("validator_key", k.toText()));
        c.put("node_key", cfg.nodeKey().toText());
        c.put("gossip_dynamic_inbound_limit", cfg.gossipDynamicInboundLimit());
        ArrayNode inbound = c.putArray("gossip_static_inbound");
        cfg.gossipStaticInbound().forEach(k -> inbound.add(k.toText()));
        ArrayNode outbound = c.putArray("gossip_static_outbound");
        cfg.gossipStaticOutbound()
                .forEach((k, a) -> outbound.addObject().put("key", k.toText()).put("addr", text(a)));
        c.put("fetch_schedule_interval_ms", cfg.fetchScheduleInterval().toMillis());
        cfg.blockRetention().ifPresent(r -> c.put("block_retention", r));
        if (!cfg.schedule().isEmpty()) {
            ArrayNode schedule = c.putArray("schedule");
            for (ScheduledCommittee sc : cfg.schedule()) {
                ObjectNode e = schedule.addObject().put("activation_block", sc.activationBlock());
                GenesisJson.putSchedule(e, sc.committee());
            }
        }
        HttpLimits rpc = cfg.rpcLimits();
        c.put("rpc_max_connections", rpc.maxConnections());
        c.put("rpc_read_timeout_ms", rpc.readTimeout().toMillis());
        c.put("rpc_idle_timeout_ms", rpc.idleTimeout().toMillis());
        c.put("rpc_max_body_bytes", rpc.maxBodyBytes());
        rpc.corsAllowedOrigin().ifPresent(o -> c.put("rpc_cors_allowed_origin", o));
        c.put("mempool_max_bytes", cfg.mempoolMaxBytes());
        try {
            return GenesisJson.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(c);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a tree of plain values always serializes", e);
        }
    }

    /** {@code host:port}, as configs write addresses; an unresolved address keeps its host name. */
    public static String text(InetSocketAddress a) {
        String host = a.isUnresolved() ? a.getHostString() : a.getAddress().getHostAddress();
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + a.getPort();
    }
}
