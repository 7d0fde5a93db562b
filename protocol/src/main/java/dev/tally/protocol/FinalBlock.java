package dev.tally.protocol;

/** A finalized block: its payload and the commit QC that made it final. Verifiable by anyone with the committee. */
public record FinalBlock(Payload payload, CommitQC justification) {
    public long number() {
        return justification.header().number();
    }

    public BlockHeader header() {
        return justification.header();
    }

    /** A final block is self-verifying: the payload matches the QC's header and the QC is valid. */
    public void verify(Epoch epoch) throws InvalidMessageException {
        verify(epoch, QcVerifier.DIRECT);
    }

    /** As {@link #verify(Epoch)}, checking the QC through {@code qcs} (which may have seen it before). */
    public void verify(Epoch epoch, QcVerifier qcs) throws InvalidMessageException {
        InvalidMessageException.check(
                payload.hash().equals(header().payload()),
                "block " + number() + " payload hash " + payload.hash() + " does not match its commit QC's "
                        + header().payload());
        qcs.verify(justification, epoch);
    }

    @Override
    public String toString() {
        return "FinalBlock(" + number() + ", " + payload + ")";
    }
}
