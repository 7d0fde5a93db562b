package dev.tally.sim;

/** The order in which the network delivers messages, beyond random delays. */
public enum Delivery {
    /** Each message independently delayed (see {@link Faults}). */
    RANDOM,
    /**
     * Whatever would end view v at a replica (the commit vote that completes its CommitQC, a new-view message for
     * v + 1) is held back until the proposal of v + 1 reached it; the leader of v + 1 is not held back. A replica thus
     * sees the next view's proposal before it can store that proposal's predecessor (issue 14, part 1). A held
     * message goes anyway after {@link NetworkModel#HOLD_LIMIT_MILLIS}, in case no proposal comes.
     */
    PROPOSAL_BEFORE_QC;

    public String cliName() {
        return CliNames.of(this);
    }

    public static Delivery fromCli(String s) {
        return CliNames.parse(Delivery.class, s, "delivery");
    }
}
