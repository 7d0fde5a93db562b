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
    BAD_REPROPOSAL;

    public String cliName() {
        return name().toLowerCase().replace('_', '-');
    }

    public static Byzantine fromCli(String s) {
        for (Byzantine b : values()) {
            if (b.cliName().equals(s)) {
                return b;
            }
        }
        throw new IllegalArgumentException("unknown Byzantine kind '" + s + "'; expected one of "
                + java.util.Arrays.stream(values()).map(Byzantine::cliName).toList());
    }
}
