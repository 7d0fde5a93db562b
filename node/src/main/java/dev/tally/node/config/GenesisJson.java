package dev.tally.node.config;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tally.crypto.BlsPublicKey;
import dev.tally.crypto.InvalidEncodingException;
import dev.tally.protocol.Genesis;
import dev.tally.protocol.LeaderSelection;
import dev.tally.protocol.ValidatorInfo;
import dev.tally.protocol.ValidatorSchedule;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The JSON form of a {@link Genesis}, as in a genesis file and (under "genesis") the node config:
 *
 * <pre>{@code
 * {"chain_id": 1337, "fork_number": 42, "first_block": 2834, "protocol_version": 2,
 *  "validators": [{"key": "validator:public:bls12_381:<hex>", "weight": 10, "leader": true}],
 *  "leader_selection": {"frequency": 1, "mode": "weighted"}}
 * }</pre>
 *
 * Every field is required and no other is allowed: a typo must not silently change the chain's hash.
 */
public final class GenesisJson {
    /** The path that names the top-level object in error messages. */
    public static final String ROOT = "genesis";

    static final ObjectMapper MAPPER = JsonMapper.builder()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .build();

    private static final Pattern JACKSON_LOCATION =
            Pattern.compile("\\[Source: [^;\\]]*; line: (\\d+), column: (\\d+)]");

    private GenesisJson() {}

    /** Parses a whole genesis document. */
    public static Genesis parse(String json) throws ConfigException {
        return fromNode(readTree(json, ROOT), ROOT);
    }

    /** Reads a genesis object found at {@code path} of a larger document. */
    public static Genesis fromNode(JsonNode node, String path) throws ConfigException {
        ObjectFields g = ObjectFields.of(
                node,
                path,
                "chain_id",
                "fork_number",
                "first_block",
                "protocol_version",
                "validators",
                "leader_selection");
        long chainId = g.nonNegativeLong("chain_id");
        long forkNumber = g.nonNegativeLong("fork_number");
        long firstBlock = g.nonNegativeLong("first_block");
        long version = g.nonNegativeLong("protocol_version");
        if (version != Genesis.PROTOCOL_VERSION) {
            throw new ConfigException(
                    g.path("protocol_version"),
                    "protocol version " + version + " is not supported; this node speaks protocol version "
                            + Genesis.PROTOCOL_VERSION);
        }
        return new Genesis(chainId, forkNumber, firstBlock, (int) version, Optional.of(schedule(g)));
    }

    /** The {@code validators} and {@code leader_selection} fields of an object, checked as in a genesis. */
    static ValidatorSchedule schedule(ObjectFields g) throws ConfigException {
        List<ValidatorInfo> validators = validators(g.array("validators"), g.path("validators"));
        LeaderSelection leaderSelection = leaderSelection(g.object("leader_selection", "frequency", "mode"));
        try {
            return new ValidatorSchedule(validators, leaderSelection);
        } catch (IllegalArgumentException e) { // empty, no leader, total weight overflow: about the list as a whole
            throw new ConfigException(g.path("validators"), e.getMessage());
        }
    }

    /** Writes a schedule's {@code validators} and {@code leader_selection} into {@code g}. */
    static void putSchedule(ObjectNode g, ValidatorSchedule schedule) {
        ArrayNode validators = g.putArray("validators");
        for (ValidatorInfo v : schedule.validators()) {
            validators
                    .addObject()
                    .put("key", v.key().toText())
                    .put("weight", v.weight())
                    .put("leader", v.leader());
        }
        g.putObject("leader_selection")
                .put("frequency", schedule.leaderSelection().frequency())
                .put("mode", modeName(schedule.leaderSelection().mode()));
    }

    private static List<ValidatorInfo> validators(ArrayNode array, String path) throws ConfigException {
        List<ValidatorInfo> validators = new ArrayList<>();
        Map<BlsPublicKey, Integer> seen = new HashMap<>();
        for (int i = 0; i < array.size(); i++) {
            String at = path + "[" + i + "]";
            ObjectFields v = ObjectFields.of(array.get(i), at, "key", "weight", "leader");
            BlsPublicKey key;
            try {
                key = BlsPublicKey.fromText(v.text("key"));
            } catch (InvalidEncodingException e) {
                throw new ConfigException(v.path("key"), e.getMessage());
            }
            // Checked here rather than left to ValidatorSchedule so the message can point at both entries.
            Integer first = seen.putIfAbsent(key, i);
            if (first != null) {
                throw new ConfigException(
                        v.path("key"), "duplicate validator: same key as " + path + "[" + first + "]");
            }
            validators.add(new ValidatorInfo(key, v.positiveLong("weight"), v.bool("leader")));
        }
        return validators;
    }

    private static LeaderSelection leaderSelection(ObjectFields s) throws ConfigException {
        long frequency = s.positiveLong("frequency");
        String mode = s.text("mode");
        for (LeaderSelection.Mode m : LeaderSelection.Mode.values()) {
            if (modeName(m).equals(mode)) {
                return new LeaderSelection(frequency, m);
            }
        }
        throw new ConfigException(
                s.path("mode"), "must be \"round_robin\" or \"weighted\", got " + ObjectFields.describe(s.get("mode")));
    }

    /** The pretty-printed JSON of a genesis; {@link #parse} reads it back to an equal genesis. */
    public static String toJson(Genesis genesis) {
        try {
            return MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(toNode(genesis));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a tree of plain values always serializes", e);
        }
    }

    /** The JSON object of a genesis, to embed in a larger document. */
    public static ObjectNode toNode(Genesis genesis) {
        ValidatorSchedule schedule = genesis.schedule()
                .orElseThrow(
                        () -> new IllegalArgumentException("a genesis without a validator schedule has no JSON form"));
        ObjectNode g = MAPPER.createObjectNode()
                .put("chain_id", genesis.chainId())
                .put("fork_number", genesis.forkNumber())
                .put("first_block", genesis.firstBlock())
                .put("protocol_version", genesis.protocolVersion());
        putSchedule(g, schedule);
        return g;
    }

    /** Parses a JSON document into a tree, reporting syntax errors with their line and column. */
    static JsonNode readTree(String json, String path) throws ConfigException {
        try (JsonParser parser = MAPPER.createParser(json)) {
            JsonNode tree = MAPPER.readTree(parser);
            if (tree == null) {
                throw new ConfigException(path, "empty document; expected a JSON object");
            }
            if (parser.nextToken() != null) {
                throw new ConfigException(
                        path,
                        "malformed JSON" + where(parser.currentTokenLocation())
                                + ": unexpected content after the end of the document");
            }
            return tree;
        } catch (JsonProcessingException e) {
            // Jackson's own messages name nested locations as "[Source: REDACTED ...; line: 1, column: 1]".
            String problem = JACKSON_LOCATION.matcher(e.getOriginalMessage()).replaceAll("line $1, column $2");
            throw new ConfigException(path, "malformed JSON" + where(e.getLocation()) + ": " + problem);
        } catch (IOException e) {
            throw new UncheckedIOException("reading from a string", e);
        }
    }

    private static String where(JsonLocation at) {
        return at == null ? "" : " at line " + at.getLineNr() + ", column " + at.getColumnNr();
    }

    private static String modeName(LeaderSelection.Mode mode) {
        return mode.name().toLowerCase(Locale.ROOT);
    }
}
