package dev.tally.testbed.chaos;

/** The kinds of fault a chaos run injects. */
public enum Fault {
    /** SIGKILL of 1..f validators, restart after a while. */
    KILL,
    /** SIGSTOP of a validator, SIGCONT after a while. */
    PAUSE,
    /** A validator cut off from all others by the proxies, then healed. */
    ISOLATE,
    /** Every link delayed. */
    DELAY,
    /** Connections dropped at random. */
    LOSS,
    /** A validator killed, its data directory emptied, restarted: it re-syncs through block sync. */
    WIPE,
    /** A validator restarted on a read-only data directory: it must refuse to run; then restarted normally. */
    READONLY,
    /** The disk of a running validator fills up (a small tmpfs): it must stop; then freed and restarted. */
    DISKFULL,
    /** f + 1 validators killed at once: the chain must halt, and resume when they return. */
    BEYOND_F,
    /** The committee split in two halves, neither a quorum: the chain must halt, and resume on heal. */
    SPLIT
}
