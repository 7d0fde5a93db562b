package dev.tally.sim;

/** What the faulty validators of a scenario do (besides twins, which run honest code under a shared key). */
public enum Byzantine {
    /** No faulty validator besides twins. */
    NONE,
    /** Leads with two different proposals per view, each sent to half of the nodes. */
    EQUIVOCATING_LEADER,
    /** Votes commit for two different blocks in each view. */
    DOUBLE_VOTER,
    /** Never sends its commit and timeout votes. */
    WITHHOLDER,
    /** Sends corrupted bytes, wrong signatures and foreign-genesis copies of its messages. */
    MALFORMED,
    /** Reproposes where it must propose a new block, and proposes a new block where it must repropose. */
    BAD_REPROPOSAL,
    /** Proposes a block of its own, signed by itself, in every view it enters (led by someone else or not). */
    NON_LEADER_PROPOSER,
    /**
     * Sends messages in other validators' names with its own signature: the view leader's proposal for another
     * block, other validators' commit votes for it, timeout votes and new-view messages.
     */
    FORGED_SIGNATURES,
    /**
     * Sends new-view messages and timeout votes carrying QCs that do not verify: a signer added or dropped, the
     * aggregate of another message (a later view, another block), votes below the quorum.
     */
    FORGED_QC,
    /** Re-sends messages it saw in earlier views, and signs its own votes again for views still to come. */
    REPLAY;

    public String cliName() {
        return CliNames.of(this);
    }

    public static Byzantine fromCli(String s) {
        return CliNames.parse(Byzantine.class, s, "Byzantine kind");
    }
}
