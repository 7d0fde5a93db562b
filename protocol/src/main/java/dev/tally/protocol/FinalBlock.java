package dev.tally.protocol;

/** A finalized block: its payload and the commit QC that made it final. Verifiable by anyone with the committee. */
public record FinalBlock(Payload payload, CommitQC justification) {
    public long number() {
        return justification.header().number();
    }

    public BlockHeader header() {
        return justification.header();
    }

    @Override
    public String toString() {
        return "FinalBlock(" + number() + ", " + payload + ")";
    }
}
