package dev.tally.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The replay must catch a replica that breaks a protocol rule: each broken replica fails it with a diff. Each runs
 * on the traces that exercise its rule (the real replica replays them all, see {@link CorpusReplayTest}).
 */
class BrokenReplicaTest {
    private static Mismatch firstMismatch(Replay.ReplicaFactory broken, String... traces) throws Exception {
        List<Conformance.Source> sources = Conformance.bundled().stream()
                .filter(s -> List.of(traces).contains(s.name()))
                .toList();
        assertThat(sources).hasSize(traces.length);
        Conformance.Summary summary = Conformance.run(sources, broken, 2);
        assertThat(summary.mismatches()).as(summary.line()).isPositive();
        return summary.firstMismatch().orElseThrow();
    }

    @Test
    void aLeaderThatIgnoresTheSubquorumReproposalRuleFailsTheReplay() throws Exception {
        Mismatch m = firstMismatch(BrokenReplicas.IGNORES_SUBQUORUM_REPROPOSAL, "n6f1b0_6.itf.json.xz");

        assertThat(m.getMessage())
                .contains(
                        "(proposer_step by ",
                        "model only:",
                        "msgs_proposal: {block: None",
                        "tally only:",
                        "msgs_proposal: {block: val_b0");
    }

    @Test
    void aReplicaThatFormsACommitQcBelowTheQuorumFailsTheReplay() throws Exception {
        Mismatch m = firstMismatch(BrokenReplicas.QC_BELOW_QUORUM, "n6f1b0_5.itf.json.xz", "n6f1b0_6.itf.json.xz");

        assertThat(m.getMessage())
                .contains("(on_commit by ", "high_commit_qc\n      model: None\n      tally: {agg_sig: {");
    }

    @Test
    void aReplicaThatAcceptsAProposalFromANonLeaderFailsTheReplay() throws Exception {
        Mismatch m = firstMismatch(BrokenReplicas.TAKES_NON_LEADER_PROPOSALS, "n6f1b0_0.itf.json.xz");

        assertThat(m.getMessage())
                .contains(
                        "(on_proposal by ",
                        "probe of replica",
                        "who does not lead view",
                        "high_vote",
                        "sent (the model sends nothing):",
                        "msgs_signed_commit");
    }

    @Test
    void aReplicaThatVotesCommitAfterTimingOutInTheSameViewFailsTheReplay() throws Exception {
        Mismatch m = firstMismatch(
                BrokenReplicas.VOTES_AFTER_TIMEOUT,
                "n6f1b0_0.itf.json.xz",
                "n6f1b0_1.itf.json.xz",
                "n6f1b0_2.itf.json.xz",
                "n6f1b0_3.itf.json.xz");

        assertThat(m.getMessage())
                .contains(
                        "(on_timer_is_finished by ",
                        "probe of replica",
                        "after the replica timed out",
                        "phase",
                        "PhaseCommit",
                        "msgs_signed_commit");
    }
}
