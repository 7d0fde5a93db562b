package dev.tally.consensus;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tally.protocol.CommitQC;
import dev.tally.protocol.Payload;
import dev.tally.protocol.Phase;
import dev.tally.protocol.Proposal;
import dev.tally.protocol.ReplicaCommit;
import dev.tally.protocol.ReplicaState;
import dev.tally.protocol.ReplicaTimeout;
import dev.tally.protocol.TestChain;
import dev.tally.protocol.TimeoutQC;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * One test per {@link Invariant}: a state that breaks it and no other, so that each test fails without its check.
 * States a replica can be restored into also go through a real step, which must throw naming the invariant; the
 * others (which no input makes from a valid state) are the replica's own self-check with one field changed.
 */
class InvariantTest {
    final Harness h = new Harness(0);
    final Payload p1 = TestChain.payload("block 1");
    final Payload p2 = TestChain.payload("block 2");
    final CommitQC qc4 = h.chain.commitQc(4, 1, p1);
    final ReplicaCommit vote5 = h.chain.vote(5, 2, p2);

    /** A state of view {@code view} with block 2's payload cached. */
    ReplicaState state(
            long view,
            Phase phase,
            Optional<ReplicaCommit> highVote,
            Optional<CommitQC> highCommitQc,
            Optional<TimeoutQC> highTimeoutQc) {
        return new ReplicaState(0, view, phase, highVote, highCommitQc, highTimeoutQc, List.of(new Proposal(2, p2)));
    }

    /** The valid state the tests change: view 5, voted for block 2, justified by a commit QC of view 4. */
    ReplicaState voted() {
        return state(5, Phase.COMMIT, Optional.of(vote5), Optional.of(qc4), Optional.empty());
    }

    /** What the self-check of a replica restored into {@code state} sees after an input that changes nothing. */
    SelfCheck afterStep(ReplicaState state) {
        h.replica = new Replica(h.config().withInvariantChecks(false), state, ConsensusObserver.NONE);
        h.step(new Input.TimerExpired()); // a stale timer
        return h.replica.selfCheck();
    }

    static void assertOnlyBroken(Invariant invariant, SelfCheck s) {
        assertThat(Arrays.stream(Invariant.values()).filter(i -> !i.holds(s)))
                .as("the state breaks %s and nothing else, so without its check it would pass", invariant)
                .containsExactly(invariant);
        assertThatThrownBy(() -> Invariant.checkAll(s, "replica", "a test"))
                .isInstanceOfSatisfying(
                        BrokenInvariantException.class,
                        e -> assertThat(e.invariant()).isEqualTo(invariant));
    }

    /** A replica restored into {@code state} throws on its first step, naming {@code invariant} and the state. */
    void assertStepBreaks(Invariant invariant, ReplicaState state) {
        assertOnlyBroken(invariant, afterStep(state));
        h.replica = h.newReplica(state);
        assertThatThrownBy(() -> h.step(new Input.TimerExpired()))
                .isInstanceOfSatisfying(BrokenInvariantException.class, e -> {
                    assertThat(e.invariant()).isEqualTo(invariant);
                    assertThat(e.getMessage())
                            .as("names the invariant and the state")
                            .contains(
                                    invariant.name(),
                                    invariant.rule(),
                                    "view " + state.view() + ", phase " + state.phase());
                });
    }

    /** {@code s} with other values for the fields only a step sets. */
    static SelfCheck withStepFields(
            SelfCheck s, boolean viewStarted, long pendingProposalView, long timeoutVoteView, long votingFloor) {
        return new SelfCheck(
                s.view(),
                s.phase(),
                s.highVote(),
                s.highCommitQc(),
                s.highTimeoutQc(),
                s.proposals(),
                viewStarted,
                pendingProposalView,
                timeoutVoteView,
                votingFloor);
    }

    @Test
    void aValidStatePasses() {
        SelfCheck s = afterStep(voted());
        assertThat(Arrays.stream(Invariant.values()).filter(i -> !i.holds(s))).isEmpty();
        h.replica = h.newReplica(voted());
        h.step(new Input.TimerExpired());
    }

    @Test
    void aHighVoteOfALaterViewIsRefused() {
        assertStepBreaks(
                Invariant.HIGH_VOTE_NOT_AHEAD,
                state(5, Phase.TIMEOUT, Optional.of(h.chain.vote(6, 2, p2)), Optional.of(qc4), Optional.empty()));
    }

    @Test
    void phaseCommitWithoutAVoteInTheViewIsRefused() {
        assertStepBreaks(
                Invariant.COMMIT_PHASE_HOLDS_ITS_VOTE,
                state(5, Phase.COMMIT, Optional.of(h.chain.vote(4, 1, p1)), Optional.of(qc4), Optional.empty()));
    }

    @Test
    void phasePrepareAfterVotingInTheViewIsRefused() {
        assertStepBreaks(
                Invariant.PREPARE_PHASE_HAS_NOT_VOTED,
                state(5, Phase.PREPARE, Optional.of(vote5), Optional.of(qc4), Optional.empty()));
    }

    @Test
    void aHighQcOfTheCurrentViewIsRefused() {
        assertStepBreaks(
                Invariant.HIGH_QCS_BELOW_VIEW,
                state(5, Phase.COMMIT, Optional.of(vote5), Optional.of(h.chain.commitQc(5, 2, p2)), Optional.empty()));
        TimeoutQC tqc5 =
                h.timeoutQc(5, List.of(new ReplicaTimeout(h.chain.view(5), Optional.of(vote5), Optional.of(qc4))));
        assertStepBreaks(
                Invariant.HIGH_QCS_BELOW_VIEW,
                state(5, Phase.COMMIT, Optional.of(vote5), Optional.of(qc4), Optional.of(tqc5)));
    }

    @Test
    void aViewWithoutAQcOfTheViewBeforeIsRefused() {
        assertStepBreaks(
                Invariant.VIEW_JUSTIFIED,
                state(5, Phase.COMMIT, Optional.of(vote5), Optional.of(h.chain.commitQc(3, 1, p1)), Optional.empty()));
    }

    @Test
    void aHighTimeoutQcWhoseHighQcWasNotTakenInIsRefused() {
        TimeoutQC tqc4 = h.timeoutQc(
                4,
                List.of(new ReplicaTimeout(
                        h.chain.view(4), Optional.empty(), Optional.of(h.chain.commitQc(3, 1, p1)))));
        assertStepBreaks(
                Invariant.TIMEOUT_QC_HIGH_QC_TAKEN_IN,
                state(5, Phase.COMMIT, Optional.of(vote5), Optional.of(h.chain.commitQc(2, 1, p1)), Optional.of(tqc4)));
    }

    @Test
    void aViewStartThatLeavesAProposalAtOrBelowTheHighQcIsRefused() {
        SelfCheck s = afterStep(new ReplicaState(
                0,
                5,
                Phase.COMMIT,
                Optional.of(vote5),
                Optional.of(qc4),
                Optional.empty(),
                List.of(new Proposal(1, p1), new Proposal(2, p2))));
        assertThat(Invariant.PROPOSALS_PRUNED_AT_VIEW_START.holds(s))
                .as("within a view, a proposal's justification may raise the high QC: pruned when the next view starts")
                .isTrue();
        assertOnlyBroken(
                Invariant.PROPOSALS_PRUNED_AT_VIEW_START,
                withStepFields(s, true, s.pendingProposalView(), s.timeoutVoteView(), s.votingFloor()));
    }

    @Test
    void aPendingProposalOfAnotherViewIsRefused() {
        SelfCheck s = afterStep(voted());
        assertOnlyBroken(
                Invariant.PENDING_PROPOSAL_IN_VIEW,
                withStepFields(s, s.viewStarted(), 4, s.timeoutVoteView(), s.votingFloor()));
    }

    @Test
    void leavingPhaseTimeoutInTheViewOfTheTimeoutVoteIsRefused() {
        SelfCheck s = afterStep(voted());
        assertOnlyBroken(
                Invariant.TIMED_OUT_STAYS_TIMED_OUT,
                withStepFields(s, s.viewStarted(), s.pendingProposalView(), 5, s.votingFloor()));
    }

    @Test
    void aHighVoteBelowTheVotingFloorIsRefused() {
        SelfCheck s = afterStep(voted());
        assertOnlyBroken(
                Invariant.NO_VOTE_BELOW_VOTING_FLOOR,
                withStepFields(s, s.viewStarted(), s.pendingProposalView(), s.timeoutVoteView(), 6));
    }

    @Test
    void theStepThatBreaksAnInvariantReturnsNothingAndAReplicaWithChecksOffGoesOn() {
        ReplicaState broken = state(5, Phase.PREPARE, Optional.of(vote5), Optional.of(qc4), Optional.empty());
        h.replica = h.newReplica(broken);
        assertThatThrownBy(() -> h.step(new Input.Start())).isInstanceOf(BrokenInvariantException.class);
        Replica unchecked = new Replica(h.config().withInvariantChecks(false), broken, ConsensusObserver.NONE);
        assertThat(unchecked.step(new Input.Start(), h.now))
                .as("its outputs go out")
                .isNotEmpty();
    }
}
