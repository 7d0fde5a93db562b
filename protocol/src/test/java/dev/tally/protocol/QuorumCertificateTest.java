package dev.tally.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tally.crypto.BlsAggregateSignature;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class QuorumCertificateTest {
    final TestChain chain = new TestChain(6); // f = 1, quorum 5, subquorum 3
    final Payload p = TestChain.payload("a");

    @Test
    void commitQcAtExactlyQuorumVerifies() throws Exception {
        chain.commitQc(chain.vote(3, 1, p), 0, 1, 2, 3, 4).verify(chain.epoch);
    }

    @Test
    void commitQcBelowQuorumIsRejected() {
        CommitQC qc = chain.commitQc(chain.vote(3, 1, p), 0, 1, 2, 3);
        assertThatThrownBy(() -> qc.verify(chain.epoch)).hasMessageContaining("below the quorum 5");
    }

    @Test
    void commitQcBuilderCountsEachSignerOnce() {
        ReplicaCommit vote = chain.vote(3, 1, p);
        CommitQCBuilder b = new CommitQCBuilder(vote, chain.committee());
        assertThat(b.add(chain.sign(0, vote))).isTrue();
        assertThat(b.add(chain.sign(0, vote))).isFalse();
        assertThat(b.weight()).isEqualTo(1);
        for (int i = 1; i < 4; i++) {
            b.add(chain.sign(i, vote));
        }
        assertThat(b.hasQuorum()).isFalse();
        b.add(chain.sign(4, vote));
        assertThat(b.hasQuorum()).isTrue();
    }

    @Test
    void commitQcWithForgedSignersIsRejected() {
        CommitQC qc = chain.commitQc(chain.vote(3, 1, p), 0, 1, 2, 3, 4);
        // Claim validator 5 signed instead of validator 4: the aggregate no longer matches.
        CommitQC forged = new CommitQC(qc.message(), Signers.of(6, 0, 1, 2, 3, 5), qc.signature());
        assertThatThrownBy(() -> forged.verify(chain.epoch)).hasMessageContaining("aggregate signature is invalid");
        CommitQC otherVote = new CommitQC(chain.vote(3, 2, p), qc.signers(), qc.signature());
        assertThatThrownBy(() -> otherVote.verify(chain.epoch)).hasMessageContaining("aggregate signature is invalid");
    }

    @Test
    void commitQcWithWrongBitmapSizeIsRejected() {
        CommitQC qc = chain.commitQc(chain.vote(3, 1, p), 0, 1, 2, 3, 4);
        CommitQC wrong = new CommitQC(qc.message(), Signers.of(7, 0, 1, 2, 3, 4), qc.signature());
        assertThatThrownBy(() -> wrong.verify(chain.epoch)).hasMessageContaining("7 bits for a committee of 6");
    }

    @Test
    void qcOfAnotherChainOrEpochIsRejected() {
        CommitQC qc = chain.commitQc(3, 1, p);
        Epoch nextEpoch = new Epoch(chain.genesis.hash(), 1, 0, chain.committee());
        assertThatThrownBy(() -> qc.verify(nextEpoch)).hasMessageContaining("epoch 0, not 1");
        Genesis g2 = new Genesis(8, 0, 0, 2, chain.genesis.schedule());
        assertThatThrownBy(() -> qc.verify(Epoch.of(g2))).hasMessageContaining("another chain");
    }

    ReplicaTimeout timeout(long view, Optional<ReplicaCommit> highVote, Optional<CommitQC> highQc) {
        return new ReplicaTimeout(chain.view(view), highVote, highQc);
    }

    List<ReplicaTimeout> sameTimeout(long view, int signers) {
        List<ReplicaTimeout> l = new ArrayList<>();
        for (int i = 0; i < signers; i++) {
            l.add(timeout(view, Optional.empty(), Optional.empty()));
        }
        return l;
    }

    @Test
    void timeoutQcVerifiesAndNeedsQuorum() throws Exception {
        chain.timeoutQc(5, sameTimeout(5, 5)).verify(chain.epoch);
        TimeoutQC short4 = chain.timeoutQc(5, sameTimeout(5, 4));
        assertThatThrownBy(() -> short4.verify(chain.epoch)).hasMessageContaining("below the quorum");
    }

    @Test
    void timeoutQcRejectsOverlappingEmptyOrMixedViewVotes() {
        TimeoutQC qc = chain.timeoutQc(5, sameTimeout(5, 5));
        ReplicaTimeout other = timeout(5, Optional.of(chain.vote(4, 1, p)), Optional.empty());
        TimeoutQC overlapping = new TimeoutQC(
                qc.view(), List.of(qc.votes().get(0), new TimeoutQC.Vote(other, Signers.of(6, 0))), qc.signature());
        assertThatThrownBy(() -> overlapping.verify(chain.epoch)).hasMessageContaining("counts a signer twice");
        TimeoutQC empty = new TimeoutQC(
                qc.view(), List.of(qc.votes().get(0), new TimeoutQC.Vote(other, Signers.empty(6))), qc.signature());
        assertThatThrownBy(() -> empty.verify(chain.epoch)).hasMessageContaining("without signers");
        TimeoutQC mixed = new TimeoutQC(chain.view(6), qc.votes(), qc.signature());
        assertThatThrownBy(() -> mixed.verify(chain.epoch)).hasMessageContaining("holds a vote for");
        TimeoutQC none = new TimeoutQC(qc.view(), List.of(), BlsAggregateSignature.aggregate(List.of()));
        assertThatThrownBy(() -> none.verify(chain.epoch)).hasMessageContaining("no votes");
    }

    @Test
    void timeoutVoteWithHighQcNotOlderIsRejected() {
        ReplicaTimeout bad = timeout(5, Optional.empty(), Optional.of(chain.commitQc(5, 1, p)));
        assertThatThrownBy(() -> bad.verify(chain.epoch)).hasMessageContaining("not older");
    }

    /** Builds a timeout QC where the given numbers of signers report high votes a and b; the rest none. */
    TimeoutQC withHighVotes(int forA, int forB, Optional<CommitQC> highQc) {
        ReplicaCommit a = chain.vote(4, 2, TestChain.payload("a"));
        ReplicaCommit b = chain.vote(4, 2, TestChain.payload("b"));
        List<ReplicaTimeout> votes = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            Optional<ReplicaCommit> hv =
                    i < forA ? Optional.of(a) : i < forA + forB ? Optional.of(b) : Optional.empty();
            votes.add(timeout(5, hv, highQc));
        }
        return chain.timeoutQc(5, votes);
    }

    @Test
    void highVoteNeedsExactlyOneSubquorum() {
        ValidatorSchedule c = chain.committee();
        // No vote reaches the subquorum of 3.
        assertThat(withHighVotes(2, 2, Optional.empty()).highVote(c)).isEmpty();
        // Exactly one does.
        assertThat(withHighVotes(3, 2, Optional.empty()).highVote(c))
                .map(v -> v.proposal().payload())
                .contains(TestChain.payload("a").hash());
        // Two do (3 + 3 of 6): ambiguous, so none.
        assertThat(withHighVotes(3, 3, Optional.empty()).highVote(c)).isEmpty();
    }

    @Test
    void impliedBlockCases() throws Exception {
        ValidatorSchedule c = chain.committee();
        CommitQC qcAt1 = chain.commitQc(3, 1, p);
        // Commit QC: the next block, fresh.
        assertThat(qcAt1.impliedBlock(chain.epoch)).isEqualTo(new ProposalJustification.FreshBlock(2));
        // Timeout QC with a high vote above the high QC: repropose it.
        TimeoutQC repropose = withHighVotes(3, 0, Optional.of(qcAt1));
        assertThat(repropose.impliedBlock(chain.epoch))
                .isEqualTo(new ProposalJustification.Reproposal(
                        repropose.highVote(c).orElseThrow().proposal()));
        // Timeout QC with no high vote: fresh block after the high QC.
        assertThat(withHighVotes(2, 2, Optional.of(qcAt1)).impliedBlock(chain.epoch))
                .isEqualTo(new ProposalJustification.FreshBlock(2));
        // Timeout QC with a high vote not above the high QC: fresh block after the high QC.
        CommitQC qcAt2 = chain.commitQc(4, 2, TestChain.payload("a"));
        assertThat(withHighVotes(3, 0, Optional.of(qcAt2)).impliedBlock(chain.epoch))
                .isEqualTo(new ProposalJustification.FreshBlock(3));
        // Timeout QC with neither: the genesis' first block.
        TestChain later = new TestChain(6, 40);
        TimeoutQC fresh = later.timeoutQc(
                5,
                List.of(
                        new ReplicaTimeout(later.view(5), Optional.empty(), Optional.empty()),
                        new ReplicaTimeout(later.view(5), Optional.empty(), Optional.empty()),
                        new ReplicaTimeout(later.view(5), Optional.empty(), Optional.empty()),
                        new ReplicaTimeout(later.view(5), Optional.empty(), Optional.empty()),
                        new ReplicaTimeout(later.view(5), Optional.empty(), Optional.empty())));
        assertThat(fresh.impliedBlock(later.epoch)).isEqualTo(new ProposalJustification.FreshBlock(40));
        // No high QC but a high vote: repropose it.
        assertThat(withHighVotes(4, 0, Optional.empty()).impliedBlock(chain.epoch))
                .isInstanceOf(ProposalJustification.Reproposal.class);
    }

    @Test
    void highQcIsTheNewestAmongVotes() {
        CommitQC older = chain.commitQc(2, 1, p);
        CommitQC newer = chain.commitQc(3, 2, p);
        List<ReplicaTimeout> votes = new ArrayList<>(Arrays.asList(
                timeout(5, Optional.empty(), Optional.of(older)),
                timeout(5, Optional.empty(), Optional.of(newer)),
                timeout(5, Optional.empty(), Optional.empty()),
                timeout(5, Optional.empty(), Optional.of(older)),
                timeout(5, Optional.empty(), Optional.empty())));
        assertThat(chain.timeoutQc(5, votes).highQc()).contains(newer);
    }

    @Test
    void proposalPayloadMustMatchImpliedBlock() throws Exception {
        CommitQC qc = chain.commitQc(3, 1, p);
        new LeaderProposal(Optional.of(p), qc).verify(chain.epoch, QcVerifier.DIRECT);
        assertThatThrownBy(() -> new LeaderProposal(Optional.empty(), qc).verify(chain.epoch, QcVerifier.DIRECT))
                .hasMessageContaining("no payload");
        TimeoutQC repropose = withHighVotes(3, 0, Optional.of(qc));
        new LeaderProposal(Optional.empty(), repropose).verify(chain.epoch, QcVerifier.DIRECT);
        assertThatThrownBy(() -> new LeaderProposal(Optional.of(p), repropose).verify(chain.epoch, QcVerifier.DIRECT))
                .hasMessageContaining("requires a reproposal");
    }

    @Test
    void finalBlockChecksPayloadAgainstQc() throws Exception {
        CommitQC qc = chain.commitQc(3, 1, p);
        new FinalBlock(p, qc).verify(chain.epoch);
        assertThatThrownBy(() -> new FinalBlock(TestChain.payload("other"), qc).verify(chain.epoch))
                .hasMessageContaining("does not match");
    }
}
