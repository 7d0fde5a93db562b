package dev.tally.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Message;
import dev.tally.protocol.proto.Std;
import dev.tally.protocol.proto.Validator;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class UnknownFieldsTest {
    @Test
    void anUnknownFieldInsideAnyMessageFieldOfTheSchemaIsRefusedWithItsPath() throws Exception {
        List<UnknownFieldProbe> probes = new ArrayList<>(UnknownFieldProbe.everyMessageField(Validator.class));
        probes.addAll(UnknownFieldProbe.everyMessageField(Std.class));
        assertThat(probes)
                .as("every message-typed field of validator.proto, oneof members and repeated fields included")
                .hasSizeGreaterThan(40)
                .extracting(UnknownFieldProbe::field)
                .contains(
                        "zksync.roles.validator.TimeoutQCV2.msgs",
                        "zksync.roles.validator.ProposalJustificationV2.commit_qc",
                        "zksync.roles.validator.PhaseV2.timeout");
        for (UnknownFieldProbe probe : probes) {
            Message parsed = probe.type().getParserForType().parseFrom(probe.bytes());
            String name = probe.type().getDescriptorForType().getName();
            assertThatThrownBy(() -> UnknownFields.reject(parsed, name))
                    .as(probe.field())
                    .isInstanceOf(DecodeException.class)
                    .hasMessage(probe.expectedError());
        }
    }

    @Test
    void anUnknownFieldDeepInAProposalIsRefusedWithItsPath() {
        var proposal = signed(new LeaderProposal(Optional.of(ReferenceVectors.payload()), ReferenceVectors.commitQc()));
        var genesis = v2(proposal)
                .getLeaderProposalBuilder()
                .getJustificationBuilder()
                .getCommitQcBuilder()
                .getMsgBuilder()
                .getViewBuilder()
                .getGenesisBuilder();
        genesis.mergeFrom(UnknownFieldProbe.withUnknownField(genesis.build()));
        assertRefused(
                proposal.build().toByteArray(),
                "Signed.msg.consensus.v2.leader_proposal.justification.commit_qc.msg.view.genesis");
    }

    @Test
    void anUnknownFieldInAnElementOfARepeatedFieldIsRefusedWithItsIndex() {
        TestChain chain = new TestChain(6);
        CommitQC highQc = chain.commitQc(3, 1, TestChain.payload("p"));
        List<ReplicaTimeout> votes = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            Optional<CommitQC> qc = i < 3 ? Optional.empty() : Optional.of(highQc);
            votes.add(new ReplicaTimeout(chain.view(5), Optional.empty(), qc));
        }
        TimeoutQC timeoutQc = chain.timeoutQc(5, votes);
        assertThat(timeoutQc.votes()).as("two distinct votes").hasSize(2);
        assertThat(timeoutQc.votes().get(1).message().highQc())
                .as("the second with a high QC")
                .isPresent();
        var newView = signed(new ReplicaNewView(timeoutQc));
        var signers = v2(newView)
                .getReplicaNewViewBuilder()
                .getJustificationBuilder()
                .getTimeoutQcBuilder()
                .getMsgsBuilder(1)
                .getHighQcBuilder()
                .getSignersBuilder();
        signers.mergeFrom(UnknownFieldProbe.withUnknownField(signers.build()));
        assertRefused(
                newView.build().toByteArray(),
                "Signed.msg.consensus.v2.replica_new_view.justification.timeout_qc.msgs[1].high_qc.signers");
    }

    private static Validator.Signed.Builder signed(ChonkyMessage m) {
        try {
            return Validator.Signed.parseFrom(Codec.encode(Signed.sign(ReferenceVectors.KEYS.get(0), m))).toBuilder();
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            throw new AssertionError(e);
        }
    }

    private static Validator.ChonkyMsgV2.Builder v2(Validator.Signed.Builder signed) {
        return signed.getMsgBuilder().getConsensusBuilder().getV2Builder();
    }

    /** Refused by decoding, and already by parsing, which a receiver does first. */
    private static void assertRefused(byte[] bytes, String path) {
        String expected = path + ": unknown field number(s) [" + UnknownFieldProbe.UNKNOWN_NUMBER + "]";
        assertThatThrownBy(() -> Codec.decodeSigned(bytes))
                .isInstanceOf(DecodeException.class)
                .hasMessage(expected);
        assertThatThrownBy(() -> Codec.parseSigned(bytes))
                .isInstanceOf(DecodeException.class)
                .hasMessage(expected);
    }
}
