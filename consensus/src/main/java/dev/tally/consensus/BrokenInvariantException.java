package dev.tally.consensus;

/** A replica's state broke one of its {@link Invariant}s: a bug in the replica, never a peer's fault. */
public final class BrokenInvariantException extends IllegalStateException {
    private final Invariant invariant;

    BrokenInvariantException(Invariant invariant, String where) {
        super("replica invariant " + invariant + " broken (" + invariant.rule() + "): " + where);
        this.invariant = invariant;
    }

    public Invariant invariant() {
        return invariant;
    }
}
