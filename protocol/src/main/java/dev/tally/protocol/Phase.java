package dev.tally.protocol;

/** Where a replica stands within its current view. */
public enum Phase {
    /** May still vote commit for a proposal of this view. */
    PREPARE,
    /** Has voted commit in this view. */
    COMMIT,
    /** Gave up on this view; will not vote commit in it. */
    TIMEOUT
}
