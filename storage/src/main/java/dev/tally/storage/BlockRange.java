package dev.tally.storage;

/**
 * The numbers of the final blocks a store holds: {@code first..last}, both inclusive, with no gap in between.
 * An empty store has no range (see {@link BlockStore#range()}).
 */
public record BlockRange(long first, long last) {
    public BlockRange {
        if (first < 0 || first > last) {
            throw new IllegalArgumentException(
                    "invalid block range " + first + ".." + last + ": need 0 <= first <= last");
        }
    }

    /** Whether block {@code number} lies in this range. */
    public boolean contains(long number) {
        return number >= first && number <= last;
    }

    /** How many blocks the range holds. */
    public long size() {
        return last - first + 1;
    }

    @Override
    public String toString() {
        return "blocks " + first + ".." + last;
    }
}
