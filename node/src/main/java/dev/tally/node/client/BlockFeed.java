package dev.tally.node.client;

import dev.tally.protocol.Codec;
import dev.tally.protocol.DecodeException;
import dev.tally.protocol.FinalBlock;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;

/**
 * The body of {@code GET /blocks} ({@code Content-Type: application/octet-stream}): final blocks in order, each a
 * 4-byte big-endian length, the block in its canonical encoding (the reference's protobuf {@code Block}: payload and
 * commit QC, checkable offline against the genesis' validators), then when the node's replica finalized it: an 8-byte
 * big-endian signed number, Unix milliseconds, and a 4-byte one, the milliseconds from the proposal to that moment;
 * each -1 when the node does not know (it fetched the block, or finalized it long ago). No count and no trailer: the
 * body ends after the last block; an empty body holds none.
 */
public final class BlockFeed {
    /** The bytes of each block's length prefix. */
    public static final int PREFIX_SIZE = 4;
    /** The bytes after each block: when it became final, and how long after its proposal. */
    public static final int FINALIZATION_SIZE = 12;

    /**
     * One block of a feed, and, if the node knows, when its replica finalized it (Unix milliseconds) and how long that
     * took from the proposal.
     */
    public record Entry(FinalBlock block, OptionalLong finalAtMillis, OptionalLong proposalToFinalMillis) {}

    /** A body that is not a feed: the message names the block (by index) and the byte where it went wrong. */
    public static final class MalformedFeedException extends IOException {
        private static final long serialVersionUID = 1L;

        MalformedFeedException(String message) {
            super(message, null);
        }
    }

    private BlockFeed() {}

    /** Appends one block, already in its canonical encoding ({@link Codec#encode(FinalBlock)}). */
    public static void append(
            ByteArrayOutputStream out,
            byte[] encodedBlock,
            OptionalLong finalAtMillis,
            OptionalLong proposalToFinalMillis) {
        out.writeBytes(
                ByteBuffer.allocate(PREFIX_SIZE).putInt(encodedBlock.length).array());
        out.writeBytes(encodedBlock);
        out.writeBytes(ByteBuffer.allocate(FINALIZATION_SIZE)
                .putLong(finalAtMillis.orElse(-1))
                .putInt((int) Math.min(Integer.MAX_VALUE, proposalToFinalMillis.orElse(-1)))
                .array());
    }

    /**
     * The blocks of a body, in order; each decoded, not verified (a client that does not trust the node checks each
     * with {@link FinalBlock#verify(dev.tally.protocol.Epoch)}).
     */
    public static List<Entry> decode(byte[] body) throws MalformedFeedException {
        ByteBuffer in = ByteBuffer.wrap(body);
        List<Entry> blocks = new ArrayList<>();
        while (in.hasRemaining()) {
            int index = blocks.size();
            int at = in.position();
            if (in.remaining() < PREFIX_SIZE) {
                throw new MalformedFeedException("block " + index + " (at byte " + at
                        + "): the body ends inside its length prefix, after " + in.remaining() + " of " + PREFIX_SIZE
                        + " bytes");
            }
            long size = Integer.toUnsignedLong(in.getInt());
            if (size + FINALIZATION_SIZE > in.remaining()) {
                throw new MalformedFeedException("block " + index + " (at byte " + at + "): its prefix says " + size
                        + " bytes and " + FINALIZATION_SIZE + " follow, the body has " + in.remaining() + " more");
            }
            byte[] encoded = new byte[(int) size];
            in.get(encoded);
            long finalAt = in.getLong();
            long proposalToFinal = in.getInt();
            try {
                blocks.add(new Entry(Codec.decodeFinalBlock(encoded), known(finalAt), known(proposalToFinal)));
            } catch (DecodeException e) {
                throw new MalformedFeedException("block " + index + " (at byte " + at + "): " + e.getMessage());
            }
        }
        return blocks;
    }

    private static OptionalLong known(long n) {
        return n < 0 ? OptionalLong.empty() : OptionalLong.of(n);
    }
}
