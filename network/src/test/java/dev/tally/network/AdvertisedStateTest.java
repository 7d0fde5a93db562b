package dev.tally.network;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import dev.tally.network.proto.Net;
import dev.tally.protocol.CommitQC;
import dev.tally.protocol.DecodeException;
import dev.tally.protocol.proto.Validator;
import java.util.Arrays;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class AdvertisedStateTest {
    private static final CommitQC QC = TestNets.blocks(4).get(3).justification();

    private static Net.BlockStoreState advertised(long first, Validator.CommitQCV2 qc) {
        return Net.BlockStoreState.newBuilder()
                .setFirst(first)
                .setLastQc(qc.toByteString())
                .build();
    }

    private static Validator.CommitQCV2 qcProto(CommitQC qc) throws Exception {
        return Validator.CommitQCV2.parseFrom(dev.tally.protocol.Codec.encode(qc));
    }

    /** The same QC with its aggregate signature replaced by bytes that are no point of G1. */
    private static Validator.CommitQCV2 withGarbageSignature() throws Exception {
        Validator.CommitQCV2 p = qcProto(QC);
        byte[] junk = new byte[p.getSig().getBls12381().size()];
        Arrays.fill(junk, (byte) 0xff); // the infinity flag with other bits set: no encoding of a point
        return p.toBuilder()
                .setSig(Validator.AggregateSignature.newBuilder().setBls12381(ByteString.copyFrom(junk)))
                .build();
    }

    @Test
    void theRangeIsReadWithoutDecodingTheQcsPoints() throws Exception {
        AdvertisedState s = AdvertisedState.parse(advertised(1, withGarbageSignature()));
        assertThat(s.contains(0)).isFalse();
        assertThat(s.contains(1)).isTrue();
        assertThat(s.contains(3)).isTrue();
        assertThat(s.contains(4)).isFalse();
        // Block sync decodes it before acting on it, and refuses it then.
        assertThatThrownBy(s::decode).isInstanceOf(DecodeException.class);
    }

    @Test
    void aValidAdvertisementDecodesToTheStateSent() throws Exception {
        AdvertisedState s = AdvertisedState.parse(advertised(0, qcProto(QC)));
        assertThat(s.decode()).isEqualTo(new BlockStoreState(0, Optional.of(QC)));
        assertThat(s.decode()).isSameAs(s.decode());
        AdvertisedState none = AdvertisedState.parse(
                Net.BlockStoreState.newBuilder().setFirst(5).build());
        assertThat(none.hasQc()).isFalse();
        assertThat(none.contains(4)).isFalse();
        assertThat(none.contains(5)).isFalse();
        assertThat(none.decode()).isEqualTo(BlockStoreState.empty(5));
    }

    @Test
    void aRangeThatCannotBeIsRefusedOnReceipt() throws Exception {
        assertThatThrownBy(() -> AdvertisedState.parse(advertised(4, qcProto(QC))))
                .isInstanceOf(DecodeException.class)
                .hasMessageContaining("below the first");
        assertThatThrownBy(() -> AdvertisedState.parse(Net.BlockStoreState.newBuilder()
                        .setFirst(0)
                        .setLastQc(ByteString.copyFrom(new byte[] {(byte) 0xff}))
                        .build()))
                .isInstanceOf(DecodeException.class)
                .hasMessageContaining("last_qc");
        assertThatThrownBy(() -> AdvertisedState.parse(
                        advertised(0, qcProto(QC).toBuilder().clearMsg().build())))
                .isInstanceOf(DecodeException.class)
                .hasMessageContaining("last_qc.msg.proposal.number");
    }
}
