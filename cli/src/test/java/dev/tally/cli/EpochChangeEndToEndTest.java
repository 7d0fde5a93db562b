package dev.tally.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tally.execution.ScheduledCommittee;
import dev.tally.node.config.NodeConfig;
import dev.tally.protocol.Codec;
import dev.tally.protocol.Epoch;
import dev.tally.protocol.FinalBlock;
import dev.tally.protocol.ValidatorSchedule;
import dev.tally.testbed.localnet.Localnet;
import dev.tally.testbed.localnet.RpcClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Six validators and a seventh node as real processes; at block {@link #ACTIVATION} the committee changes: node5
 * leaves, node6 joins. Blocks keep finalizing after the boundary, are signed by the new committee (node6 among the
 * signers, node5 never), every node agrees on them, and node5 follows as a full node.
 */
class EpochChangeEndToEndTest {
    static final int VALIDATORS = 6;
    static final long ACTIVATION = 10;
    static final long TARGET = ACTIVATION + 12;

    @TempDir
    Path dir;

    final List<Process> processes = new ArrayList<>();

    @AfterEach
    void stopAll() throws InterruptedException {
        LocalnetEndToEndTest.stopAll(processes);
    }

    @Test
    @Timeout(value = 4, unit = TimeUnit.MINUTES)
    void aValidatorSetChangeAtAnEpochBoundaryKeepsFinalizing() throws Exception {
        var gen = LocalnetEndToEndTest.tally(
                "localnet",
                "--validators",
                "6",
                "--dir",
                dir.toString(),
                "--generate-only",
                "--view-timeout-ms",
                "1000",
                "--epoch-change-at",
                String.valueOf(ACTIVATION));
        assertThat(gen.exitCode()).as(gen.err()).isZero();
        assertThat(gen.out()).contains("node5 leaves the committee and node6 joins it");
        List<Localnet.Member> members = Localnet.read(dir);
        assertThat(members).hasSize(VALIDATORS + 1);
        NodeConfig cfg = members.getFirst().config();
        assertThat(cfg.schedule()).hasSize(1);
        ScheduledCommittee next = cfg.schedule().getFirst();
        assertThat(next.activationBlock()).isEqualTo(ACTIVATION);
        Epoch epoch0 = Epoch.of(cfg.genesis());
        Epoch epoch1 = new Epoch(cfg.genesis().hash(), 1, ACTIVATION, next.committee());
        var leaver = members.get(5).config().validatorKey().orElseThrow().publicKey();
        var joiner = members.get(6).config().validatorKey().orElseThrow().publicKey();
        assertThat(epoch0.committee().contains(leaver)).isTrue();
        assertThat(epoch0.committee().contains(joiner)).isFalse();
        assertThat(epoch1.committee().contains(leaver)).isFalse();
        assertThat(epoch1.committee().contains(joiner)).isTrue();

        for (Localnet.Member m : members) {
            processes.add(Localnet.launch(m));
        }
        List<RpcClient> rpc = members.stream()
                .map(m -> new RpcClient(m.config().rpcAddr().orElseThrow()))
                .toList();
        for (int i = 0; i < members.size(); i++) {
            LocalnetEndToEndTest.awaitBlock(rpc.get(i), members.get(i), TARGET, Duration.ofSeconds(150));
        }

        // Every node holds the same chain; blocks before the boundary verify against epoch 0, the rest against epoch 1.
        ValidatorSchedule c1 = epoch1.committee();
        int joinerIndex = c1.indexOf(joiner).orElseThrow();
        int joinerSigned = 0;
        for (long n = 0; n <= TARGET; n++) {
            Set<String> hashes = new HashSet<>();
            for (RpcClient c : rpc) {
                JsonNode b = c.call("block", n);
                FinalBlock block = Codec.decodeFinalBlock(
                        HexFormat.of().parseHex(b.get("encoded").asText()));
                block.verify(n < ACTIVATION ? epoch0 : epoch1);
                hashes.add(b.get("payload_hash").asText());
            }
            assertThat(hashes).as("payload hashes of block %d across nodes", n).hasSize(1);
            if (n >= ACTIVATION) {
                FinalBlock block = Codec.decodeFinalBlock(HexFormat.of()
                        .parseHex(rpc.getFirst().call("block", n).get("encoded").asText()));
                assertThat(block.justification().view().epoch()).isEqualTo(1);
                if (block.justification().signers().contains(joinerIndex)) {
                    joinerSigned++;
                }
            }
        }
        // A quorum is 5 of 6: node6 may miss some QCs, but it votes.
        assertThat(joinerSigned)
                .as("blocks %d..%d signed by the joining validator", ACTIVATION, TARGET)
                .isPositive();

        // The RPC reports the new committee; the leaver runs as a full node (no view), the joiner as a validator.
        JsonNode validators = rpc.getFirst().call("validators");
        assertThat(validators).hasSize(VALIDATORS);
        assertThat(validators.toString()).contains(joiner.toText()).doesNotContain(leaver.toText());
        assertThat(Files.readString(members.get(5).logFile())).contains("this node is a full node");
        assertThat(Files.readString(members.get(6).logFile())).contains("this node is a validator");
        String metrics = LocalnetEndToEndTest.get(
                members.get(6).config().metricsAddr().orElseThrow().toString().replaceFirst("^[^/]*/", "")
                        + "/metrics");
        assertThat(metrics)
                .containsPattern("(?m)^tally_consensus_epoch 1(\\.0)?$")
                .containsPattern("(?m)^tally_network_sent_bytes_total\\{endpoint=\"consensus\"} [1-9][0-9.E]*$");
    }
}
