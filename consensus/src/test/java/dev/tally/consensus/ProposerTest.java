package dev.tally.consensus;

import static dev.tally.consensus.Harness.broadcasts;
import static dev.tally.consensus.Harness.outputs;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tally.protocol.CommitQC;
import dev.tally.protocol.LeaderProposal;
import dev.tally.protocol.Payload;
import dev.tally.protocol.ReplicaCommit;
import dev.tally.protocol.ReplicaNewView;
import dev.tally.protocol.ReplicaTimeout;
import dev.tally.protocol.TestChain;
import dev.tally.protocol.TimeoutQC;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The leader's side: what it proposes for each kind of justification, and when. */
class ProposerTest {
    static final long VIEW = 7;
    final Payload p1 = TestChain.payload("block 1");
    final Payload fresh = TestChain.payload("fresh");

    /** A harness whose replica leads {@link #VIEW}. */
    Harness leaderOfView() {
        Harness probe = new Harness(0);
        return new Harness(probe.leader(VIEW));
    }

    List<Output> enterWith(Harness h, Object justification) {
        var nv = new ReplicaNewView((dev.tally.protocol.ProposalJustification) justification);
        return h.deliver(h.chain.sign(h.notLeader(VIEW), nv));
    }

    @Test
    void afterCommitQcProposesNextBlockOncePredecessorIsStored() {
        Harness h = leaderOfView();
        CommitQC qc = h.chain.commitQc(VIEW - 1, 1, p1);
        h.step(new Input.BlocksPersisted(0, 0));
        List<Output> outs = enterWith(h, qc);
        assertThat(outputs(outs, Output.ProposePayload.class))
                .as("block 1 not stored yet")
                .isEmpty();
        List<Output> stored = h.step(new Input.BlocksPersisted(0, 1));
        assertThat(outputs(stored, Output.ProposePayload.class))
                .containsExactly(new Output.ProposePayload(h.chain.view(VIEW), 2));
        List<Output> proposed = h.step(new Input.PayloadProposed(h.chain.view(VIEW), 2, fresh));
        assertThat(broadcasts(proposed, LeaderProposal.class))
                .containsExactly(new LeaderProposal(Optional.of(fresh), qc));
    }

    @Test
    void nonLeaderDoesNotPropose() {
        Harness probe = new Harness(0);
        Harness h = new Harness(probe.notLeader(VIEW));
        h.step(new Input.BlocksPersisted(0, 1));
        List<Output> outs = enterWith(h, h.chain.commitQc(VIEW - 1, 1, p1));
        assertThat(outputs(outs, Output.ProposePayload.class)).isEmpty();
        assertThat(broadcasts(outs, LeaderProposal.class)).isEmpty();
    }

    @Test
    void subquorumHighVoteIsReproposedAtOnceWithoutPayload() {
        Harness h = leaderOfView();
        CommitQC qc = h.chain.commitQc(VIEW - 3, 1, p1);
        ReplicaCommit highVote = h.chain.vote(VIEW - 2, 2, TestChain.payload("maybe final"));
        List<ReplicaTimeout> votes = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            votes.add(new ReplicaTimeout(
                    h.chain.view(VIEW - 1), i < 3 ? Optional.of(highVote) : Optional.empty(), Optional.of(qc)));
        }
        TimeoutQC tqc = h.timeoutQc(VIEW - 1, votes);
        List<Output> outs = enterWith(h, tqc);
        assertThat(outputs(outs, Output.ProposePayload.class)).isEmpty();
        assertThat(broadcasts(outs, LeaderProposal.class)).containsExactly(new LeaderProposal(Optional.empty(), tqc));
    }

    @Test
    void timeoutWithoutHighVoteProposesFreshBlockAfterHighQc() {
        Harness h = leaderOfView();
        CommitQC qc = h.chain.commitQc(VIEW - 3, 1, p1);
        List<ReplicaTimeout> votes = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            // Two subquorum-less groups of high votes: no reproposal.
            ReplicaCommit hv = h.chain.vote(VIEW - 2, 2, TestChain.payload(i < 2 ? "a" : i < 4 ? "b" : "c"));
            votes.add(new ReplicaTimeout(h.chain.view(VIEW - 1), Optional.of(hv), Optional.of(qc)));
        }
        h.step(new Input.BlocksPersisted(0, 1));
        List<Output> outs = enterWith(h, h.timeoutQc(VIEW - 1, votes));
        assertThat(outputs(outs, Output.ProposePayload.class))
                .containsExactly(new Output.ProposePayload(h.chain.view(VIEW), 2));
    }

    @Test
    void firstViewProposesTheGenesisFirstBlock() {
        Harness probe = new Harness(0);
        Harness h = new Harness(probe.leader(1));
        h.step(new Input.Start());
        List<Output> outs = List.of();
        for (int i = 0; i < 6; i++) {
            outs = h.deliver(h.chain.sign(i, new ReplicaTimeout(h.chain.view(0), Optional.empty(), Optional.empty())));
            if (h.replica.view() == 1) {
                break;
            }
        }
        assertThat(outputs(outs, Output.ProposePayload.class))
                .containsExactly(new Output.ProposePayload(h.chain.view(1), 0));
    }

    @Test
    void staleOrOversizedPayloadIsNotProposed() {
        Harness h = leaderOfView();
        h.step(new Input.BlocksPersisted(0, 1));
        enterWith(h, h.chain.commitQc(VIEW - 1, 1, p1));
        assertThat(broadcasts(
                        h.step(new Input.PayloadProposed(h.chain.view(VIEW - 1), 2, fresh)), LeaderProposal.class))
                .as("answer for another view")
                .isEmpty();
        Payload big = Payload.of(new byte[Harness.MAX_PAYLOAD + 1]);
        assertThat(broadcasts(h.step(new Input.PayloadProposed(h.chain.view(VIEW), 2, big)), LeaderProposal.class))
                .as("payload over the limit")
                .isEmpty();
    }

    @Test
    void restartedLeaderDoesNotProposeAgainInItsView() {
        Harness h = leaderOfView();
        h.step(new Input.BlocksPersisted(0, 1));
        List<Output> outs = enterWith(h, h.chain.commitQc(VIEW - 1, 1, p1));
        var state = outputs(outs, Output.PersistState.class).getLast().state();
        h.replica = h.newReplica(state);
        h.step(new Input.BlocksPersisted(0, 1));
        List<Output> restarted = h.step(new Input.Start());
        assertThat(outputs(restarted, Output.ProposePayload.class))
                .as("it may have proposed before the crash")
                .isEmpty();
    }
}
