package dev.tally.consensus;

import dev.tally.protocol.Phase;
import java.util.function.Predicate;

/**
 * What is true of a replica after every step, whatever it was fed: PROTOCOL.md section 4 read as facts about its
 * state. With {@link ConsensusConfig#checkInvariants()} the replica checks them itself after each step and throws a
 * {@link BrokenInvariantException} before the step's outputs leave, so a bug cannot send what a broken state implies.
 * Every one holds through the simulator's sweep and the replay of the model's traces.
 */
public enum Invariant {
    HIGH_VOTE_NOT_AHEAD("the high vote is of the current view or an earlier one", s -> s.highVoteView() <= s.view()),
    COMMIT_PHASE_HOLDS_ITS_VOTE(
            "in phase Commit the high vote is of the current view",
            s -> s.phase() != Phase.COMMIT || s.highVoteView() == s.view()),
    PREPARE_PHASE_HAS_NOT_VOTED(
            "in phase Prepare the replica has not voted in the current view",
            s -> s.phase() != Phase.PREPARE || s.highVoteView() < s.view()),
    HIGH_QCS_BELOW_VIEW(
            "the high commit QC and the high timeout QC are of views before the current one",
            s -> s.highCommitQcView() < s.view() && s.highTimeoutQcView() < s.view()),
    VIEW_JUSTIFIED(
            "the current view is justified: a high QC is of the view just before it (none in view 0)",
            s -> Math.max(s.highCommitQcView(), s.highTimeoutQcView()) >= s.view() - 1),
    TIMEOUT_QC_HIGH_QC_TAKEN_IN(
            "the high commit QC is at least as high as the high timeout QC's high QC",
            s -> s.highCommitQcView()
                    >= s.highTimeoutQc()
                            .flatMap(qc -> qc.highQc())
                            .map(qc -> qc.view().number())
                            .orElse(-1L)),
    PROPOSALS_PRUNED_AT_VIEW_START(
            "a step that starts a view leaves no cached proposal at or below the high commit QC's block",
            s -> !s.viewStarted() || s.proposals().stream().allMatch(p -> p.number() > s.highCommitQcBlock())),
    PENDING_PROPOSAL_IN_VIEW(
            "a proposal waiting for its predecessor or the execution layer is of the current view",
            s -> s.pendingProposalView() == SelfCheck.NONE || s.pendingProposalView() == s.view()),
    TIMED_OUT_STAYS_TIMED_OUT(
            "once it sent its timeout vote in the current view, the replica stays in phase Timeout",
            s -> s.timeoutVoteView() != s.view() || s.phase() == Phase.TIMEOUT),
    NO_VOTE_BELOW_VOTING_FLOOR(
            "the high vote is at or above the voting floor (none while awaiting reports)",
            s -> s.highVote().isEmpty() || s.highVoteView() >= s.votingFloor());

    private static final Invariant[] ALL = values();

    private final String rule;

    @SuppressWarnings("ImmutableEnumChecker") // each is a stateless lambda over the snapshot it is given
    private final Predicate<SelfCheck> holds;

    Invariant(String rule, Predicate<SelfCheck> holds) {
        this.rule = rule;
        this.holds = holds;
    }

    /** The invariant in words. */
    public String rule() {
        return rule;
    }

    boolean holds(SelfCheck state) {
        return holds.test(state);
    }

    /** Throws for the first invariant {@code state} breaks; {@code replica} and {@code input} name where. */
    static void checkAll(SelfCheck state, Object replica, Object input) {
        for (Invariant i : ALL) {
            if (!i.holds(state)) {
                throw new BrokenInvariantException(i, replica + " after " + input + ": " + state);
            }
        }
    }
}
