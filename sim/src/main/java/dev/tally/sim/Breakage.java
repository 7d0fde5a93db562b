package dev.tally.sim;

/**
 * Deliberately broken replicas for the checker's self-check. A broken node counts as honest, so the checker
 * must notice what it does wrong; each breakage models a bug a real implementation could have.
 */
public enum Breakage {
    NONE,
    /** Sends a second, different commit vote in a view it already voted in. */
    VOTES_TWICE,
    /** Builds a CommitQC as soon as it holds one vote less than the quorum weight, and announces it. */
    QC_BELOW_QUORUM,
    /** As leader, proposes a new block where the subquorum high vote requires a reproposal. */
    IGNORES_REPROPOSAL_RULE,
    /** Lets its votes leave before the state that records them is persisted. */
    VOTES_BEFORE_PERSISTING;

    public String cliName() {
        return name().toLowerCase().replace('_', '-');
    }
}
