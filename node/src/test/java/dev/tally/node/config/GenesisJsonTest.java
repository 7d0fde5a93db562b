package dev.tally.node.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.tally.node.ReferenceGenesis;
import dev.tally.protocol.Genesis;
import dev.tally.protocol.LeaderSelection;
import dev.tally.protocol.ValidatorInfo;
import dev.tally.protocol.ValidatorSchedule;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class GenesisJsonTest {
    private static final String K0 = ReferenceGenesis.KEYS.get(0).publicKey().toText();
    private static final String K1 = ReferenceGenesis.KEYS.get(1).publicKey().toText();

    /** A valid genesis that each bad case changes in one place. */
    private static final String VALID = """
            {"chain_id": 1337, "fork_number": 42, "first_block": 2834, "protocol_version": 2,
             "validators": [{"key": "K0", "weight": 10, "leader": true},
                            {"key": "K1", "weight": 11, "leader": false}],
             "leader_selection": {"frequency": 1, "mode": "weighted"}}
            """.replace("K0", K0).replace("K1", K1);

    @Test
    void parsesTheReferenceGenesisToItsKnownHash() throws ConfigException {
        Genesis parsed = GenesisJson.parse(ReferenceGenesis.json());
        assertThat(parsed).isEqualTo(ReferenceGenesis.genesis());
        assertThat(parsed.hash().toText()).isEqualTo(ReferenceGenesis.HASH);
    }

    @Test
    void parsesEveryField() throws ConfigException {
        Genesis g = GenesisJson.parse(
                VALID.replace("\"weighted\"", "\"round_robin\"").replace("\"frequency\": 1", "\"frequency\": 3"));
        assertThat(g.chainId()).isEqualTo(1337);
        assertThat(g.forkNumber()).isEqualTo(42);
        assertThat(g.firstBlock()).isEqualTo(2834);
        assertThat(g.protocolVersion()).isEqualTo(2);
        ValidatorSchedule s = g.schedule().orElseThrow();
        assertThat(s.validators())
                .containsExactlyInAnyOrder(
                        new ValidatorInfo(ReferenceGenesis.KEYS.get(0).publicKey(), 10, true),
                        new ValidatorInfo(ReferenceGenesis.KEYS.get(1).publicKey(), 11, false));
        assertThat(s.leaderSelection()).isEqualTo(new LeaderSelection(3, LeaderSelection.Mode.ROUND_ROBIN));
    }

    @Test
    void acceptsTheLargestIntegers() throws ConfigException {
        Genesis g = GenesisJson.parse(VALID.replace("\"chain_id\": 1337", "\"chain_id\": 9223372036854775807")
                .replace("\"weight\": 10", "\"weight\": 9223372036854775806")
                .replace("\"weight\": 11", "\"weight\": 1"));
        assertThat(g.chainId()).isEqualTo(Long.MAX_VALUE);
        assertThat(g.schedule().orElseThrow().totalWeight()).isEqualTo(Long.MAX_VALUE);
    }

    @Test
    void roundTripsThroughJson() throws ConfigException {
        for (Genesis g : List.of(ReferenceGenesis.genesis(), roundRobin())) {
            String json = GenesisJson.toJson(g);
            Genesis back = GenesisJson.parse(json);
            assertThat(back).isEqualTo(g);
            assertThat(back.schedule()).isEqualTo(g.schedule());
            assertThat(GenesisJson.toJson(back)).isEqualTo(json);
        }
    }

    @Test
    void writesTheDocumentedFormat() {
        assertThat(GenesisJson.toJson(roundRobin()))
                .contains(
                        "\"chain_id\" : 7",
                        "\"fork_number\" : 0",
                        "\"first_block\" : 9",
                        "\"protocol_version\" : 2",
                        "\"key\" : \"" + K1 + "\"",
                        "\"weight\" : 5",
                        "\"leader\" : false",
                        "\"frequency\" : 4",
                        "\"mode\" : \"round_robin\"");
    }

    @Test
    void aGenesisWithoutScheduleHasNoJsonForm() {
        assertThatThrownBy(() -> GenesisJson.toJson(new Genesis(1, 0, 0, 2, Optional.empty())))
                .isInstanceOf(IllegalArgumentException.class);
    }

    private static Genesis roundRobin() {
        ValidatorSchedule s = new ValidatorSchedule(
                List.of(
                        new ValidatorInfo(ReferenceGenesis.KEYS.get(0).publicKey(), 3, true),
                        new ValidatorInfo(ReferenceGenesis.KEYS.get(1).publicKey(), 5, false)),
                new LeaderSelection(4, LeaderSelection.Mode.ROUND_ROBIN));
        return new Genesis(7, 0, 9, 2, Optional.of(s));
    }

    static Stream<Arguments> badInputs() {
        String w0 = "\"weight\": 10";
        return Stream.of(
                // unknown fields, at every level
                bad("\"chain_id\": 1337", "\"chain_id\": 1337, \"chainid\": 1", "genesis.chainid", "unknown field"),
                bad(w0, w0 + ", \"wieght\": 10", "genesis.validators[0].wieght", "unknown field"),
                bad(
                        "\"mode\": \"weighted\"",
                        "\"mode\": \"weighted\", \"seed\": 1",
                        "genesis.leader_selection.seed",
                        "unknown field"),
                // missing fields
                bad("\"fork_number\": 42, ", "", "genesis.fork_number", "missing"),
                bad(", \"leader\": false", "", "genesis.validators[1].leader", "missing"),
                bad("\"frequency\": 1, ", "", "genesis.leader_selection.frequency", "missing"),
                bad(", \"mode\": \"weighted\"", "", "genesis.leader_selection.mode", "missing"),
                // wrong JSON types
                bad(
                        "\"leader_selection\": {\"frequency\": 1, \"mode\": \"weighted\"}",
                        "\"leader_selection\": [1]",
                        "genesis.leader_selection",
                        "must be a JSON object, got an array"),
                bad(
                        "\"validators\": [",
                        "\"validators\": [1, ",
                        "genesis.validators[0]",
                        "must be a JSON object, got 1"),
                bad("\"key\": \"" + K0 + "\"", "\"key\": 5", "genesis.validators[0].key", "must be a string, got 5"),
                bad(
                        "\"leader\": true",
                        "\"leader\": \"true\"",
                        "genesis.validators[0].leader",
                        "must be true or false, got \"true\""),
                bad(
                        "\"mode\": \"weighted\"",
                        "\"mode\": null",
                        "genesis.leader_selection.mode",
                        "must be a string, got null"),
                // integers must be JSON integers in range
                bad(w0, "\"weight\": 1.5", "genesis.validators[0].weight", "must be a positive integer"),
                bad(w0, "\"weight\": 10.0", "genesis.validators[0].weight", "must be a positive integer"),
                bad(w0, "\"weight\": 1e3", "genesis.validators[0].weight", "must be a positive integer"),
                bad(
                        w0,
                        "\"weight\": \"10\"",
                        "genesis.validators[0].weight",
                        "must be a positive integer (at most 2^63-1), got \"10\""),
                bad(w0, "\"weight\": 0", "genesis.validators[0].weight", "must be a positive integer"),
                bad(w0, "\"weight\": -3", "genesis.validators[0].weight", "must be a positive integer"),
                bad(
                        w0,
                        "\"weight\": 9223372036854775808",
                        "genesis.validators[0].weight",
                        "must be a positive integer"),
                bad(
                        w0,
                        "\"weight\": null",
                        "genesis.validators[0].weight",
                        "must be a positive integer (at most 2^63-1), got null"),
                bad("\"chain_id\": 1337", "\"chain_id\": -1", "genesis.chain_id", "must be a non-negative integer"),
                bad(
                        "\"chain_id\": 1337",
                        "\"chain_id\": 9223372036854775808",
                        "genesis.chain_id",
                        "must be a non-negative integer"),
                bad(
                        "\"first_block\": 2834",
                        "\"first_block\": \"2834\"",
                        "genesis.first_block",
                        "must be a non-negative integer"),
                bad(
                        "\"frequency\": 1",
                        "\"frequency\": 0",
                        "genesis.leader_selection.frequency",
                        "must be a positive integer"),
                // values the protocol rejects
                bad("\"protocol_version\": 2", "\"protocol_version\": 1", "genesis.protocol_version", "not supported"),
                bad(
                        "\"protocol_version\": 2",
                        "\"protocol_version\": 4294967298",
                        "genesis.protocol_version",
                        "not supported"),
                bad(
                        "\"weighted\"",
                        "\"random\"",
                        "genesis.leader_selection.mode",
                        "must be \"round_robin\" or \"weighted\", got \"random\""),
                bad(
                        "\"weighted\"",
                        "\"WEIGHTED\"",
                        "genesis.leader_selection.mode",
                        "must be \"round_robin\" or \"weighted\""),
                bad(K1, K0, "genesis.validators[1].key", "duplicate validator: same key as genesis.validators[0]"),
                bad("\"leader\": true", "\"leader\": false", "genesis.validators", "no leader"),
                bad(w0, "\"weight\": 9223372036854775807", "genesis.validators", "overflows"),
                // bad key text
                bad(
                        K0,
                        K0.replace("validator:public:", "validator:secret:"),
                        "genesis.validators[0].key",
                        "expected text starting with 'validator:public:bls12_381:'"),
                bad(K0, K0.substring(0, K0.length() - 2) + "zz", "genesis.validators[0].key", "bad hex"),
                bad(K0, K0.substring(0, K0.length() - 2), "genesis.validators[0].key", "must be 96 bytes, got 95"),
                bad(
                        K0,
                        "validator:public:bls12_381:c0" + "00".repeat(95),
                        "genesis.validators[0].key",
                        "point at infinity"));
    }

    private static Arguments bad(String from, String to, String path, String problem) {
        assertThat(VALID).as("the case must change the valid genesis").contains(from);
        return Arguments.of(VALID.replaceFirst(Pattern.quote(from), Matcher.quoteReplacement(to)), path, problem);
    }

    @ParameterizedTest(name = "{1}: {2}")
    @MethodSource("badInputs")
    void badInputNamesTheField(String json, String path, String problem) {
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> GenesisJson.parse(json));
        assertThat(e).as("parsing %s", json).isNotNull();
        assertThat(e.path()).isEqualTo(path);
        assertThat(e.getMessage()).startsWith(path + ": ").contains(problem);
    }

    static Stream<Arguments> malformedJson() {
        return Stream.of(
                Arguments.of(
                        "{\"chain_id\": 1,\n \"fork_number\": 2,\n}",
                        "malformed JSON at line 3, column 1: Unexpected character ('}'"),
                Arguments.of(
                        "{\"chain_id\": 1,\n \"chain_id\": 2}",
                        "malformed JSON at line 2, column 12: Duplicate field 'chain_id'"),
                Arguments.of(
                        "{\"chain_id\": 1",
                        "malformed JSON at line 1, column 15: Unexpected end-of-input: expected close marker for Object (start marker at line 1, column 1)"),
                Arguments.of(
                        "{} {}",
                        "malformed JSON at line 1, column 4: unexpected content after the end of the document"),
                Arguments.of("{\"chain_id\": tru}", "malformed JSON at line 1, column 17: Unrecognized token 'tru'"),
                Arguments.of("  \n", "empty document"),
                Arguments.of("[]", "must be a JSON object, got an array"));
    }

    @ParameterizedTest(name = "{1}")
    @MethodSource("malformedJson")
    void malformedJsonSaysWhere(String json, String problem) {
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> GenesisJson.parse(json));
        assertThat(e).isNotNull();
        assertThat(e.path()).isEqualTo("genesis");
        assertThat(e.getMessage()).startsWith("genesis: " + problem);
    }
}
