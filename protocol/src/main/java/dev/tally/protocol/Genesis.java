package dev.tally.protocol;

import java.util.Objects;
import java.util.Optional;

/**
 * What a chain is: its ids, the first block consensus finalizes, the protocol version, and the validator
 * schedule (absent when the execution layer supplies it). Its hash is cached: it names every view.
 */
public final class Genesis {
    /** The only protocol version this implementation speaks (ChonkyBFT v2). */
    public static final int PROTOCOL_VERSION = 2;

    private final long chainId;
    private final long forkNumber;
    private final long firstBlock;
    private final int protocolVersion;
    private final Optional<ValidatorSchedule> schedule;
    private final GenesisHash hash;

    public Genesis(
            long chainId, long forkNumber, long firstBlock, int protocolVersion, Optional<ValidatorSchedule> schedule) {
        if (protocolVersion != PROTOCOL_VERSION) {
            throw new IllegalArgumentException("protocol_version " + Integer.toUnsignedString(protocolVersion)
                    + " is not supported; this node speaks protocol version " + PROTOCOL_VERSION);
        }
        if (firstBlock < 0) {
            throw new IllegalArgumentException("first_block " + Long.toUnsignedString(firstBlock) + " is out of range");
        }
        this.chainId = chainId;
        this.forkNumber = forkNumber;
        this.firstBlock = firstBlock;
        this.protocolVersion = protocolVersion;
        this.schedule = Objects.requireNonNull(schedule);
        this.hash = new GenesisHash(dev.tally.crypto.Keccak256.of(Codec.encode(this)));
    }

    public long chainId() {
        return chainId;
    }

    public long forkNumber() {
        return forkNumber;
    }

    public long firstBlock() {
        return firstBlock;
    }

    public int protocolVersion() {
        return protocolVersion;
    }

    public Optional<ValidatorSchedule> schedule() {
        return schedule;
    }

    public GenesisHash hash() {
        return hash;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Genesis g && g.hash.equals(hash);
    }

    @Override
    public int hashCode() {
        return hash.hashCode();
    }

    @Override
    public String toString() {
        return "Genesis(chain " + chainId + ", fork " + forkNumber + ", first block " + firstBlock + ", " + hash + ")";
    }
}
