package dev.tally.consensus;

import static dev.tally.consensus.Harness.broadcasts;
import static dev.tally.consensus.Harness.outputs;
import static dev.tally.consensus.Harness.votes;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tally.crypto.BlsPublicKey;
import dev.tally.protocol.BlockHeader;
import dev.tally.protocol.CommitQC;
import dev.tally.protocol.FinalBlock;
import dev.tally.protocol.LeaderProposal;
import dev.tally.protocol.Payload;
import dev.tally.protocol.Phase;
import dev.tally.protocol.ReplicaCommit;
import dev.tally.protocol.ReplicaNewView;
import dev.tally.protocol.ReplicaState;
import dev.tally.protocol.ReplicaTimeout;
import dev.tally.protocol.Signed;
import dev.tally.protocol.TestChain;
import dev.tally.protocol.TimeoutQC;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ReplicaTest {
    final Harness h = new Harness(0);
    final Payload p1 = TestChain.payload("block 1");
    final Payload p2 = TestChain.payload("block 2");
    final Payload p3 = TestChain.payload("block 3");
    final Payload p4 = TestChain.payload("block 4");

    /** Replica in view 5 with block 1 committed (QC of view 4) and stored, ready to vote on block 2. */
    CommitQC inView5() {
        CommitQC qc = h.enterViewByCommitQc(5, 1, p1);
        h.step(new Input.BlocksPersisted(0, 1));
        assertThat(h.replica.view()).isEqualTo(5);
        assertThat(h.replica.phase()).isEqualTo(Phase.PREPARE);
        return qc;
    }

    /** Delivers the commit votes of validators 0 to {@code count - 1}. */
    void deliverVotes(ReplicaCommit vote, int count) {
        for (int i = 0; i < count; i++) {
            h.deliver(h.chain.sign(i, vote));
        }
    }

    /** Delivers a fresh proposal and the execution layer's approval; returns all outputs. */
    List<Output> proposeAndApprove(Signed<LeaderProposal> proposal) {
        List<Output> outs = new ArrayList<>(h.deliver(proposal));
        for (Output.VerifyPayload v : outputs(outs, Output.VerifyPayload.class)) {
            outs.addAll(h.step(new Input.PayloadVerified(v.view(), v.blockNumber(), v.payload(), true, "")));
        }
        return outs;
    }

    // ---------------------------------------------------------------- start and timeouts

    @Test
    void view0TimesOutAtOnceWithoutNewView() {
        h.replica = h.newReplica(ReplicaState.initial(0));
        List<Output> outs = h.step(new Input.Start());
        assertThat(h.replica.phase()).isEqualTo(Phase.TIMEOUT);
        assertThat(outputs(outs, Output.PersistState.class))
                .as("view 0's vote is the same on every start: nothing to persist")
                .isEmpty();
        assertThat(broadcasts(outs, ReplicaTimeout.class))
                .singleElement()
                .satisfies(t -> assertThat(t.view().number()).isZero());
        assertThat(broadcasts(outs, ReplicaNewView.class)).isEmpty();
        assertThat(outputs(outs, Output.SetTimer.class)).containsExactly(new Output.SetTimer(Harness.TIMEOUT));
    }

    @Test
    void timeoutPersistsThenVotesAndResendsTheSameVote() {
        inView5();
        h.now = 500;
        assertThat(h.step(new Input.TimerExpired())).as("timer not yet due").isEmpty();
        h.now = 2000;
        List<Output> first = h.step(new Input.TimerExpired());
        assertThat(first.get(0)).isInstanceOf(Output.PersistState.class);
        assertThat(h.replica.phase()).isEqualTo(Phase.TIMEOUT);
        assertThat(broadcasts(first, ReplicaNewView.class)).hasSize(1);
        List<Output.Broadcast> sent = outputs(first, Output.Broadcast.class).stream()
                .filter(b -> b.message().message() instanceof ReplicaTimeout)
                .toList();
        assertThat(sent).hasSize(1);
        h.now = 4000;
        List<Output> again = h.step(new Input.TimerExpired());
        assertThat(outputs(again, Output.PersistState.class))
                .as("phase unchanged: nothing new to persist")
                .isEmpty();
        assertThat(outputs(again, Output.Broadcast.class)).contains(sent.get(0));
        assertThat(outputs(again, Output.SetTimer.class)).containsExactly(new Output.SetTimer(4000 + Harness.TIMEOUT));
    }

    @Test
    void newViewIsSignedOnceAndResentAsIsOnEveryTimeout() {
        inView5();
        h.now = 2000;
        Output first = outputs(h.step(new Input.TimerExpired()), Output.Broadcast.class).stream()
                .filter(b -> b.message().message() instanceof ReplicaNewView)
                .findFirst()
                .orElseThrow();
        h.now = 4000;
        Output again = outputs(h.step(new Input.TimerExpired()), Output.Broadcast.class).stream()
                .filter(b -> b.message().message() instanceof ReplicaNewView)
                .findFirst()
                .orElseThrow();
        assertThat(((Output.Broadcast) again).message())
                .as("no second BLS signing for the same message")
                .isSameAs(((Output.Broadcast) first).message());
    }

    @Test
    void timeoutQuorumStartsNextViewWithTimeoutQc() {
        inView5();
        List<Output> outs = List.of();
        for (int i = 1; i <= 5; i++) {
            outs = h.deliver(h.chain.sign(i, new ReplicaTimeout(h.chain.view(5), Optional.empty(), Optional.empty())));
            if (i < 5) {
                assertThat(h.replica.view()).as("4 of 6 is below the quorum").isEqualTo(5);
            }
        }
        assertThat(h.replica.view()).isEqualTo(6);
        assertThat(broadcasts(outs, ReplicaNewView.class))
                .singleElement()
                .satisfies(nv -> assertThat(nv.justification()).isInstanceOf(TimeoutQC.class));
    }

    /** The timeout vote of view 5 with no high vote, as every validator of {@link #inView5} sends it. */
    ReplicaTimeout timeoutOfView5() {
        return new ReplicaTimeout(h.chain.view(5), Optional.empty(), Optional.empty());
    }

    @Test
    void timeoutVotesAreCheckedTogetherAsTheirQc() {
        inView5();
        for (int i = 1; i <= 4; i++) {
            h.deliver(h.chain.sign(i, timeoutOfView5()));
        }
        assertThat(h.verifier.quorumsChecked)
                .as("no quorum yet, nothing checked")
                .isZero();
        h.deliver(h.chain.sign(5, timeoutOfView5()));
        assertThat(h.replica.view()).isEqualTo(6);
        assertThat(h.verifier.quorumsChecked).isEqualTo(1);
        assertThat(h.verifier.timeoutVotesCheckedAlone)
                .as("one pairing check for the quorum, none per vote")
                .isZero();
    }

    @Test
    void aTimeoutQuorumWithABadSignatureWaitsForAGoodVoteAndDropsTheBadOne() {
        inView5();
        for (int i = 1; i <= 3; i++) {
            h.deliver(h.chain.sign(i, timeoutOfView5()));
        }
        BlsPublicKey four = h.chain.keys.get(4).publicKey();
        h.deliver(new Signed<>(
                timeoutOfView5(), four, h.chain.sign(3, timeoutOfView5()).signature()));
        h.deliver(h.chain.sign(5, timeoutOfView5()));
        assertThat(h.replica.view()).as("the aggregate fails: no QC").isEqualTo(5);
        assertThat(h.rejections).containsExactly(new Rejection.BadSignature(four));
        assertThat(h.verifier.timeoutVotesCheckedAlone)
                .as("each vote checked alone once")
                .isEqualTo(5);
        List<Output> outs = h.deliver(h.chain.sign(0, timeoutOfView5()));
        assertThat(h.replica.view()).isEqualTo(6);
        assertThat(h.replica.highTimeoutQc()).get().satisfies(qc -> {
            assertThat(qc.votes())
                    .singleElement()
                    .satisfies(v -> assertThat(v.signers().contains(4)).isFalse());
            qc.verify(h.chain.epoch);
        });
        assertThat(h.verifier.timeoutVotesCheckedAlone)
                .as("the good ones are not checked again")
                .isEqualTo(5);
        assertThat(broadcasts(outs, ReplicaNewView.class)).hasSize(1);
    }

    @Test
    void aTimeoutVoteOutsideTheSubgroupNeverReachesAPairingAndTheFallBackDropsIt() throws Exception {
        inView5();
        for (int i = 1; i <= 3; i++) {
            h.deliver(h.chain.sign(i, timeoutOfView5()));
        }
        h.deliver(h.chain.signedWithSmallOrderPart(4, timeoutOfView5(), false));
        h.deliver(h.chain.sign(5, timeoutOfView5()));
        assertThat(h.replica.view()).as("the votes sum outside G1: no QC").isEqualTo(5);
        assertThat(h.verifier.quorumsChecked)
                .as("an aggregate outside G1 is never built, let alone verified")
                .isZero();
        assertThat(h.rejections)
                .containsExactly(new Rejection.BadSignature(h.chain.keys.get(4).publicKey()));
        h.deliver(h.chain.sign(0, timeoutOfView5()));
        assertThat(h.replica.view()).isEqualTo(6);
        assertThat(h.replica.highTimeoutQc()).get().satisfies(qc -> qc.verify(h.chain.epoch));
    }

    @Test
    void aForgedTimeoutVoteThatCameFirstMakesWayForTheSignersOwn() {
        inView5();
        Signed<ReplicaTimeout> own = h.chain.sign(4, timeoutOfView5());
        h.deliver(new Signed<>(
                timeoutOfView5(), own.key(), h.chain.sign(3, timeoutOfView5()).signature()));
        h.deliver(own);
        assertThat(h.rejections).containsExactly(new Rejection.BadSignature(own.key()));
        for (int i = 0; i <= 3; i++) {
            h.deliver(h.chain.sign(i, timeoutOfView5()));
        }
        assertThat(h.replica.view()).as("the signer's own vote counts").isEqualTo(6);
        assertThat(h.rejections).hasSize(1);
    }

    // ---------------------------------------------------------------- proposals

    @Test
    void votesForValidFreshProposalAfterPersistingState() {
        CommitQC qc = inView5();
        List<Output> outs = proposeAndApprove(h.proposal(5, Optional.of(p2), qc));
        List<ReplicaCommit> votes = votes(outs);
        assertThat(votes).containsExactly(new ReplicaCommit(h.chain.view(5), new BlockHeader(2, p2.hash())));
        int persistAt = -1;
        int voteAt = -1;
        for (int i = 0; i < outs.size(); i++) {
            if (outs.get(i) instanceof Output.PersistState ps && ps.state().phase() == Phase.COMMIT) {
                persistAt = i;
                assertThat(ps.state().highVote()).contains(votes.get(0));
            }
            if (outs.get(i) instanceof Output.Broadcast b && b.message().message() instanceof ReplicaCommit) {
                voteAt = i;
            }
        }
        assertThat(persistAt).as("state persisted before the vote leaves").isBetween(0, voteAt - 1);
    }

    @Test
    void ignoresProposalForOldView() {
        CommitQC qc = inView5();
        h.enterViewByCommitQc(7, 1, p1);
        assertThat(votes(proposeAndApprove(h.proposal(5, Optional.of(p2), qc)))).isEmpty();
    }

    @Test
    void aProposalArrivingAfterItsQcStillFinalizesItsBlock() {
        inView5();
        deliverOthersVotes(new ReplicaCommit(h.chain.view(5), new BlockHeader(2, p2.hash())));
        assertThat(h.replica.view()).as("the others' votes made the QC").isEqualTo(6);
        assertThat(h.replica.lacksHighQcBlock())
                .as("the network lets the late proposal through for this")
                .isTrue();
        CommitQC qc = h.replica.highCommitQc().orElseThrow();
        // A proposal whose payload the QC does not name finalizes nothing.
        assertThat(outputs(
                        h.deliver(h.proposal(5, Optional.of(p3), h.chain.commitQc(4, 1, p1))),
                        Output.FinalizeBlock.class))
                .isEmpty();
        List<Output> outs = h.deliver(h.proposal(5, Optional.of(p2), h.chain.commitQc(4, 1, p1)));
        assertThat(outputs(outs, Output.FinalizeBlock.class))
                .containsExactly(new Output.FinalizeBlock(new FinalBlock(p2, qc)));
        assertThat(votes(outs)).as("too late to vote").isEmpty();
        assertThat(h.replica.lacksHighQcBlock()).isFalse();
        assertThat(h.lateFinalizations).containsExactly(2L);
        assertThat(outputs(
                        h.deliver(h.proposal(5, Optional.of(p2), h.chain.commitQc(4, 1, p1))),
                        Output.FinalizeBlock.class))
                .as("once")
                .isEmpty();
    }

    @Test
    void aQcFormedWhileItsPayloadIsCheckedFinalizesTheBlock() {
        CommitQC justification = inView5();
        List<Output> proposed = h.deliver(h.proposal(5, Optional.of(p2), justification));
        assertThat(outputs(proposed, Output.VerifyPayload.class)).hasSize(1);
        List<Output> outs = deliverOthersVotes(new ReplicaCommit(h.chain.view(5), new BlockHeader(2, p2.hash())));
        assertThat(h.replica.view()).as("the others' votes made the QC").isEqualTo(6);
        CommitQC qc = h.replica.highCommitQc().orElseThrow();
        assertThat(outputs(outs, Output.FinalizeBlock.class))
                .as("the payload under check is the one the QC names")
                .containsExactly(new Output.FinalizeBlock(new FinalBlock(p2, qc)));
        assertThat(h.replica.lacksHighQcBlock()).isFalse();
        assertThat(h.lateFinalizations).containsExactly(2L);
        List<Output> verdict = h.step(new Input.PayloadVerified(h.chain.view(5), 2, p2, true, ""));
        assertThat(verdict).as("too late to vote, and final already").isEmpty();
    }

    @Test
    void aQcForAnotherPayloadThanTheOneUnderCheckFinalizesNothing() {
        CommitQC justification = inView5();
        h.deliver(h.proposal(5, Optional.of(p2), justification));
        List<Output> outs = deliverOthersVotes(new ReplicaCommit(h.chain.view(5), new BlockHeader(2, p3.hash())));
        assertThat(h.replica.view()).isEqualTo(6);
        assertThat(outputs(outs, Output.FinalizeBlock.class)).isEmpty();
        assertThat(h.replica.lacksHighQcBlock())
                .as("block sync or a late proposal must bring p3")
                .isTrue();
        assertThat(h.lateFinalizations).isEmpty();
    }

    /** Every other validator's copy of {@code vote}, in key order; the outputs of all those steps. */
    private List<Output> deliverOthersVotes(ReplicaCommit vote) {
        List<Output> outs = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            if (i != h.me) {
                outs.addAll(h.deliver(h.chain.sign(i, vote)));
            }
        }
        return outs;
    }

    @Test
    void rejectsProposalFromWrongLeader() {
        CommitQC qc = inView5();
        var forged = h.chain.sign(h.notLeader(5), new LeaderProposal(Optional.of(p2), qc));
        assertThat(votes(proposeAndApprove(forged))).isEmpty();
        assertThat(h.rejections).hasAtLeastOneElementOfType(Rejection.NotLeader.class);
    }

    @Test
    void takesProposalsFromTheLeaderAnImposedScheduleNames() {
        int imposed = h.notLeader(5);
        h.replica = h.newReplica(
                h.replica.state(), view -> h.chain.keys.get(imposed).publicKey());
        CommitQC qc = inView5();
        var fromEpochLeader = h.chain.sign(h.leader(5), new LeaderProposal(Optional.of(p2), qc));
        assertThat(votes(proposeAndApprove(fromEpochLeader)))
                .as("the epoch's leader does not lead here")
                .isEmpty();
        var fromImposed = h.chain.sign(imposed, new LeaderProposal(Optional.of(p2), qc));
        assertThat(votes(proposeAndApprove(fromImposed))).hasSize(1);
    }

    @Test
    void rejectsProposalWithBadSignature() {
        CommitQC qc = inView5();
        Signed<LeaderProposal> good = h.proposal(5, Optional.of(p2), qc);
        Signed<LeaderProposal> other = h.chain.sign(h.leader(5), new LeaderProposal(Optional.of(p1), qc));
        var badSig = new Signed<>(good.message(), good.key(), other.signature());
        assertThat(votes(proposeAndApprove(badSig))).isEmpty();
        assertThat(h.rejections).contains(new Rejection.BadSignature(good.key()));
    }

    @Test
    void rejectsProposalWithInvalidJustification() {
        inView5();
        CommitQC weak = h.chain.commitQc(h.chain.vote(4, 1, p1), 0, 1, 2, 3);
        assertThat(votes(proposeAndApprove(h.proposal(5, Optional.of(p2), weak))))
                .isEmpty();
        assertThat(h.rejections)
                .singleElement()
                .isInstanceOfSatisfying(
                        Rejection.BadJustification.class,
                        r -> assertThat(r.message())
                                .as("the log names the problem")
                                .contains("below the quorum"));
    }

    @Test
    void aProposalJustifiedByAQcForTheVoteOfTheReplicasOwnIsTakenWithTheReplicasOwn() {
        CommitQC own = inView5();
        // The leader's QC names a quorum for the same vote, but its aggregate signature is not theirs.
        CommitQC leaders = new CommitQC(
                own.message(), h.chain.commitQc(own.message(), 0, 1, 2, 3, 4).signers(), own.signature());
        assertThat(votes(proposeAndApprove(h.proposal(5, Optional.of(p2), leaders))))
                .hasSize(1);
        assertThat(h.rejections).isEmpty();
        assertThat(h.replica.highCommitQc()).contains(own);
        // For a vote the replica holds no QC of, the same forgery is refused.
        h.enterViewByCommitQc(7, 2, p2);
        CommitQC forged = new CommitQC(h.chain.vote(7, 3, p3), own.signers(), own.signature());
        assertThat(votes(proposeAndApprove(h.proposal(8, Optional.of(p4), forged))))
                .isEmpty();
        assertThat(h.rejections).hasAtLeastOneElementOfType(Rejection.BadJustification.class);
    }

    @Test
    void rejectsFreshProposalWithoutPayloadAndOversizedPayload() {
        CommitQC qc = inView5();
        assertThat(votes(proposeAndApprove(h.proposal(5, Optional.empty(), qc))))
                .isEmpty();
        assertThat(h.rejections).contains(new Rejection.PayloadMissing(2));
        Payload big = Payload.of(new byte[Harness.MAX_PAYLOAD + 1]);
        assertThat(votes(proposeAndApprove(h.proposal(5, Optional.of(big), qc))))
                .isEmpty();
        assertThat(h.rejections)
                .contains(new Rejection.PayloadTooLarge(2, Harness.MAX_PAYLOAD + 1, Harness.MAX_PAYLOAD));
        Payload justFits = Payload.of(new byte[Harness.MAX_PAYLOAD]);
        assertThat(votes(proposeAndApprove(h.proposal(5, Optional.of(justFits), qc))))
                .hasSize(1);
    }

    @Test
    void doesNotVoteWhenExecutionLayerRefusesPayload() {
        CommitQC qc = inView5();
        List<Output> outs = h.deliver(h.proposal(5, Optional.of(p2), qc));
        Output.VerifyPayload check = outputs(outs, Output.VerifyPayload.class).get(0);
        List<Output> after = h.step(new Input.PayloadVerified(check.view(), 2, p2, false, "bad transaction"));
        assertThat(votes(after)).isEmpty();
        assertThat(h.replica.phase()).isEqualTo(Phase.PREPARE);
        assertThat(h.rejections).containsExactly(new Rejection.PayloadRefused(2, "bad transaction"));
    }

    @Test
    void waitsForPredecessorBeforeCheckingPayload() {
        CommitQC qc = h.enterViewByCommitQc(5, 1, p1);
        h.step(new Input.BlocksPersisted(0, 0)); // block 1 not stored yet
        List<Output> outs = h.deliver(h.proposal(5, Optional.of(p2), qc));
        assertThat(outputs(outs, Output.VerifyPayload.class)).isEmpty();
        List<Output> stored = h.step(new Input.BlocksPersisted(0, 1));
        assertThat(outputs(stored, Output.VerifyPayload.class))
                .singleElement()
                .satisfies(v -> assertThat(v.blockNumber()).isEqualTo(2));
    }

    /** A timeout QC of view 4 where three validators (a subquorum) report the same high vote for block 2. */
    TimeoutQC timeoutQcWithHighVote(CommitQC highQc, ReplicaCommit highVote) {
        List<ReplicaTimeout> votes = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            votes.add(new ReplicaTimeout(
                    h.chain.view(4), i < 3 ? Optional.of(highVote) : Optional.empty(), Optional.of(highQc)));
        }
        return h.timeoutQc(4, votes);
    }

    @Test
    void reproposalIsVotedWithoutPayloadButNotWithOne() {
        CommitQC qc = h.chain.commitQc(3, 1, p1);
        ReplicaCommit highVote = h.chain.vote(3, 2, p2);
        TimeoutQC tqc = timeoutQcWithHighVote(qc, highVote);
        h.deliver(h.chain.sign(h.leader(5), new ReplicaNewView(tqc)));
        assertThat(h.replica.view()).isEqualTo(5);
        assertThat(votes(proposeAndApprove(h.proposal(5, Optional.of(p2), tqc))))
                .isEmpty();
        assertThat(h.rejections).containsExactly(new Rejection.PayloadInReproposal(highVote.proposal()));
        List<Output> outs = proposeAndApprove(h.proposal(5, Optional.empty(), tqc));
        assertThat(outputs(outs, Output.VerifyPayload.class))
                .as("a reproposal has no payload to check")
                .isEmpty();
        assertThat(votes(outs)).containsExactly(new ReplicaCommit(h.chain.view(5), highVote.proposal()));
    }

    @Test
    void proposalForLaterViewJumpsThere() {
        CommitQC qc = h.chain.commitQc(8, 1, p1);
        h.step(new Input.BlocksPersisted(0, 1));
        assertThat(votes(proposeAndApprove(h.proposal(9, Optional.of(p2), qc)))).hasSize(1);
        assertThat(h.replica.view()).isEqualTo(9);
        assertThat(h.replica.phase()).isEqualTo(Phase.COMMIT);
    }

    @Test
    void aProposalThatArrivesBeforeTheQcOfTheViewBeforeIsStillVotedOn() {
        // Issue 14: the replica holds 4 of the 5 commit votes of view 5 when the leader of view 6 (which has all 5)
        // proposes block 3; the 5th vote comes after the proposal.
        CommitQC qc4 = inView5();
        proposeAndApprove(h.proposal(5, Optional.of(p2), qc4));
        ReplicaCommit vote5 = h.chain.vote(5, 2, p2);
        deliverVotes(vote5, 4);
        assertThat(h.replica.view()).isEqualTo(5);
        List<Output> outs = new ArrayList<>(h.deliver(h.proposal(6, Optional.of(p3), h.chain.commitQc(5, 2, p2))));
        outs.addAll(h.deliver(h.chain.sign(4, vote5)));
        assertThat(outputs(outs, Output.FinalizeBlock.class))
                .as("the proposal's QC finalizes block 2 at once")
                .hasSize(1);
        outs.addAll(h.step(new Input.BlocksPersisted(0, 2)));
        for (Output.VerifyPayload v : outputs(outs, Output.VerifyPayload.class)) {
            outs.addAll(h.step(new Input.PayloadVerified(v.view(), v.blockNumber(), v.payload(), true, "")));
        }
        assertThat(votes(outs)).containsExactly(h.chain.vote(6, 3, p3));
    }

    @Test
    void votesOnlyOncePerView() {
        CommitQC qc = inView5();
        assertThat(votes(proposeAndApprove(h.proposal(5, Optional.of(p2), qc)))).hasSize(1);
        Payload other = TestChain.payload("equivocation");
        Signed<LeaderProposal> second = h.proposal(5, Optional.of(other), qc);
        assertThat(outputs(h.deliver(second), Output.VerifyPayload.class))
                .as("not even considered")
                .isEmpty();
        // Even an approval that arrives for it is not turned into a second vote.
        assertThat(votes(h.step(new Input.PayloadVerified(h.chain.view(5), 2, other, true, ""))))
                .isEmpty();
    }

    // ---------------------------------------------------------------- commit votes and QCs

    @Test
    void commitQcFormsAtExactlyQuorumAndFinalizesCachedBlock() {
        CommitQC qc = inView5();
        proposeAndApprove(h.proposal(5, Optional.of(p2), qc));
        ReplicaCommit vote = new ReplicaCommit(h.chain.view(5), new BlockHeader(2, p2.hash()));
        List<Output> outs = List.of();
        for (int i = 0; i < 5; i++) {
            outs = h.deliver(h.chain.sign(i, vote));
            if (i < 4) {
                assertThat(h.replica.view())
                        .as("%d votes are below the quorum", i + 1)
                        .isEqualTo(5);
            }
        }
        assertThat(h.replica.view()).isEqualTo(6);
        List<FinalBlock> finals = outputs(outs, Output.FinalizeBlock.class).stream()
                .map(Output.FinalizeBlock::block)
                .toList();
        assertThat(finals).singleElement().satisfies(b -> {
            assertThat(b.number()).isEqualTo(2);
            assertThat(b.payload()).isEqualTo(p2);
        });
        assertThat(broadcasts(outs, ReplicaNewView.class))
                .singleElement()
                .satisfies(nv -> assertThat(nv.justification())
                        .isEqualTo(h.replica.highCommitQc().orElseThrow()));
        assertThat(h.replica.state().proposals())
                .as("finalized proposals are pruned")
                .isEmpty();
    }

    @Test
    void duplicateAndStaleVotesCountOnce() {
        inView5();
        ReplicaCommit vote = new ReplicaCommit(h.chain.view(5), new BlockHeader(2, p2.hash()));
        for (int round = 0; round < 3; round++) {
            deliverVotes(vote, 4);
        }
        assertThat(h.replica.view())
                .as("four signers, however often they repeat, are not five")
                .isEqualTo(5);
        assertThat(h.rejections).hasAtLeastOneElementOfType(Rejection.NotNewer.class);
        // A vote for an older view from a signer that already voted later is stale too.
        h.deliver(h.chain.sign(4, new ReplicaCommit(h.chain.view(6), new BlockHeader(2, p2.hash()))));
        h.deliver(h.chain.sign(4, vote));
        assertThat(h.replica.view()).isEqualTo(5);
    }

    @Test
    void ignoresVotesFromNonValidators() {
        inView5();
        var outsider = dev.tally.crypto.BlsSecretKey.fromSeed(new byte[32]);
        ReplicaCommit vote = new ReplicaCommit(h.chain.view(5), new BlockHeader(2, p2.hash()));
        deliverVotes(vote, 4);
        h.deliver(Signed.sign(outsider, vote));
        assertThat(h.replica.view()).isEqualTo(5);
        assertThat(h.rejections).containsExactly(new Rejection.NotValidator(outsider.publicKey(), 0));
    }

    @Test
    void rejectsVoteWithBadSignature() {
        inView5();
        ReplicaCommit vote = new ReplicaCommit(h.chain.view(5), new BlockHeader(2, p2.hash()));
        deliverVotes(vote, 4);
        Signed<ReplicaCommit> byFour = h.chain.sign(4, vote);
        h.deliver(new Signed<>(vote, byFour.key(), h.chain.sign(3, vote).signature()));
        assertThat(h.replica.view()).isEqualTo(5);
        assertThat(h.rejections).contains(new Rejection.BadSignature(byFour.key()));
    }

    @Test
    void commitVotesAreCheckedTogetherAsTheirQc() {
        inView5();
        ReplicaCommit vote = new ReplicaCommit(h.chain.view(5), new BlockHeader(2, p2.hash()));
        deliverVotes(vote, 4);
        assertThat(h.verifier.quorumsChecked)
                .as("no quorum yet, nothing checked")
                .isZero();
        h.deliver(h.chain.sign(4, vote));
        assertThat(h.replica.view()).isEqualTo(6);
        assertThat(h.verifier.quorumsChecked).isEqualTo(1);
        assertThat(h.verifier.commitVotesCheckedAlone)
                .as("one pairing check for the quorum, none per vote")
                .isZero();
    }

    @Test
    void aQuorumWithABadSignatureWaitsForAGoodVoteAndDropsTheBadOne() {
        inView5();
        ReplicaCommit vote = new ReplicaCommit(h.chain.view(5), new BlockHeader(2, p2.hash()));
        deliverVotes(vote, 4);
        h.deliver(new Signed<>(
                vote, h.chain.sign(4, vote).key(), h.chain.sign(3, vote).signature()));
        assertThat(h.replica.view()).as("the aggregate fails: no QC").isEqualTo(5);
        assertThat(h.rejections)
                .containsExactly(new Rejection.BadSignature(h.chain.keys.get(4).publicKey()));
        assertThat(h.verifier.commitVotesCheckedAlone)
                .as("each vote checked alone once")
                .isEqualTo(5);
        List<Output> outs = h.deliver(h.chain.sign(5, vote));
        assertThat(h.replica.view()).isEqualTo(6);
        assertThat(h.replica.highCommitQc()).get().satisfies(qc -> {
            assertThat(qc.signers().count()).isEqualTo(5);
            qc.verify(h.chain.epoch);
        });
        assertThat(h.verifier.commitVotesCheckedAlone)
                .as("the good ones are not checked again")
                .isEqualTo(5);
        assertThat(broadcasts(outs, ReplicaNewView.class)).hasSize(1);
    }

    @Test
    void aVoteOutsideTheSubgroupNeverReachesAPairingAndTheFallBackDropsIt() throws Exception {
        inView5();
        ReplicaCommit vote = new ReplicaCommit(h.chain.view(5), new BlockHeader(2, p2.hash()));
        deliverVotes(vote, 4);
        h.deliver(h.chain.signedWithSmallOrderPart(4, vote, false));
        assertThat(h.replica.view()).as("the votes sum outside G1: no QC").isEqualTo(5);
        assertThat(h.verifier.quorumsChecked)
                .as("an aggregate outside G1 is never built, let alone verified")
                .isZero();
        assertThat(h.rejections)
                .containsExactly(new Rejection.BadSignature(h.chain.keys.get(4).publicKey()));
        h.deliver(h.chain.sign(5, vote));
        assertThat(h.replica.view()).isEqualTo(6);
        assertThat(h.replica.highCommitQc()).get().satisfies(qc -> {
            assertThat(qc.signers().contains(4)).isFalse();
            qc.verify(h.chain.epoch);
        });
    }

    @Test
    void votesWhoseSmallOrderPartsCancelMakeTheQcOfTheirValidSignatures() throws Exception {
        inView5();
        ReplicaCommit vote = new ReplicaCommit(h.chain.view(5), new BlockHeader(2, p2.hash()));
        deliverVotes(vote, 3);
        h.deliver(h.chain.signedWithSmallOrderPart(3, vote, false));
        h.deliver(h.chain.signedWithSmallOrderPart(4, vote, true));
        assertThat(h.replica.view()).isEqualTo(6);
        assertThat(h.rejections).isEmpty();
        assertThat(h.verifier.commitVotesCheckedAlone).isZero();
        assertThat(h.replica.highCommitQc())
                .get()
                .satisfies(qc -> assertThat(qc).isEqualTo(h.chain.commitQc(vote, 0, 1, 2, 3, 4)));
    }

    @Test
    void aForgedVoteThatCameFirstMakesWayForTheSignersOwn() {
        inView5();
        ReplicaCommit vote = new ReplicaCommit(h.chain.view(5), new BlockHeader(2, p2.hash()));
        Signed<ReplicaCommit> own = h.chain.sign(4, vote);
        h.deliver(new Signed<>(vote, own.key(), h.chain.sign(3, vote).signature()));
        h.deliver(own);
        assertThat(h.rejections).containsExactly(new Rejection.BadSignature(own.key()));
        deliverVotes(vote, 4);
        assertThat(h.replica.view()).as("the signer's own vote counts").isEqualTo(6);
        h.deliver(h.chain.sign(5, new ReplicaCommit(h.chain.view(6), new BlockHeader(3, p3.hash()))));
        assertThat(h.rejections).hasSize(1);
    }

    @Test
    void aSecondVoteOfTheSameViewIsRefusedWhenTheFirstIsGenuine() {
        inView5();
        ReplicaCommit vote = new ReplicaCommit(h.chain.view(5), new BlockHeader(2, p2.hash()));
        h.deliver(h.chain.sign(4, vote));
        h.deliver(h.chain.sign(4, new ReplicaCommit(h.chain.view(5), new BlockHeader(2, p3.hash()))));
        assertThat(h.rejections)
                .containsExactly(new Rejection.NotNewer(h.chain.keys.get(4).publicKey(), 5));
        deliverVotes(vote, 4);
        assertThat(h.replica.view()).isEqualTo(6);
    }

    @Test
    void theLeadersNewViewIsSkippedWhenItBringsNoHigherQc() {
        inView5();
        ReplicaCommit vote = new ReplicaCommit(h.chain.view(5), new BlockHeader(2, p2.hash()));
        deliverVotes(vote, 5);
        assertThat(h.replica.view()).isEqualTo(6);
        // The leader of view 6 built its own QC of view 5 (other signers): the replica holds one as high.
        CommitQC leadersQc = h.chain.commitQc(5, 2, p2);
        h.deliver(new Signed<>(
                new ReplicaNewView(leadersQc),
                h.chain.keys.get(h.leader(6)).publicKey(),
                h.chain.sign(h.notLeader(6), new ReplicaNewView(leadersQc)).signature()));
        assertThat(h.rejections)
                .as("not even its (bad) signature is checked")
                .containsExactly(new Rejection.NothingNew(6));
        assertThat(h.replica.view()).isEqualTo(6);
    }

    @Test
    void messagesOfAnotherChainAreRejected() {
        inView5();
        dev.tally.protocol.TestChain other = new dev.tally.protocol.TestChain(6, 3);
        ReplicaCommit foreign = new ReplicaCommit(other.view(5), new BlockHeader(3, p2.hash()));
        h.deliver(other.sign(0, foreign));
        assertThat(h.rejections)
                .singleElement()
                .isInstanceOfSatisfying(
                        Rejection.ForeignView.class,
                        r -> assertThat(r.message())
                                .as("the log names the problem")
                                .contains("another chain"));
    }

    @Test
    void messagesOfOldViewsAndStaleNewViewsAreRejectedByName() {
        CommitQC qc4 = inView5();
        h.deliver(h.chain.sign(1, h.chain.vote(4, 1, p1)));
        h.deliver(h.chain.sign(1, new ReplicaTimeout(h.chain.view(3), Optional.empty(), Optional.empty())));
        h.deliver(h.chain.sign(h.notLeader(5), new ReplicaNewView(qc4)));
        h.deliver(h.proposal(4, Optional.of(p1), h.chain.commitQc(3, 0, p1)));
        assertThat(h.rejections)
                .containsExactly(
                        new Rejection.OldView(4, 5),
                        new Rejection.OldView(3, 5),
                        new Rejection.NotLeader(
                                5,
                                h.chain.keys.get(h.notLeader(5)).publicKey(),
                                h.chain.keys.get(h.leader(5)).publicKey()),
                        new Rejection.OldView(4, 5));
        h.rejections.clear();
        proposeAndApprove(h.proposal(5, Optional.of(p2), qc4));
        h.deliver(h.proposal(5, Optional.of(p2), qc4));
        assertThat(h.rejections).as("after voting").containsExactly(new Rejection.NotInPrepare(5, Phase.COMMIT));
    }

    @Test
    void aCopyOfTheProposalBeingCheckedIsRejectedAsDuplicate() {
        CommitQC qc = inView5();
        h.deliver(h.proposal(5, Optional.of(p2), qc));
        assertThat(outputs(h.deliver(h.proposal(5, Optional.of(p2), qc)), Output.VerifyPayload.class))
                .isEmpty();
        assertThat(h.rejections).containsExactly(new Rejection.DuplicateProposal(5));
    }

    @Test
    void everyRejectionHasItsOwnStableReason() {
        var key = h.chain.keys.get(0).publicKey();
        List<Rejection> one = List.of(
                new Rejection.ForeignView(h.chain.view(1), ""),
                new Rejection.OldView(1, 2),
                new Rejection.NotInPrepare(1, Phase.TIMEOUT),
                new Rejection.DuplicateProposal(1),
                new Rejection.NotLeader(1, key, key),
                new Rejection.NotValidator(key, 0),
                new Rejection.BadSignature(key),
                new Rejection.NotNewer(key, 1),
                new Rejection.InvalidVote(""),
                new Rejection.BadJustification(""),
                new Rejection.NothingNew(1),
                new Rejection.Pruned(1, 2),
                new Rejection.PayloadMissing(1),
                new Rejection.PayloadInReproposal(new BlockHeader(1, p1.hash())),
                new Rejection.PayloadTooLarge(1, 2, 1),
                new Rejection.PayloadRefused(1, ""));
        assertThat(Rejection.class.getPermittedSubclasses()).as("one of each").hasSameSizeAs(one);
        assertThat(one)
                .extracting(Rejection::reason)
                .doesNotHaveDuplicates()
                .allMatch(r -> r.matches("[a-z]+(_[a-z]+)*"));
        assertThat(one)
                .extracting(Rejection::reason)
                .contains("old_view", "not_leader", "bad_signature", "payload_too_large");
    }

    // ---------------------------------------------------------------- start without state (wiped data)

    /** A replica that started without state (a wiped data directory). */
    void startWithoutState() {
        h.replica = h.newReplica(ReplicaState.initial(0));
        h.step(new Input.Start());
    }

    /** Validator {@code from}'s new-view message for {@code view}, justified by a commit QC of the view before. */
    Signed<ReplicaNewView> newViewFrom(int from, long view) {
        return h.chain.sign(from, new ReplicaNewView(h.chain.commitQc(view - 1, 1, p1)));
    }

    @Test
    void aReplicaWithoutStateWaitsForReportsWeighingMoreThan2f() {
        startWithoutState();
        assertThat(h.abstentions)
                .singleElement()
                .asString()
                .startsWith(Long.MAX_VALUE + ": started without a replica state");
        List<Output> outs = new ArrayList<>();
        // Two validators (weight 2 = 2f) keep reporting as their views go by: not enough, however long it lasts.
        for (long v = 10; v <= 14; v++) {
            outs.addAll(h.deliver(newViewFrom(1, v)));
            outs.addAll(h.deliver(newViewFrom(2, v)));
            h.step(new Input.BlocksPersisted(0, 1));
            outs.addAll(proposeAndApprove(h.proposal(v, Optional.of(p2), h.chain.commitQc(v - 1, 1, p1))));
            h.now += 3 * Harness.TIMEOUT;
            outs.addAll(h.step(new Input.TimerExpired()));
        }
        assertThat(h.replica.view()).isEqualTo(14);
        assertThat(h.replica.firstVotingView()).isEqualTo(Long.MAX_VALUE);
        assertThat(votes(outs)).isEmpty();
        assertThat(broadcasts(outs, ReplicaTimeout.class))
                .as("only its view-0 vote, re-sent as a report")
                .isNotEmpty()
                .allSatisfy(t -> assertThat(t.view().number()).isZero());
        assertThat(broadcasts(outs, ReplicaNewView.class)).isEmpty();
        assertThat(outputs(outs, Output.PersistState.class))
                .as("a crash now starts the wait over")
                .isEmpty();
    }

    @Test
    void aReplicaWaitingForReportsResendsItsViewZeroVoteOnEveryExpiry() {
        startWithoutState();
        Signed<ReplicaTimeout> viewZero =
                h.chain.sign(h.me, new ReplicaTimeout(h.chain.view(0), Optional.empty(), Optional.empty()));
        h.enterViewByCommitQc(1, 0, p1); // a new chain's view 1: the others wait for reports too
        for (int expiry = 1; expiry <= 3; expiry++) {
            h.now += Harness.TIMEOUT;
            List<Object> sent = outputs(h.step(new Input.TimerExpired()), Output.Broadcast.class).stream()
                    .map(b -> (Object) b.message())
                    .toList();
            assertThat(sent)
                    .as("replicas that all wait would otherwise never hear enough reports")
                    .containsExactly(viewZero);
        }
    }

    @Test
    void pastViewZeroOnlyReportersShowingAQcCount() {
        startWithoutState();
        // Two validators that wait for reports themselves (they lost their data too) say they hold nothing.
        for (int i = 1; i <= 2; i++) {
            h.deliver(h.chain.sign(i, new ReplicaTimeout(h.chain.view(0), Optional.empty(), Optional.empty())));
        }
        h.deliver(newViewFrom(3, 100));
        assertThat(h.replica.firstVotingView())
                .as("one reporter shows where the chain is: weight 1, not above 2f")
                .isEqualTo(Long.MAX_VALUE);
        h.deliver(newViewFrom(4, 100));
        h.deliver(newViewFrom(5, 100));
        assertThat(h.replica.firstVotingView()).isEqualTo(102);
        assertThat(h.abstentions).last().asString().startsWith("102: validators of weight 3 showed QCs up to view 99");
    }

    @Test
    void anOldNewViewThatArrivesFirstNoLongerSetsALowFloor() {
        startWithoutState();
        h.deliver(newViewFrom(1, 5)); // a lagging validator's periodic new-view message
        h.deliver(newViewFrom(2, 100));
        h.deliver(newViewFrom(3, 100));
        assertThat(h.replica.view()).isEqualTo(100);
        assertThat(h.replica.firstVotingView())
                .as("QCs shown up to view 99: it may have voted up to view 101")
                .isEqualTo(102);
        assertThat(h.abstentions)
                .last()
                .asString()
                .isEqualTo("102: validators of weight 3 showed QCs up to view 99,"
                        + " so this replica may have voted up to view 101 before its data was lost");
        h.step(new Input.BlocksPersisted(0, 1));
        assertThat(votes(proposeAndApprove(h.proposal(100, Optional.of(p2), h.chain.commitQc(99, 1, p1)))))
                .isEmpty();
        CommitQC qc101 = h.enterViewByCommitQc(102, 2, p2);
        h.step(new Input.BlocksPersisted(0, 2));
        List<Output> voting = proposeAndApprove(h.proposal(102, Optional.of(p3), qc101));
        assertThat(votes(voting)).containsExactly(h.chain.vote(102, 3, p3));
        assertThat(outputs(voting, Output.PersistState.class))
                .as("state durable again before the vote")
                .isNotEmpty();
    }

    @Test
    void aFaultyValidatorCanNeitherLowerTheFloorWithAnOldQcNorRaiseItWithAForgedOne() {
        startWithoutState();
        int faulty = 5;
        h.deliver(newViewFrom(faulty, 3)); // a real but old QC, freshly signed
        CommitQC real = h.chain.commitQc(99, 1, p1);
        CommitQC forged = new CommitQC(h.chain.vote(10_000, 1, p1), real.signers(), real.signature());
        h.deliver(h.chain.sign(4, new ReplicaNewView(forged))); // not counted: its QC does not verify
        h.deliver(newViewFrom(1, 100));
        assertThat(h.replica.firstVotingView()).as("reporters 5 and 1 weigh 2f").isEqualTo(Long.MAX_VALUE);
        h.deliver(newViewFrom(2, 100));
        assertThat(h.replica.firstVotingView()).isEqualTo(102);
    }

    @Test
    void noTimeoutVoteBeforeTheHighVoteOrHighQcCoversWhatWasLost() {
        startWithoutState();
        for (int i = 1; i <= 3; i++) {
            h.deliver(newViewFrom(i, 100));
        }
        assertThat(h.replica.firstVotingView()).isEqualTo(102);
        List<Output> outs = new ArrayList<>();
        for (int i = 1; i <= 10; i++) {
            h.now += Harness.TIMEOUT;
            outs.addAll(h.step(new Input.TimerExpired()));
        }
        assertThat(broadcasts(outs, ReplicaTimeout.class))
                .as("below the floor, however long the view is stuck")
                .isEmpty();
        assertThat(outputs(outs, Output.PersistState.class)).isEmpty();
        // View 102 through a timeout QC whose high QC is of view 99: this replica may have voted for a block of view
        // 100 or 101 that only its lost high vote keeps from being overwritten.
        List<ReplicaTimeout> tvotes = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            tvotes.add(
                    new ReplicaTimeout(h.chain.view(101), Optional.empty(), Optional.of(h.chain.commitQc(99, 1, p1))));
        }
        h.deliver(h.chain.sign(1, new ReplicaNewView(h.timeoutQc(101, tvotes))));
        assertThat(h.replica.view()).isEqualTo(102);
        h.now += Harness.TIMEOUT;
        List<Output> atFloor = h.step(new Input.TimerExpired());
        assertThat(broadcasts(atFloor, ReplicaNewView.class))
                .as("its new-view message only carries QCs")
                .hasSize(1);
        assertThat(broadcasts(atFloor, ReplicaTimeout.class)).isEmpty();
        // The leader brings the commit QC of view 101: every block a lost vote helped commit is at or below it.
        CommitQC qc101 = h.chain.commitQc(101, 2, p2);
        h.deliver(h.chain.sign(h.leader(102), new ReplicaNewView(qc101)));
        h.now += Harness.TIMEOUT;
        List<Output> caughtUp = h.step(new Input.TimerExpired());
        assertThat(broadcasts(caughtUp, ReplicaTimeout.class))
                .singleElement()
                .satisfies(t -> assertThat(t.highQc()).contains(qc101));
        assertThat(caughtUp.get(0))
                .as("phase timeout durable before the vote")
                .isInstanceOfSatisfying(
                        Output.PersistState.class,
                        p -> assertThat(p.state().phase()).isEqualTo(Phase.TIMEOUT));
    }

    @Test
    void aReplicaWithoutStateAtANewChainVotesOnceOthersShowNoQc() {
        startWithoutState();
        for (int i = 1; i <= 3; i++) {
            h.deliver(h.chain.sign(i, new ReplicaTimeout(h.chain.view(0), Optional.empty(), Optional.empty())));
        }
        assertThat(h.replica.firstVotingView()).isZero();
        assertThat(h.abstentions)
                .last()
                .asString()
                .isEqualTo("0: validators of weight 3 show no QC above view 0: a new chain");
        CommitQC qc = h.enterViewByCommitQc(1, 0, p1);
        h.step(new Input.BlocksPersisted(0, 0));
        assertThat(votes(proposeAndApprove(h.proposal(1, Optional.of(p2), qc)))).hasSize(1);
    }

    /** Validator {@code from}'s view-0 timeout vote, as every validator of a new chain sends it. */
    Signed<ReplicaTimeout> viewZeroTimeoutFrom(int from) {
        return h.chain.sign(from, new ReplicaTimeout(h.chain.view(0), Optional.empty(), Optional.empty()));
    }

    @Test
    void aNewChainsReportsAreCheckedTogetherOnceTheyWouldCount() {
        startWithoutState();
        h.deliver(viewZeroTimeoutFrom(1));
        h.deliver(viewZeroTimeoutFrom(2));
        assertThat(h.verifier.togetherChecks + h.verifier.timeoutVotesCheckedAlone)
                .as("weight 2 = 2f would not count: nothing checked")
                .isZero();
        h.deliver(viewZeroTimeoutFrom(3));
        assertThat(h.replica.firstVotingView()).isZero();
        assertThat(h.verifier.togetherChecks)
                .as("one aggregate check for the three")
                .isEqualTo(1);
        assertThat(h.verifier.timeoutVotesCheckedAlone).isZero();
    }

    @Test
    void aNewChainsReportWithABadSignatureIsNotCounted() {
        startWithoutState();
        h.deliver(viewZeroTimeoutFrom(1));
        h.deliver(viewZeroTimeoutFrom(2));
        Signed<ReplicaTimeout> three = viewZeroTimeoutFrom(3);
        h.deliver(new Signed<>(
                three.message(), three.key(), viewZeroTimeoutFrom(4).signature()));
        assertThat(h.replica.firstVotingView())
                .as("the forged report does not count: weight 2")
                .isEqualTo(Long.MAX_VALUE);
        assertThat(h.verifier.timeoutVotesCheckedAlone)
                .as("the aggregate failed: each checked alone")
                .isEqualTo(3);
        h.deliver(viewZeroTimeoutFrom(4));
        assertThat(h.replica.firstVotingView()).isZero();
        assertThat(h.abstentions)
                .last()
                .asString()
                .isEqualTo("0: validators of weight 3 show no QC above view 0: a new chain");
    }

    @Test
    void aForgedReportAfterTheSignersOwnDoesNotDisplaceIt() {
        startWithoutState();
        Signed<ReplicaTimeout> three = viewZeroTimeoutFrom(3);
        h.deliver(three);
        h.deliver(new Signed<>(
                three.message(), three.key(), viewZeroTimeoutFrom(4).signature()));
        h.deliver(viewZeroTimeoutFrom(1));
        h.deliver(viewZeroTimeoutFrom(2));
        assertThat(h.replica.firstVotingView())
                .as("validator 3's own report still counts: weight 3")
                .isZero();
    }

    @Test
    void anAbstainingReplicaStillProposesInTheViewsItLeadsButDoesNotVote() {
        startWithoutState();
        long led = java.util.stream.LongStream.range(100, 200)
                .filter(v -> h.leader(v) == h.me)
                .findFirst()
                .orElseThrow();
        for (int i = 1; i <= 3; i++) {
            h.deliver(newViewFrom(i == h.me ? 4 : i, led));
        }
        assertThat(h.replica.view()).isEqualTo(led);
        assertThat(h.replica.firstVotingView())
                .as("QCs shown up to view %d", led - 1)
                .isEqualTo(led + 2);
        assertThat(h.replica.abstaining()).isTrue();
        // Its views would otherwise all end by timeout, and validators abstaining with the faulty ones above f could
        // then never see the views they wait for: a proposal is no vote, and agreement never relies on the leader.
        List<Output> asked = h.step(new Input.BlocksPersisted(0, 1));
        assertThat(outputs(asked, Output.ProposePayload.class))
                .singleElement()
                .satisfies(pp -> assertThat(pp.blockNumber()).isEqualTo(2));
        List<Output> proposed = h.step(new Input.PayloadProposed(h.chain.view(led), 2, p2));
        Signed<? extends dev.tally.protocol.ChonkyMessage> sent =
                outputs(proposed, Output.Broadcast.class).getFirst().message();
        assertThat(sent.message()).isInstanceOf(LeaderProposal.class);
        @SuppressWarnings("unchecked") // checked just above
        Signed<LeaderProposal> proposal = (Signed<LeaderProposal>) sent;
        assertThat(votes(proposeAndApprove(proposal)))
                .as("below its floor it votes for no block, its own neither")
                .isEmpty();
        assertThat(broadcasts(proposed, ReplicaNewView.class)).isEmpty();
    }

    @Test
    void aCommitteeOfOneStartsWithoutWaitingForReportsNobodyCanSend() {
        TestChain solo = new TestChain(1);
        Replica replica = new Replica(
                new ConsensusConfig(solo.keys.get(0), solo.epoch, Harness.TIMEOUT, Harness.MAX_PAYLOAD),
                ReplicaState.initial(0),
                ConsensusObserver.NONE);
        List<Output> outs = replica.step(new Input.Start(), 0);
        Signed<? extends dev.tally.protocol.ChonkyMessage> timeout =
                outputs(outs, Output.Broadcast.class).getFirst().message();
        outs = replica.step(new Input.MessageReceived(timeout), 0);
        assertThat(replica.view()).isEqualTo(1);
        assertThat(replica.firstVotingView()).isZero();
        assertThat(outputs(outs, Output.ProposePayload.class))
                .as("it leads view 1")
                .hasSize(1);
    }

    // ---------------------------------------------------------------- new view

    @Test
    void newViewForLaterViewJumpsAtOnce() {
        inView5();
        CommitQC qc = h.chain.commitQc(11, 1, p1);
        List<Output> outs = h.deliver(h.chain.sign(h.notLeader(12), new ReplicaNewView(qc)));
        assertThat(h.replica.view()).isEqualTo(12);
        assertThat(outputs(outs, Output.PersistState.class)).isNotEmpty();
        assertThat(broadcasts(outs, ReplicaNewView.class)).hasSize(1);
    }

    @Test
    void newViewForCurrentViewCountsOnlyFromItsLeader() {
        // Enter view 5 through a timeout QC that carries no commit QC at all.
        List<ReplicaTimeout> tvotes = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            tvotes.add(new ReplicaTimeout(h.chain.view(4), Optional.empty(), Optional.empty()));
        }
        h.deliver(h.chain.sign(0, new ReplicaNewView(h.timeoutQc(4, tvotes))));
        assertThat(h.replica.view()).isEqualTo(5);
        CommitQC qc = h.chain.commitQc(4, 1, p1);
        h.deliver(h.chain.sign(h.notLeader(5), new ReplicaNewView(qc)));
        assertThat(h.replica.highCommitQc())
                .as("a non-leader's new view for the current view is ignored")
                .isEmpty();
        h.deliver(h.chain.sign(h.leader(5), new ReplicaNewView(qc)));
        assertThat(h.replica.highCommitQc())
                .as("the leader's brings the QC that completes the last block")
                .contains(qc);
        assertThat(h.replica.view()).isEqualTo(5);
    }

    @Test
    void aViewHasOneNewViewMessageEvenIfABetterQcArrivesLater() {
        List<ReplicaTimeout> tvotes = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            tvotes.add(new ReplicaTimeout(h.chain.view(4), Optional.empty(), Optional.empty()));
        }
        TimeoutQC tqc = h.timeoutQc(4, tvotes);
        List<Output> started = h.deliver(h.chain.sign(0, new ReplicaNewView(tqc)));
        ReplicaNewView first = broadcasts(started, ReplicaNewView.class).getFirst();
        assertThat(first.justification()).isEqualTo(tqc);
        h.deliver(h.chain.sign(h.leader(5), new ReplicaNewView(h.chain.commitQc(4, 1, p1))));
        h.now = 5000;
        List<Output> outs = h.step(new Input.TimerExpired());
        assertThat(broadcasts(outs, ReplicaNewView.class))
                .as("a second, different new-view message for view 5 would" + " be an equivocation")
                .containsExactly(first);
    }

    /** Restarts the replica from {@code persisted} with blocks 0 to {@code storedLast} stored, then lets its view time out. */
    private List<Output> restartAndTimeOut(ReplicaState persisted, long storedLast) {
        h.replica = h.newReplica(persisted);
        h.step(new Input.BlocksPersisted(0, storedLast));
        List<Output> outs = h.step(new Input.Start());
        h.now = 10_000;
        outs.addAll(h.step(new Input.TimerExpired()));
        return outs;
    }

    /** Enters view 5 through a new-view message carrying a TimeoutQC of view 4 (no high votes, no high QCs). */
    private List<Output> enterView5WithATimeoutQc() {
        List<ReplicaTimeout> tvotes = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            tvotes.add(new ReplicaTimeout(h.chain.view(4), Optional.empty(), Optional.empty()));
        }
        return h.deliver(h.chain.sign(0, new ReplicaNewView(h.timeoutQc(4, tvotes))));
    }

    @Test
    void aRestartedReplicaSignsNoNewViewMessageInTheViewItResumes() {
        List<Output> started = enterView5WithATimeoutQc();
        ReplicaNewView signed = broadcasts(started, ReplicaNewView.class).getFirst(); // with the TimeoutQC
        h.deliver(h.chain.sign(h.leader(5), new ReplicaNewView(h.chain.commitQc(4, 1, p1))));
        h.now = 5000;
        List<Output> timedOut = h.step(new Input.TimerExpired());
        assertThat(broadcasts(timedOut, ReplicaNewView.class)).containsExactly(signed);
        // Phase Timeout persisted, with both QCs of view 4.
        ReplicaState persisted =
                outputs(timedOut, Output.PersistState.class).getLast().state();
        // Crash after taking in the CommitQC of view 4: the TimeoutQC version it signed is forgotten.
        List<Output> outs = restartAndTimeOut(persisted, 1);
        assertThat(broadcasts(outs, ReplicaNewView.class))
                .as("a CommitQC version would be a second, different new-view message for view 5")
                .isEmpty();
        assertThat(broadcasts(outs, ReplicaTimeout.class))
                .isNotEmpty()
                .allSatisfy(t -> assertThat(t.view()).isEqualTo(h.chain.view(5)));
        // From the next view on it signs new-view messages again.
        List<ReplicaTimeout> next = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            next.add(new ReplicaTimeout(h.chain.view(5), Optional.empty(), Optional.of(h.chain.commitQc(4, 1, p1))));
        }
        assertThat(broadcasts(
                        h.deliver(h.chain.sign(1, new ReplicaNewView(h.timeoutQc(5, next)))), ReplicaNewView.class))
                .singleElement()
                .satisfies(nv -> assertThat(nv.view()).isEqualTo(h.chain.view(6)));
    }

    @Test
    void aReplicaRestartedBeforeSendingItsNewViewMessageSendsIt() {
        // Long-sweep seed 12689: the replica whose timeout vote completed the TimeoutQC crashed after persisting the
        // new view and before its new-view message left; the others, short of its weight, could never end the view.
        List<Output> entered = enterView5WithATimeoutQc();
        ReplicaNewView signed = broadcasts(entered, ReplicaNewView.class).getFirst();
        ReplicaState persisted =
                outputs(entered, Output.PersistState.class).getFirst().state();
        List<Output> outs = restartAndTimeOut(persisted, 0);
        assertThat(broadcasts(outs, ReplicaNewView.class))
                .as("the same new-view message, with the TimeoutQC it entered view 5 with")
                .containsExactly(signed);
    }

    @Test
    void restartFromPersistedStateNeverVotesTwiceInAView() {
        CommitQC qc = inView5();
        List<Output> outs = proposeAndApprove(h.proposal(5, Optional.of(p2), qc));
        ReplicaState persisted =
                outputs(outs, Output.PersistState.class).getLast().state();
        // Crash, restart from what was durable, and meet a conflicting proposal for the same view.
        h.replica = h.newReplica(persisted);
        h.step(new Input.BlocksPersisted(0, 1));
        h.step(new Input.Start());
        Payload other = TestChain.payload("conflicting");
        assertThat(votes(proposeAndApprove(h.proposal(5, Optional.of(other), qc))))
                .isEmpty();
        // Its timeout vote still reports the commit vote it made before the crash.
        h.now = 10_000;
        List<ReplicaTimeout> timeouts = broadcasts(h.step(new Input.TimerExpired()), ReplicaTimeout.class);
        assertThat(timeouts)
                .singleElement()
                .satisfies(t -> assertThat(t.highVote())
                        .contains(new ReplicaCommit(h.chain.view(5), new BlockHeader(2, p2.hash()))));
    }

    @Test
    void restartedInTimeoutPhaseRepeatsItsTimeout() {
        inView5();
        h.now = 2000;
        ReplicaState persisted = outputs(h.step(new Input.TimerExpired()), Output.PersistState.class)
                .getLast()
                .state();
        h.replica = h.newReplica(persisted);
        List<Output> outs = h.step(new Input.Start());
        assertThat(broadcasts(outs, ReplicaTimeout.class))
                .singleElement()
                .satisfies(t -> assertThat(t.view()).isEqualTo(h.chain.view(5)));
    }

    // ---------------------------------------------------------------- caching

    @Test
    void verifiedQcsAreNotVerifiedAgain() {
        inView5();
        CommitQC highQc = h.replica.highCommitQc().orElseThrow();
        long before = qcCacheHits();
        for (int i = 1; i <= 3; i++) {
            h.deliver(h.chain.sign(i, new ReplicaTimeout(h.chain.view(5), Optional.empty(), Optional.of(highQc))));
        }
        assertThat(qcCacheHits() - before)
                .as("the same high QC in three timeout votes")
                .isEqualTo(3);
    }

    private long qcCacheHits() {
        return h.verifier.hits();
    }
}
