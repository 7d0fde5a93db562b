package dev.tally.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tally.crypto.BlsProofOfPossession;
import dev.tally.crypto.BlsPublicKey;
import dev.tally.crypto.BlsSecretKey;
import dev.tally.crypto.NodePublicKey;
import dev.tally.crypto.NodeSecretKey;
import dev.tally.node.ReferenceGenesis;
import dev.tally.node.config.GenesisJson;
import dev.tally.node.config.NodeConfig;
import dev.tally.node.config.NodeConfigJson;
import dev.tally.protocol.Codec;
import dev.tally.protocol.FinalBlock;
import dev.tally.protocol.TestChain;
import dev.tally.testbed.localnet.Localnet;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command line run in-process, as bin/tally runs it, with captured stdin, stdout and stderr. */
class MainTest {
    @TempDir
    Path dir;

    record Run(int exitCode, String out, String err) {
        List<String> lines() {
            return out.lines().toList();
        }

        /** A user error: exit status 2, a message on stderr, nothing on stdout, no stack trace. */
        Run assertBadInput() {
            assertThat(exitCode).as(err).isEqualTo(2);
            assertThat(out).isEmpty();
            assertThat(err).isNotBlank().doesNotContain("Exception", "\tat ");
            return this;
        }
    }

    private static Run runWithStdin(String stdin, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.commandLine(new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)))
                .setOut(new PrintWriter(out))
                .setErr(new PrintWriter(err))
                .execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    private static Run run(String... args) {
        return runWithStdin("", args);
    }

    // conformance

    private Path traceDir(String... names) throws IOException {
        Path traces = Files.createDirectories(dir.resolve("traces"));
        for (String name : names) {
            try (var in = MainTest.class.getResourceAsStream("/traces/" + name)) {
                Files.write(traces.resolve(name), in.readAllBytes());
            }
        }
        return traces;
    }

    private static byte[] xz(String text) throws IOException {
        var bytes = new java.io.ByteArrayOutputStream();
        try (var out = new org.tukaani.xz.XZOutputStream(bytes, new org.tukaani.xz.LZMA2Options())) {
            out.write(text.getBytes(StandardCharsets.UTF_8));
        }
        return bytes.toByteArray();
    }

    private static String unxz(Path file) throws IOException {
        try (var in = new org.tukaani.xz.XZInputStream(Files.newInputStream(file))) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void conformanceReplaysADirectoryOfTracesAndSumsUp() throws Exception {
        Run r = run(
                "conformance",
                "--traces",
                traceDir("n6f1b0_0.itf.json.xz", "twins6b1_0.itf.json.xz").toString());

        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.lines()).hasSize(1);
        assertThat(r.lines().get(0))
                .matches("conformance: 2 traces, \\d+ steps, \\d+ comparisons, 0 mismatches, \\d+ steps/s .*");
    }

    @Test
    void conformanceExitsWithOneAndTheDiffOnAMismatch() throws Exception {
        Path traces = traceDir("n6f1b0_0.itf.json.xz");
        Path trace = traces.resolve("n6f1b0_0.itf.json.xz");
        // In the model's last state, one replica is one view ahead of where the run took it.
        String json = unxz(trace);
        int phase = json.indexOf("\"phase\":", json.lastIndexOf("::replica_state\""));
        int view = json.indexOf("\"view\":{\"#bigint\":\"", phase) + "\"view\":{\"#bigint\":\"".length();
        long v = Long.parseLong(json.substring(view, json.indexOf('"', view)));
        Files.write(trace, xz(json.substring(0, view) + (v + 1) + json.substring(json.indexOf('"', view))));

        Run r = run("conformance", "--traces", traces.toString());

        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.out())
                .contains(
                        "1 mismatches",
                        "first mismatch: trace n6f1b0_0.itf.json.xz, step ",
                        "    view\n      model: " + (v + 1) + "\n      tally: " + v);
    }

    @Test
    void conformanceRefusesAnUnreadableTraceNamingIt() throws Exception {
        Path traces = traceDir("n6f1b0_0.itf.json.xz");
        byte[] whole = Files.readAllBytes(traces.resolve("n6f1b0_0.itf.json.xz"));
        Files.write(traces.resolve("n6f1b0_0.itf.json.xz"), java.util.Arrays.copyOf(whole, whole.length - 100));

        assertThat(run("conformance", "--traces", traces.toString())
                        .assertBadInput()
                        .err())
                .startsWith("tally conformance: n6f1b0_0.itf.json.xz: not a complete xz stream");
        assertThat(run("conformance", "--traces", dir.resolve("nowhere").toString())
                        .assertBadInput()
                        .err())
                .contains("nowhere: cannot list the directory");
    }

    // verify-block

    private static final TestChain CHAIN = new TestChain(4);

    private Path genesisFile(TestChain chain) throws IOException {
        return Files.writeString(
                dir.resolve("genesis-" + chain.genesis.hash().toText().hashCode() + ".json"),
                GenesisJson.toJson(chain.genesis));
    }

    /** The block as the `block` RPC answers it, in its JSON-RPC envelope. */
    private static String rpcAnswer(FinalBlock b) {
        HexFormat hex = HexFormat.of();
        return "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"number\":" + b.number()
                + ",\"payload\":\"" + hex.formatHex(b.payload().bytes().toByteArray())
                + "\",\"commit_qc\":\"" + hex.formatHex(Codec.encode(b.justification()))
                + "\",\"encoded\":\"" + hex.formatHex(Codec.encode(b)) + "\"}}";
    }

    private static FinalBlock block(String payload) {
        var p = TestChain.payload(payload);
        return new FinalBlock(p, CHAIN.commitQc(3, 0, p));
    }

    @Test
    void verifyBlockAcceptsAFinalBlockFromTheRpcOffline() throws Exception {
        Run r = runWithStdin(
                rpcAnswer(block("hello")),
                "verify-block",
                "--genesis",
                genesisFile(CHAIN).toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("block 0 verifies", "view 3 of epoch 0", "signed by 4 validators");
    }

    @Test
    void verifyBlockRefusesAPayloadItsQcDoesNotCertify() throws Exception {
        var forged = new FinalBlock(TestChain.payload("forged"), block("hello").justification());
        Run r = runWithStdin(
                rpcAnswer(forged),
                "verify-block",
                "--genesis",
                genesisFile(CHAIN).toString());
        assertThat(r.exitCode()).isEqualTo(3);
        assertThat(r.out()).contains("does NOT verify");
    }

    @Test
    void verifyBlockRefusesABlockOfAnotherChain() throws Exception {
        Run r = runWithStdin(
                rpcAnswer(block("hello")),
                "verify-block",
                "--genesis",
                genesisFile(new TestChain(4, 7)).toString());
        assertThat(r.exitCode()).isEqualTo(3);
        assertThat(r.out()).contains("does NOT verify");
    }

    @Test
    void verifyBlockNamesWhatIsWrongWithItsInput() throws Exception {
        String genesis = genesisFile(CHAIN).toString();
        String answer = rpcAnswer(block("hello"));
        assertThat(runWithStdin(answer.replace("\"number\":0", "\"number\":1"), "verify-block", "--genesis", genesis)
                        .assertBadInput()
                        .err())
                .contains("\"number\" disagrees");
        assertThat(runWithStdin("{\"result\":{}}", "verify-block", "--genesis", genesis)
                        .assertBadInput()
                        .err())
                .contains("missing field \"encoded\"");
        assertThat(runWithStdin("0a0b0c", "verify-block", "--genesis", genesis)
                        .assertBadInput()
                        .err())
                .contains("not a final block");
        assertThat(runWithStdin(
                                answer,
                                "verify-block",
                                "--genesis",
                                dir.resolve("nope.json").toString())
                        .assertBadInput()
                        .err())
                .contains("no such file");
    }

    // keys generate

    @Test
    void keysGeneratePrintsMatchingKeysInTextForm() {
        Run r = run("keys", "generate");
        assertThat(r.exitCode()).isZero();
        assertThat(r.err()).isEmpty();
        List<String> lines = r.lines();
        assertThat(lines).hasSize(5);

        BlsSecretKey validator = BlsSecretKey.fromText(lines.get(0));
        BlsPublicKey validatorPublic = BlsPublicKey.fromText(lines.get(1));
        assertThat(validatorPublic).isEqualTo(validator.publicKey());
        assertThat(BlsProofOfPossession.fromText(lines.get(2)).verify(validatorPublic))
                .isTrue();
        NodeSecretKey node = NodeSecretKey.fromText(lines.get(3));
        assertThat(NodePublicKey.fromText(lines.get(4))).isEqualTo(node.publicKey());
        assertThat(lines.get(0)).startsWith("validator:secret:bls12_381:");
        assertThat(lines.get(1)).startsWith("validator:public:bls12_381:");
        assertThat(lines.get(2)).startsWith("validator:pop:bls12_381:");
        assertThat(lines.get(3)).startsWith("node:secret:ed25519:");
        assertThat(lines.get(4)).startsWith("node:public:ed25519:");
    }

    @Test
    void keysGenerateMakesNewKeysEachTime() {
        List<String> first = run("keys", "generate").lines();
        List<String> second = run("keys", "generate").lines();
        assertThat(second.get(0)).isNotEqualTo(first.get(0));
        assertThat(second.get(3)).isNotEqualTo(first.get(3));
    }

    @Test
    void keysGenerateOutWritesOwnerOnlyKeyFilesANodeConfigReads() throws Exception {
        Path config = generateLocalnet();
        Path keys = dir.resolve("keys");
        Run r = run("keys", "generate", "--out", keys.toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).doesNotContain(":secret:");
        assertThat(r.lines())
                .containsExactly(
                        Files.readString(keys.resolve("validator.pub")).strip(),
                        Files.readString(keys.resolve("validator.pop")).strip(),
                        Files.readString(keys.resolve("node.pub")).strip());
        for (String secret : List.of("validator.key", "node.key")) {
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(keys.resolve(secret))))
                    .as(secret)
                    .isEqualTo("rw-------");
        }
        BlsSecretKey validator = BlsSecretKey.fromText(
                Files.readString(keys.resolve("validator.key")).strip());
        assertThat(validator.publicKey().toText()).isEqualTo(r.lines().get(0));
        NodeSecretKey node = NodeSecretKey.fromText(
                Files.readString(keys.resolve("node.key")).strip());
        assertThat(node.publicKey().toText()).isEqualTo(r.lines().get(2));

        ObjectNode json = (ObjectNode) new ObjectMapper().readTree(config.toFile());
        json.remove(List.of("validator_key", "node_key"));
        json.put("validator_key_file", keys.resolve("validator.key").toString());
        json.put("node_key_file", keys.resolve("node.key").toString());
        NodeConfig cfg = NodeConfigJson.parse(json.toString(), config.getParent(), Map.of());
        assertThat(cfg.validatorKey()).contains(validator);
        assertThat(cfg.nodeKey()).isEqualTo(node);
    }

    @Test
    void keysGenerateOutNeverOverwritesAKeyFile() throws Exception {
        Path keys = Files.createDirectories(dir.resolve("keys"));
        Files.writeString(keys.resolve("node.key"), "kept");
        String err = run("keys", "generate", "--out", keys.toString())
                .assertBadInput()
                .err();
        assertThat(err).contains("not overwriting existing key files: " + keys.resolve("node.key"));
        assertThat(Files.readString(keys.resolve("node.key"))).isEqualTo("kept");
        try (var left = Files.list(keys)) {
            assertThat(left).as("nothing written").containsExactly(keys.resolve("node.key"));
        }
        Path file = keys.resolve("node.key");
        assertThat(run("keys", "generate", "--out", file.toString())
                        .assertBadInput()
                        .err())
                .contains("--out " + file + " is not a directory");
    }

    // keys recover

    @Test
    void keysRecoverRoundTripsGeneratedKeys() {
        List<String> generated = run("keys", "generate").lines();
        // Blank lines, surrounding spaces and CRLF line ends are all fine.
        String stdin = "\n  " + generated.get(0) + "  \r\n\r\n" + generated.get(3) + "\n\n";
        Run r = runWithStdin(stdin, "keys", "recover");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.err()).isEmpty();
        assertThat(r.lines()).containsExactly(generated.get(1), generated.get(2), generated.get(4));
    }

    @Test
    void keysRecoverPrintsTheReferenceKeysPublicKeys() {
        StringBuilder stdin = new StringBuilder();
        ReferenceGenesis.KEYS.forEach(k -> stdin.append(k.toText()).append('\n'));
        List<String> lines = runWithStdin(stdin.toString(), "keys", "recover").lines();
        assertThat(lines).hasSize(2 * ReferenceGenesis.KEYS.size());
        for (int i = 0; i < ReferenceGenesis.KEYS.size(); i++) {
            BlsPublicKey key = ReferenceGenesis.KEYS.get(i).publicKey();
            assertThat(lines.get(2 * i)).isEqualTo(key.toText());
            assertThat(BlsProofOfPossession.fromText(lines.get(2 * i + 1)).verify(key))
                    .isTrue();
        }
    }

    @Test
    void keysRecoverNamesEachBadLineWithoutEchoingSecrets() {
        String good = ReferenceGenesis.KEYS.get(0).toText();
        String shortSecret = "validator:secret:bls12_381:" + "ab12".repeat(15); // 30 bytes
        String rawHex = "5512f40d33844c1c8107aa630af764005ab6e13f6bf8edb59b4ca3683727e619";
        String publicKey = ReferenceGenesis.KEYS.get(1).publicKey().toText();
        String stdin = String.join("\n", good, "", shortSecret, rawHex, publicKey, "node:secret:ed25519:xyz", good);
        Run r = runWithStdin(stdin, "keys", "recover").assertBadInput();
        assertThat(r.err().lines().toList())
                .containsExactly(
                        "tally keys recover: line 3: BLS secret key must be 32 bytes, got 30",
                        "tally keys recover: line 4: expected a secret key (validator:secret:bls12_381:<hex> or node:secret:ed25519:<hex>),"
                                + " got text that is not in prefix:hex form",
                        "tally keys recover: line 5: expected a secret key (validator:secret:bls12_381:<hex> or node:secret:ed25519:<hex>),"
                                + " got a 'validator:public:bls12_381:' value",
                        "tally keys recover: line 6: bad hex after 'node:secret:ed25519:': string length not even: 3");
        assertThat(r.err()).doesNotContain("ab12ab12", rawHex.substring(0, 16), good.substring(30));
    }

    @Test
    void keysRecoverRejectsAnOutOfRangeSecret() {
        String zero = "validator:secret:bls12_381:" + "00".repeat(32);
        Run r = runWithStdin(zero + "\n", "keys", "recover").assertBadInput();
        assertThat(r.err()).contains("line 1: BLS secret key is not a scalar in [1, r)");
    }

    @Test
    void keysRecoverWithoutAnyKeyFails() {
        Run r = runWithStdin("\n \n", "keys", "recover").assertBadInput();
        assertThat(r.err()).contains("no secret keys on stdin");
    }

    // genesis hash

    @Test
    void genesisHashOfTheReferenceGenesis() throws IOException {
        Path file = Files.writeString(dir.resolve("genesis.json"), ReferenceGenesis.json());
        Run r = run("genesis", "hash", file.toString());
        assertThat(r.err()).isEmpty();
        assertThat(r.exitCode()).isZero();
        assertThat(r.out()).isEqualTo(ReferenceGenesis.HASH + System.lineSeparator());
    }

    @Test
    void genesisHashReadsStdinForDash() {
        Run r = runWithStdin(ReferenceGenesis.json(), "genesis", "hash", "-");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out().strip()).isEqualTo(ReferenceGenesis.HASH);
        assertThat(runWithStdin("{}", "genesis", "hash", "-").assertBadInput().err())
                .isEqualTo("tally genesis hash: stdin: genesis.chain_id: missing (required field)"
                        + System.lineSeparator());
    }

    @Test
    void genesisHashNamesTheBadField() throws IOException {
        String json = ReferenceGenesis.json().replaceFirst("\"weight\": 10", "\"weight\": 0");
        Path file = Files.writeString(dir.resolve("genesis.json"), json);
        Run r = run("genesis", "hash", file.toString()).assertBadInput();
        assertThat(r.err())
                .isEqualTo("tally genesis hash: " + file + ": genesis.validators[0].weight: "
                        + "must be a positive integer (at most 2^63-1), got 0" + System.lineSeparator());
    }

    @Test
    void genesisHashReportsMalformedJsonWithItsPosition() throws IOException {
        Path file = Files.writeString(dir.resolve("genesis.json"), "{\"chain_id\": 1,\n  oops}");
        Run r = run("genesis", "hash", file.toString()).assertBadInput();
        assertThat(r.err())
                .startsWith("tally genesis hash: " + file + ": genesis: malformed JSON at line 2, column 3: ");
    }

    @Test
    void genesisHashReportsUnreadableFiles() throws IOException {
        assertThat(run("genesis", "hash", dir.resolve("absent.json").toString())
                        .assertBadInput()
                        .err())
                .contains("absent.json: no such file");
        assertThat(run("genesis", "hash", dir.toString()).assertBadInput().err())
                .contains(dir.toString() + ": ");
        Path latin1 = Files.write(dir.resolve("latin1.json"), new byte[] {'{', (byte) 0xe9, '}'});
        assertThat(run("genesis", "hash", latin1.toString()).assertBadInput().err())
                .contains("latin1.json: not UTF-8 text");
    }

    // the command tree

    @Test
    void helpListsTheCommands() {
        Run r = run("--help");
        assertThat(r.exitCode()).isZero();
        assertThat(r.out())
                .contains("Usage: tally", "keys", "genesis", "Exit status:")
                .doesNotContain("bench-host");
        assertThat(run("keys", "--help").out()).contains("generate", "recover");
        assertThat(run("help", "genesis").out()).contains("hash");
        assertThat(run("genesis", "hash", "--help").out())
                .contains("FILE", "genesis_hash:keccak256:<hex>", "\"leader_selection\"");
    }

    @Test
    void versionNamesTheProtocol() {
        Run r = run("--version");
        assertThat(r.exitCode()).isZero();
        assertThat(r.out()).startsWith("tally ").contains("ChonkyBFT protocol version 2");
    }

    @Test
    void usageErrorsExitWith2AndShowTheUsage() {
        for (String[] args : List.of(new String[] {}, new String[] {"keys"}, new String[] {"genesis"})) {
            Run r = run(args);
            assertThat(r.exitCode()).isEqualTo(2);
            assertThat(r.err()).contains("Missing subcommand", "Usage: tally").doesNotContain("bench-host");
        }
        assertThat(run("keys", "forge").assertBadInput().err()).contains("Unmatched argument");
        assertThat(run("genesis", "hash").assertBadInput().err()).contains("Missing required parameter: 'FILE'");
    }

    // localnet key files and the node's start-up refusals

    private Path generateLocalnet() {
        Run gen = run("localnet", "--validators", "2", "--full-nodes", "1", "--dir", dir.toString(), "--generate-only");
        assertThat(gen.exitCode()).as(gen.err()).isZero();
        return dir.resolve("node0").resolve("config.json");
    }

    @Test
    void localnetKeepsSecretKeysInOwnerOnlyKeyFiles() throws Exception {
        generateLocalnet();
        for (int i = 0; i < 3; i++) {
            Path node = dir.resolve("node" + i);
            assertThat(Files.readString(node.resolve("config.json")))
                    .doesNotContain(":secret:")
                    .contains("\"file\" : \"node.key\"");
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(node.resolve("node.key"))))
                    .isEqualTo("rw-------");
            assertThat(Files.exists(node.resolve("validator.key"))).isEqualTo(i < 2);
        }
        assertThat(PosixFilePermissions.toString(
                        Files.getPosixFilePermissions(dir.resolve("node1").resolve("validator.key"))))
                .isEqualTo("rw-------");
        List<Localnet.Member> members = Localnet.read(dir);
        assertThat(members.get(1).config().isValidator()).isTrue();
        assertThat(members.get(2).config().isValidator()).isFalse();
    }

    @Test
    void nodeRefusesAKeyFileOtherUsersCanRead() throws Exception {
        Path config = generateLocalnet();
        Path key = config.resolveSibling("validator.key");
        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-r-----"));
        String err = run("node", "--config", config.toString(), "--in-memory")
                .assertBadInput()
                .err();
        assertThat(err).contains("key file " + key.toAbsolutePath() + " is accessible to other users", "chmod 600");
    }

    @Test
    void nodeNamesAMissingKeyFileOnce() throws Exception {
        Path config = generateLocalnet();
        Path key = config.resolveSibling("node.key").toAbsolutePath();
        Files.delete(key);
        String err = run("node", "--config", config.toString(), "--in-memory")
                .assertBadInput()
                .err();
        assertThat(err).contains("config.node_key.file: no such file: " + key);
        assertThat(err.split(java.util.regex.Pattern.quote(key.toString()), -1)).hasSize(2);
    }

    @Test
    void nodeRefusesUnknownLogFlags() {
        Path config = generateLocalnet();
        assertThat(run("node", "--config", config.toString(), "--in-memory", "--log-format", "xml")
                        .assertBadInput()
                        .err())
                .contains("--log-format must be text or json, got \"xml\"");
        assertThat(run("node", "--config", config.toString(), "--in-memory", "--log-level", "loud")
                        .assertBadInput()
                        .err())
                .contains("--log-level must be one of");
    }
}
