package dev.tally.node.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tally.protocol.Codec;
import dev.tally.protocol.FinalBlock;
import dev.tally.protocol.Payload;
import dev.tally.protocol.TestChain;
import java.io.ByteArrayOutputStream;
import java.util.Arrays;
import java.util.List;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

class BlockFeedTest {
    static final TestChain CHAIN = new TestChain(4);

    static FinalBlock block(long n, String payload) {
        Payload p = TestChain.payload(payload);
        return new FinalBlock(p, CHAIN.commitQc(n + 3, n, p));
    }

    static byte[] feed(FinalBlock... blocks) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (FinalBlock b : blocks) {
            BlockFeed.append(
                    out, Codec.encode(b), OptionalLong.of(1_700_000_000_000L + b.number()), OptionalLong.of(7));
        }
        return out.toByteArray();
    }

    @Test
    void blocksComeBackAsTheyWentWithWhenTheyBecameFinal() throws Exception {
        FinalBlock a = block(5, "first");
        FinalBlock b = block(6, "second, a little longer");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        BlockFeed.append(out, Codec.encode(a), OptionalLong.of(1_700_000_000_123L), OptionalLong.of(42));
        BlockFeed.append(out, Codec.encode(b), OptionalLong.empty(), OptionalLong.empty());
        byte[] body = out.toByteArray();
        int first = Codec.encode(a).length;
        assertThat(body)
                .hasSize(2 * (BlockFeed.PREFIX_SIZE + BlockFeed.FINALIZATION_SIZE) + first + Codec.encode(b).length);
        assertThat(Arrays.copyOf(body, 4)).containsExactly(0, 0, (first >>> 8) & 0xff, first & 0xff);

        List<BlockFeed.Entry> entries = BlockFeed.decode(body);
        assertThat(entries)
                .containsExactly(
                        new BlockFeed.Entry(a, OptionalLong.of(1_700_000_000_123L), OptionalLong.of(42)),
                        new BlockFeed.Entry(b, OptionalLong.empty(), OptionalLong.empty()));
        entries.getFirst().block().verify(CHAIN.epoch);
    }

    @Test
    void anEmptyBodyHoldsNoBlock() throws Exception {
        assertThat(BlockFeed.decode(new byte[0])).isEmpty();
    }

    @Test
    void aTruncatedLengthPrefixIsNamedByItsBlock() {
        byte[] one = feed(block(1, "x"));
        byte[] body = Arrays.copyOf(feed(block(1, "x"), block(2, "y")), one.length + 3);
        assertThatThrownBy(() -> BlockFeed.decode(body))
                .isInstanceOf(BlockFeed.MalformedFeedException.class)
                .hasMessage("block 1 (at byte " + one.length
                        + "): the body ends inside its length prefix, after 3 of 4 bytes");
    }

    @Test
    void aBlockCutShortIsNamedWithWhatTheBodyHolds() {
        byte[] whole = feed(block(1, "x"));
        byte[] body = Arrays.copyOf(whole, whole.length - 1);
        int size = whole.length - BlockFeed.PREFIX_SIZE - BlockFeed.FINALIZATION_SIZE;
        assertThatThrownBy(() -> BlockFeed.decode(body))
                .isInstanceOf(BlockFeed.MalformedFeedException.class)
                .hasMessage("block 0 (at byte 0): its prefix says " + size + " bytes and 12 follow, the body has "
                        + (body.length - 4) + " more");
    }

    @Test
    void bytesThatAreNoBlockAreNamedByTheirIndex() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(feed(block(1, "x")));
        int at = out.size();
        BlockFeed.append(out, new byte[] {(byte) 0xff, 1, 2}, OptionalLong.empty(), OptionalLong.empty());
        assertThatThrownBy(() -> BlockFeed.decode(out.toByteArray()))
                .isInstanceOf(BlockFeed.MalformedFeedException.class)
                .hasMessageStartingWith("block 1 (at byte " + at + "): ");
    }
}
