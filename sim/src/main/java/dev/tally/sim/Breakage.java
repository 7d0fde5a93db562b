package dev.tally.sim;

/**
 * Deliberately broken replicas for the checker's self-check. A broken node counts as honest, so the checker
 * must notice what it does wrong; each breakage models a bug a real implementation could have. Some show only next
 * to a faulty validator that tempts them ({@link #needs()}).
 */
public enum Breakage {
    NONE(Byzantine.NONE),
    /** Sends a second, different commit vote in a view it already voted in. */
    VOTES_TWICE(Byzantine.NONE),
    /** Builds a CommitQC as soon as it holds one vote less than the quorum weight, and announces it. */
    QC_BELOW_QUORUM(Byzantine.NONE),
    /** As leader, proposes a new block where the subquorum high vote requires a reproposal. */
    IGNORES_REPROPOSAL_RULE(Byzantine.NONE),
    /** Lets its votes leave before the state that records them is persisted. */
    VOTES_BEFORE_PERSISTING(Byzantine.NONE),
    /** Takes a proposal from any validator as if its view's leader had sent it. */
    ACCEPTS_NON_LEADER_PROPOSALS(Byzantine.NON_LEADER_PROPOSER),
    /** Does not check the signatures of proposals and new-view messages. */
    SKIPS_SIGNATURE_CHECK(Byzantine.FORGED_SIGNATURES),
    /** Does not verify the QCs it receives. */
    SKIPS_QC_VERIFICATION(Byzantine.FORGED_QC),
    /** Votes commit for the view's proposal even after it sent its timeout vote in that view. */
    COMMITS_AFTER_TIMEOUT(Byzantine.NONE),
    /** Takes a weighted draw of 0 for the last leader instead of the first (an off-by-one at the draw's edge). */
    WRONG_WEIGHTED_LEADER(Byzantine.NONE),
    /**
     * Stops voting (commit and timeout) once a block is final after the network stabilised (a replica stuck after
     * its first commit);
     * next to a withholder the committee is then one vote short for good.
     */
    STALLS_AFTER_A_BLOCK(Byzantine.WITHHOLDER);

    private final Byzantine needs;

    Breakage(Byzantine needs) {
        this.needs = needs;
    }

    /** The faulty behaviour that must be present for this breakage to make a difference. */
    public Byzantine needs() {
        return needs;
    }

    public String cliName() {
        return CliNames.of(this);
    }
}
