package dev.tally.protocol;

/** What a commit vote names: a block number and the hash of its payload. */
public record BlockHeader(long number, PayloadHash payload) {
    public BlockHeader {
        if (number < 0) {
            throw new IllegalArgumentException("block numbers are unsigned; got " + number);
        }
    }

    @Override
    public String toString() {
        return "block " + number + " " + payload;
    }
}
