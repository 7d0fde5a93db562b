package dev.tally.node.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tally.crypto.BlsSecretKey;
import dev.tally.crypto.NodeSecretKey;
import dev.tally.execution.MempoolExecutionLayer;
import dev.tally.node.ReferenceGenesis;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NodeConfigJsonTest {
    @TempDir
    Path dir;

    final BlsSecretKey validatorKey = ReferenceGenesis.KEYS.get(0);
    final NodeSecretKey nodeKey = NodeSecretKey.generate();
    final NodeSecretKey peer = NodeSecretKey.generate();

    ObjectNode minimal() {
        ObjectNode c = GenesisJson.MAPPER.createObjectNode();
        c.put("server_addr", "127.0.0.1:3054");
        c.put("public_addr", "127.0.0.1:3054");
        c.set("genesis", GenesisJson.toNode(ReferenceGenesis.genesis()));
        c.put("node_key", nodeKey.toText());
        return c;
    }

    /** The config written as JSON reads back equal. */
    void assertRoundTrips(NodeConfig cfg) throws ConfigException {
        assertThat(NodeConfigJson.parse(NodeConfigJson.toJson(cfg), dir, Map.of()))
                .isEqualTo(cfg);
    }

    NodeConfig parse(ObjectNode c) throws ConfigException {
        return NodeConfigJson.parse(c.toString(), dir, Map.of());
    }

    void assertRejected(ObjectNode c, String path, String problem) {
        assertThatThrownBy(() -> parse(c))
                .isInstanceOf(ConfigException.class)
                .satisfies(e -> assertThat(((ConfigException) e).path()).isEqualTo(path))
                .hasMessageContaining(problem);
    }

    @Test
    void minimalConfigGetsSafeDefaults() throws Exception {
        NodeConfig cfg = parse(minimal());
        assertThat(cfg.isValidator()).isFalse();
        assertThat(cfg.viewTimeout()).isEqualTo(Duration.ofMillis(NodeConfigJson.DEFAULT_VIEW_TIMEOUT_MS));
        assertThat(cfg.maxPayloadSize()).isEqualTo(NodeConfigJson.DEFAULT_MAX_PAYLOAD_SIZE);
        assertThat(cfg.rpcAddr()).isEmpty();
        assertThat(cfg.genesis().hash().toText()).isEqualTo(ReferenceGenesis.HASH);
        assertThat(cfg.rpcLimits()).isEqualTo(HttpLimits.DEFAULT);
        assertThat(cfg.rpcLimits().corsAllowedOrigin())
                .as("CORS off by default")
                .isEmpty();
        assertThat(cfg.mempoolMaxBytes()).isEqualTo(MempoolExecutionLayer.DEFAULT_MEMPOOL_MAX_BYTES);
    }

    @Test
    void rpcLimitsAndTheMempoolsByteBoundAreSetByName() throws Exception {
        ObjectNode c = minimal();
        c.put("rpc_max_connections", 10);
        c.put("rpc_read_timeout_ms", 2500);
        c.put("rpc_idle_timeout_ms", 7000);
        c.put("rpc_max_body_bytes", 65536);
        c.put("rpc_cors_allowed_origin", "https://app.example");
        c.put("mempool_max_bytes", 1_000_000);
        NodeConfig cfg = parse(c);
        assertThat(cfg.rpcLimits())
                .isEqualTo(HttpLimits.builder()
                        .maxConnections(10)
                        .readTimeout(Duration.ofMillis(2500))
                        .idleTimeout(Duration.ofMillis(7000))
                        .maxBodyBytes(65536)
                        .corsAllowedOrigin(Optional.of("https://app.example"))
                        .build());
        assertThat(cfg.mempoolMaxBytes()).isEqualTo(1_000_000);
        assertRoundTrips(cfg);
        c.put("mempool_max_bytes", 99_999);
        assertRejected(c, "config.mempool_max_bytes", "max_tx_size (100000 bytes)");
        c.put("mempool_max_bytes", 1_000_000);
        c.put("rpc_read_timeout_ms", 0);
        assertRejected(c, "config.rpc_read_timeout_ms", "positive");
    }

    @Test
    void fullConfigRoundTrips() throws Exception {
        ObjectNode c = minimal();
        c.put("rpc_addr", "127.0.0.1:3154");
        c.put("metrics_addr", "[::1]:3254");
        c.put("debug_page_addr", "localhost:3354");
        c.put("validator_key", validatorKey.toText());
        c.put("view_timeout_ms", 1500);
        c.put("block_retention", 1000);
        c.putArray("gossip_static_inbound").add(peer.publicKey().toText());
        c.putArray("gossip_static_outbound")
                .addObject()
                .put("key", peer.publicKey().toText())
                .put("addr", "127.0.0.1:4000");
        NodeConfig cfg = parse(c);
        assertThat(cfg.validatorKey()).contains(validatorKey);
        assertThat(cfg.gossipStaticOutbound()).containsOnlyKeys(peer.publicKey());
        assertThat(cfg.metricsAddr().orElseThrow().getAddress().getHostAddress())
                .isEqualTo("0:0:0:0:0:0:0:1");
        NodeConfig again = NodeConfigJson.parse(NodeConfigJson.toJson(cfg), dir, Map.of());
        assertThat(again).isEqualTo(cfg);
        assertThat(cfg.toString()).doesNotContain(validatorKey.toText()).doesNotContain(nodeKey.toText());
    }

    @Test
    void emptyBlockIntervalDefaultsToAQuarterOfTheViewTimeoutAtMost500MsAndStaysBelowHalfOfIt() throws Exception {
        ObjectNode c = minimal();
        assertThat(parse(c).emptyBlockInterval()).isEqualTo(Duration.ofMillis(500));
        c.put("view_timeout_ms", 10_000);
        assertThat(parse(c).emptyBlockInterval()).isEqualTo(Duration.ofMillis(500));
        c.put("view_timeout_ms", 800);
        assertThat(parse(c).emptyBlockInterval()).isEqualTo(Duration.ofMillis(200));
        c.put("empty_block_interval_ms", 0);
        assertThat(parse(c).emptyBlockInterval()).isZero();
        c.put("empty_block_interval_ms", 399);
        NodeConfig cfg = parse(c);
        assertThat(cfg.emptyBlockInterval()).isEqualTo(Duration.ofMillis(399));
        assertRoundTrips(cfg);
        c.put("empty_block_interval_ms", 400);
        assertRejected(
                c,
                "config.empty_block_interval_ms",
                "the empty-block interval (400 ms) must be below half the view timeout (800 ms)");
        c.put("empty_block_interval_ms", -1);
        assertRejected(c, "config.empty_block_interval_ms", "-1");
        NodeConfig.Builder b = cfg.toBuilder().emptyBlockInterval(Duration.ofMillis(400));
        assertThatThrownBy(b::build)
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("below half the view timeout");
    }

    @Test
    void proposalPayloadSizeDefaultsTo1MbWithinThePayloadAndTransactionLimits() throws Exception {
        ObjectNode c = minimal();
        assertThat(parse(c).proposalPayloadSize()).isEqualTo(1_000_000);
        c.put("max_payload_size", 600_000);
        assertThat(parse(c).proposalPayloadSize())
                .as("never above max_payload_size")
                .isEqualTo(600_000);
        c.put("max_payload_size", 5_000_000).put("max_tx_size", 2_000_000);
        assertThat(parse(c).proposalPayloadSize())
                .as("room for one largest transaction")
                .isEqualTo(2_000_008);
        c.put("max_tx_size", 1_000).put("proposal_payload_size", 250_000);
        NodeConfig cfg = parse(c);
        assertThat(cfg.proposalPayloadSize()).isEqualTo(250_000);
        assertThat(cfg.maxPayloadSize()).as("what it accepts stays").isEqualTo(5_000_000);
        assertRoundTrips(cfg);
        c.put("proposal_payload_size", 5_000_001);
        assertRejected(
                c,
                "config.proposal_payload_size",
                "the proposal payload size (5000001 bytes) must not exceed max_payload_size (5000000 bytes)");
        c.put("proposal_payload_size", 1_007);
        assertRejected(c, "config.proposal_payload_size", "must hold one transaction of max_tx_size (1000 bytes)");
    }

    @Test
    void secretsFromFileOrEnvironment() throws Exception {
        Files.writeString(dir.resolve("validator.key"), validatorKey.toText() + "\n");
        Files.setPosixFilePermissions(dir.resolve("validator.key"), PosixFilePermissions.fromString("rw-------"));
        ObjectNode c = minimal();
        c.putObject("validator_key").put("file", "validator.key");
        c.putObject("node_key").put("env", "TALLY_NODE_KEY");
        NodeConfig cfg = NodeConfigJson.parse(c.toString(), dir, Map.of("TALLY_NODE_KEY", nodeKey.toText()));
        assertThat(cfg.validatorKey()).contains(validatorKey);
        assertThat(cfg.nodeKey()).isEqualTo(nodeKey);
        assertRejected(c, "config.node_key.env", "TALLY_NODE_KEY is not set");
        c.putObject("validator_key").put("file", "a").put("env", "B");
        assertRejected(c, "config.validator_key", "exactly one of");
    }

    @Test
    void keyFileFieldsNameTheFilesDirectly() throws Exception {
        Path validatorFile = dir.resolve("validator.key");
        Files.writeString(validatorFile, validatorKey.toText() + "\n");
        Files.writeString(dir.resolve("node.key"), nodeKey.toText());
        for (String file : new String[] {"validator.key", "node.key"}) {
            Files.setPosixFilePermissions(dir.resolve(file), PosixFilePermissions.fromString("rw-------"));
        }
        ObjectNode c = minimal();
        c.remove("node_key");
        c.put("validator_key_file", "validator.key");
        c.put("node_key_file", "node.key");
        NodeConfig cfg = parse(c);
        assertThat(cfg.validatorKey()).contains(validatorKey);
        assertThat(cfg.nodeKey()).isEqualTo(nodeKey);

        Files.setPosixFilePermissions(validatorFile, PosixFilePermissions.fromString("rw-r--r--"));
        assertRejected(c, "config.validator_key_file", "key file " + validatorFile + " is accessible to other users");
        c.put("validator_key_file", "node.key");
        assertRejected(c, "config.validator_key_file", "validator:secret:bls12_381:");
        c.remove("validator_key_file");
        c.put("node_key", nodeKey.toText());
        assertRejected(c, "config.node_key_file", "give node_key or node_key_file, not both");
        c.remove("node_key");
        c.put("node_key_file", "absent.key");
        assertRejected(c, "config.node_key_file", "no such file: " + dir.resolve("absent.key"));
    }

    @Test
    void aMissingKeyFileIsNamedOnce() {
        ObjectNode c = minimal();
        c.putObject("validator_key").put("file", "missing.key");
        Path missing = dir.resolve("missing.key");
        assertThatThrownBy(() -> parse(c))
                .isInstanceOf(ConfigException.class)
                .hasMessage("config.validator_key.file: no such file: " + missing);
    }

    @Test
    void aKeyFileOthersCanAccessIsRefused() throws Exception {
        Path key = dir.resolve("node.key");
        Files.writeString(key, nodeKey.toText());
        ObjectNode c = minimal();
        c.putObject("node_key").put("file", "node.key");
        for (String loose : new String[] {"rw-r-----", "rw----r--", "rw--w----", "rw------x"}) {
            Files.setPosixFilePermissions(key, PosixFilePermissions.fromString(loose));
            assertRejected(c, "config.node_key.file", "key file " + key + " is accessible to other users");
        }
        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("r--------"));
        assertThat(NodeConfigJson.parse(c.toString(), dir, Map.of()).nodeKey()).isEqualTo(nodeKey);
    }

    @Test
    void peerAndPublicAddressesKeepHostNamesForTheNetworkToResolveAtEachUse() throws Exception {
        // Kubernetes pods' DNS names: they may not resolve yet at start, and resolve elsewhere after a pod restarts.
        ObjectNode c = minimal();
        c.put("public_addr", "tally-validator-0.tally-validators:3054");
        c.putArray("gossip_static_outbound")
                .addObject()
                .put("key", peer.publicKey().toText())
                .put("addr", "tally-validator-1.tally-validators:3054");
        NodeConfig cfg = parse(c);
        assertThat(cfg.publicAddr().isUnresolved()).isTrue();
        assertThat(NodeConfigJson.text(cfg.publicAddr())).isEqualTo("tally-validator-0.tally-validators:3054");
        assertThat(NodeConfigJson.text(cfg.gossipStaticOutbound().get(peer.publicKey())))
                .isEqualTo("tally-validator-1.tally-validators:3054");
        assertRoundTrips(cfg);

        c.put("rpc_addr", "no-such-host.invalid:3154"); // an address to bind must resolve now
        assertRejected(c, "config.rpc_addr", "unknown host \"no-such-host.invalid\"");
        c = minimal();
        c.put("public_addr", "a host:3054");
        assertRejected(c, "config.public_addr", "\"a host\" is neither an IP address nor a host name");
    }

    @Test
    void badInputNamesTheField() {
        ObjectNode c = minimal();
        c.put("servr_addr", "x");
        assertRejected(c, "config.servr_addr", "unknown field");

        c = minimal();
        c.remove("node_key");
        assertRejected(c, "config.node_key", "missing");

        c = minimal();
        c.put("node_key", validatorKey.toText());
        assertRejected(c, "config.node_key", "node:secret:ed25519:");

        c = minimal();
        c.put("validator_key", "validator:secret:bls12_381:00");
        assertRejected(c, "config.validator_key", "32 bytes");

        c = minimal();
        c.put("server_addr", "127.0.0.1");
        assertRejected(c, "config.server_addr", "host:port");

        c = minimal();
        c.put("rpc_addr", "127.0.0.1:70000");
        assertRejected(c, "config.rpc_addr", "0..65535");

        c = minimal();
        c.put("public_addr", "127.0.0.1:0");
        assertRejected(c, "config.public_addr", "port 0");

        c = minimal();
        c.put("view_timeout_ms", 0);
        assertRejected(c, "config.view_timeout_ms", "positive integer");

        c = minimal();
        ((ObjectNode) c.get("genesis")).put("protocol_version", 1);
        assertRejected(c, "config.genesis.protocol_version", "not supported");

        c = minimal();
        c.putArray("gossip_static_outbound")
                .addObject()
                .put("key", peer.publicKey().toText())
                .put("addr", "nowhere");
        assertRejected(c, "config.gossip_static_outbound[0].addr", "host:port");

        c = minimal();
        c.putArray("gossip_static_inbound").add(42);
        assertRejected(c, "config.gossip_static_inbound[0]", "node public key");
    }
}
