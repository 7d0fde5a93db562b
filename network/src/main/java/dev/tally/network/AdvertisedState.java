package dev.tally.network;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.tally.protocol.CommitQC;
import dev.tally.protocol.DecodeException;
import dev.tally.protocol.proto.Validator;
import java.util.Optional;

/**
 * A gossip peer's block-store advertisement as it arrived: the range of blocks it names, read from the protobuf
 * alone, and its commit QC still encoded. Decoding the QC decompresses and subgroup-checks its aggregate signature
 * (tens of microseconds); every peer advertises every block, so doing it on receipt cost one decode per peer per block
 * (10 % of a validator's CPU with six, growing with the number of peers), while block sync needs a QC only when it
 * fetches from that peer. {@link #decode} does it then, once per advertisement.
 */
final class AdvertisedState {
    private final long first;
    private final long last;
    /** The encoded commit QC of the last block, or null if the peer stores none. */
    private final ByteString lastQc;

    private volatile BlockStoreState decoded;

    private AdvertisedState(long first, long last, ByteString lastQc) {
        this.first = first;
        this.last = last;
        this.lastQc = lastQc;
    }

    /**
     * Reads an advertisement: its range from the protobuf fields (a QC that does not parse, or names a block below
     * {@code first}, is refused now), its QC's points left undecoded.
     */
    static AdvertisedState parse(dev.tally.network.proto.Net.BlockStoreState p) throws DecodeException {
        NetCodec.require(p.hasFirst(), "BlockStoreState.first");
        long first = p.getFirst();
        if (first < 0) {
            throw new DecodeException("BlockStoreState.first: " + Long.toUnsignedString(first) + " is out of range");
        }
        if (!p.hasLastQc()) {
            return new AdvertisedState(first, first - 1, null);
        }
        Validator.CommitQCV2 qc;
        try {
            qc = Validator.CommitQCV2.parseFrom(p.getLastQc());
        } catch (InvalidProtocolBufferException e) {
            throw new DecodeException("BlockStoreState.last_qc: not a valid protobuf encoding: " + e.getMessage(), e);
        }
        NetCodec.require(
                qc.hasMsg()
                        && qc.getMsg().hasProposal()
                        && qc.getMsg().getProposal().hasNumber(),
                "BlockStoreState.last_qc.msg.proposal.number");
        long last = qc.getMsg().getProposal().getNumber();
        if (last < first) {
            throw new DecodeException(
                    "BlockStoreState: last block " + Long.toUnsignedString(last) + " is below the first " + first);
        }
        return new AdvertisedState(first, last, p.getLastQc());
    }

    boolean contains(long number) {
        return number >= first && number <= last;
    }

    /** Whether the peer keeps blocks as old as {@code number}: it has not pruned them, whether it stores it yet or not. */
    boolean keeps(long number) {
        return number >= first;
    }

    boolean hasQc() {
        return lastQc != null;
    }

    /**
     * The advertisement decoded (its QC's points decompressed and checked, not its signature), once; a QC that does
     * not decode, or certifies another block than the one its protobuf named, is refused.
     */
    BlockStoreState decode() throws DecodeException {
        BlockStoreState d = decoded;
        if (d == null) {
            Optional<CommitQC> qc = lastQc == null
                    ? Optional.empty()
                    : Optional.of(dev.tally.protocol.Codec.decodeCommitQc(lastQc.toByteArray()));
            d = new BlockStoreState(first, qc);
            if (d.last() != last) {
                throw new DecodeException("BlockStoreState: its QC certifies block " + d.last() + ", not " + last);
            }
            decoded = d;
        }
        return d;
    }

    @Override
    public String toString() {
        return "blocks [" + first + ", " + last + "]";
    }
}
