package dev.tally.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import dev.tally.protocol.proto.Validator;
import java.util.List;
import java.util.Optional;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

class CodecTest {
    static final List<Signed<? extends ChonkyMessage>> MESSAGES = List.of(
            Signed.sign(ReferenceVectors.KEYS.get(0), ReferenceVectors.replicaCommit()),
            Signed.sign(ReferenceVectors.KEYS.get(1), ReferenceVectors.replicaTimeout()),
            Signed.sign(ReferenceVectors.KEYS.get(2), ReferenceVectors.replicaNewView()),
            Signed.sign(ReferenceVectors.KEYS.get(3), ReferenceVectors.leaderProposal()),
            Signed.sign(
                    ReferenceVectors.KEYS.get(4), new LeaderProposal(Optional.empty(), ReferenceVectors.timeoutQc())),
            Signed.sign(
                    ReferenceVectors.KEYS.get(0),
                    new ReplicaTimeout(ReferenceVectors.timeoutView(), Optional.empty(), Optional.empty())));

    @Test
    void signedMessagesRoundTrip() throws Exception {
        for (Signed<? extends ChonkyMessage> s : MESSAGES) {
            byte[] bytes = Codec.encode(s);
            Signed<ChonkyMessage> back = Codec.decodeSigned(bytes);
            assertThat(back).isEqualTo(s);
            assertThat(Codec.encode(back)).isEqualTo(bytes);
            assertThat(back.verifySignature()).isTrue();
        }
    }

    @Test
    void parsingTellsKindViewAndAuthorBeforeTheContentIsDecoded() throws Exception {
        for (Signed<? extends ChonkyMessage> s : MESSAGES) {
            Codec.ParsedSigned parsed = Codec.parseSigned(Codec.encode(s));
            assertThat(parsed.kind()).isEqualTo(s.message().getClass());
            assertThat(parsed.view()).isEqualTo(s.message().view());
            assertThat(parsed.author()).isEqualTo(s.key());
            assertThat(parsed.decode()).isEqualTo(s);
        }
        // A bad signature is not decoded by parsing, and refused by decoding.
        var proto = Validator.Signed.parseFrom(Codec.encode(MESSAGES.get(0))).toBuilder();
        proto.getSigBuilder().setBls12381(ByteString.copyFrom(new byte[48]));
        Codec.ParsedSigned parsed = Codec.parseSigned(proto.build().toByteArray());
        assertThatThrownBy(parsed::decode).isInstanceOf(DecodeException.class).hasMessageContaining("Signed.sig");
        var noView = Validator.Signed.parseFrom(Codec.encode(MESSAGES.get(0))).toBuilder();
        noView.getMsgBuilder()
                .getConsensusBuilder()
                .getV2Builder()
                .getReplicaCommitBuilder()
                .clearView();
        assertThatThrownBy(() -> Codec.parseSigned(noView.build().toByteArray()))
                .isInstanceOf(DecodeException.class)
                .hasMessageContaining("Signed.msg.consensus.v2.replica_commit.view: required field is missing");
    }

    @Test
    void genesisBlockAndStateRoundTrip() throws Exception {
        Genesis g = ReferenceVectors.genesis();
        assertThat(Codec.decodeGenesis(Codec.encode(g))).isEqualTo(g);
        FinalBlock b = new FinalBlock(ReferenceVectors.payload(), ReferenceVectors.commitQc());
        assertThat(Codec.decodeFinalBlock(Codec.encode(b))).isEqualTo(b);
        ReplicaState st = new ReplicaState(
                8,
                9169,
                Phase.TIMEOUT,
                Optional.of(ReferenceVectors.replicaCommit()),
                Optional.of(ReferenceVectors.commitQc()),
                Optional.of(ReferenceVectors.timeoutQc()),
                List.of(new Proposal(7728, ReferenceVectors.payload())));
        assertThat(Codec.decodeReplicaState(Codec.encode(st))).isEqualTo(st);
        assertThat(Codec.decodeReplicaState(Codec.encode(ReplicaState.initial(0))))
                .isEqualTo(ReplicaState.initial(0));
    }

    @Test
    void missingFieldIsNamed() {
        var proto = Validator.Genesis.newBuilder()
                .setChainId(1)
                .setForkNumber(0)
                .setProtocolVersion(2)
                .build();
        assertThatThrownBy(() -> Codec.decodeGenesis(proto.toByteArray()))
                .isInstanceOf(DecodeException.class)
                .hasMessage("Genesis.first_block: required field is missing");
    }

    @Test
    void nestedMissingFieldIsNamed() throws Exception {
        var signed = Validator.Signed.parseFrom(Codec.encode(MESSAGES.get(0))).toBuilder();
        signed.getMsgBuilder()
                .getConsensusBuilder()
                .getV2Builder()
                .getReplicaCommitBuilder()
                .getViewBuilder()
                .clearEpoch();
        assertThatThrownBy(() -> Codec.decodeSigned(signed.build().toByteArray()))
                .hasMessage("Signed.msg.consensus.v2.replica_commit.view.epoch: required field is missing");
    }

    @Test
    void unknownFieldsAreRejected() {
        byte[] good = Codec.encode(ReferenceVectors.genesis());
        byte[] withUnknown = new byte[good.length + 3];
        System.arraycopy(good, 0, withUnknown, 0, good.length);
        withUnknown[good.length] = (byte) 0x98; // tag of field 99, wire type varint: 99 << 3 = 0x318
        withUnknown[good.length + 1] = 0x06;
        withUnknown[good.length + 2] = 1;
        assertThatThrownBy(() -> Codec.decodeGenesis(withUnknown)).hasMessageContaining("unknown field number(s) [99]");
    }

    @Test
    void badKeysAndBitmapsAreNamed() throws Exception {
        var signed = Validator.Signed.parseFrom(Codec.encode(MESSAGES.get(0))).toBuilder();
        signed.getKeyBuilder().setBls12381(ByteString.copyFrom(new byte[96]));
        assertThatThrownBy(() -> Codec.decodeSigned(signed.build().toByteArray()))
                .hasMessageContaining("Signed.key");

        var qc = Validator.CommitQCV2.parseFrom(Codec.encode(ReferenceVectors.commitQc())).toBuilder();
        qc.getSignersBuilder().setSize(1_000_000);
        assertThatThrownBy(() -> Codec.decodeCommitQc(qc.build().toByteArray()))
                .hasMessageContaining("CommitQC.signers");
    }

    @Test
    void aDecodedSignatureLeavesItsSubgroupToItsVerificationOrItsAggregate() throws Exception {
        TestChain chain = new TestChain(6);
        ReplicaCommit vote = chain.vote(5, 2, TestChain.payload("p"));
        Signed<ReplicaCommit> bad = chain.signedWithSmallOrderPart(1, vote, false);
        assertThat(bad.message()).isEqualTo(vote);
        assertThat(bad.verifySignature()).isFalse();
        // Any other message decodes with such a signature too, and fails its verification all the same.
        Signed<ReplicaTimeout> timeout = chain.signedWithSmallOrderPart(
                1, new ReplicaTimeout(chain.view(5), Optional.of(vote), Optional.empty()), false);
        assertThat(timeout.verifySignature()).isFalse();
        Signed<ReplicaNewView> newView = chain.signedWithSmallOrderPart(
                1, new ReplicaNewView(chain.commitQc(4, 1, TestChain.payload("q"))), false);
        assertThat(newView.verifySignature()).isFalse();
        // A QC's aggregate is still refused when decoded: a QC can be taken without a pairing check.
        var qc = Validator.CommitQCV2.parseFrom(Codec.encode(chain.commitQc(4, 1, TestChain.payload("q")))).toBuilder();
        qc.getSigBuilder().setBls12381(ByteString.copyFrom(bad.signature().bytes()));
        assertThatThrownBy(() -> Codec.decodeCommitQc(qc.build().toByteArray()))
                .isInstanceOf(DecodeException.class)
                .hasMessageContaining("not in the G1 subgroup");
    }

    @Test
    void timeoutQcVotesAreSortedCanonically() throws Exception {
        TestChain chain = new TestChain(6);
        Payload p = TestChain.payload("x");
        List<ReplicaTimeout> votes = new java.util.ArrayList<>();
        for (int i = 0; i < 6; i++) {
            Optional<ReplicaCommit> hv = i % 2 == 0 ? Optional.empty() : Optional.of(chain.vote(4, i, p));
            votes.add(new ReplicaTimeout(chain.view(5), hv, Optional.empty()));
        }
        TimeoutQC qc = chain.timeoutQc(5, votes);
        assertThat(qc.votes().get(0).message().highVote()).isEmpty(); // absent first
        assertThat(qc.votes().stream()
                        .skip(1)
                        .map(v ->
                                v.message().highVote().orElseThrow().proposal().number()))
                .isSorted();
        // Another order on the wire decodes to the same canonical QC, so hashes do not depend on the sender.
        var nv = Validator.Signed.parseFrom(Codec.encode(chain.sign(0, new ReplicaNewView(qc)))).toBuilder();
        var wire = nv.getMsgBuilder()
                .getConsensusBuilder()
                .getV2Builder()
                .getReplicaNewViewBuilder()
                .getJustificationBuilder()
                .getTimeoutQcBuilder();
        var msgs = new java.util.ArrayList<>(wire.getMsgsList());
        var signers = new java.util.ArrayList<>(wire.getSignersList());
        wire.clearMsgs().addAllMsgs(msgs.reversed()).clearSigners().addAllSigners(signers.reversed());
        Signed<ChonkyMessage> back = Codec.decodeSigned(nv.build().toByteArray());
        assertThat(((ReplicaNewView) back.message()).justification()).isEqualTo(qc);
    }

    @Property(tries = 2000)
    void randomBytesNeverEscapeAsAnythingButDecodeException(@ForAll @Size(max = 300) byte[] bytes) {
        expectOnlyDecodeException(() -> Codec.decodeSigned(bytes));
        expectOnlyDecodeException(() -> Codec.decodeFinalBlock(bytes));
        expectOnlyDecodeException(() -> Codec.decodeReplicaState(bytes));
        expectOnlyDecodeException(() -> Codec.decodeGenesis(bytes));
    }

    @Property(tries = 2000)
    void mutatedMessagesNeverEscapeAsAnythingButDecodeException(
            @ForAll int message, @ForAll int position, @ForAll byte value) {
        byte[] bytes = Codec.encode(MESSAGES.get(Math.floorMod(message, MESSAGES.size())));
        bytes[Math.floorMod(position, bytes.length)] = value;
        expectOnlyDecodeException(() -> Codec.decodeSigned(bytes));
    }

    interface Decoding {
        Object run() throws DecodeException;
    }

    static void expectOnlyDecodeException(Decoding d) {
        try {
            d.run();
        } catch (DecodeException expected) {
            assertThat(expected.getMessage()).isNotBlank();
        }
    }
}
