package dev.tally.microbench;

import dev.tally.consensus.ConsensusConfig;
import dev.tally.consensus.ConsensusObserver;
import dev.tally.consensus.Input;
import dev.tally.consensus.Output;
import dev.tally.consensus.Replica;
import dev.tally.protocol.ChonkyMessage;
import dev.tally.protocol.Codec;
import dev.tally.protocol.CommitQC;
import dev.tally.protocol.DecodeException;
import dev.tally.protocol.LeaderProposal;
import dev.tally.protocol.Payload;
import dev.tally.protocol.Phase;
import dev.tally.protocol.Proposal;
import dev.tally.protocol.ReplicaCommit;
import dev.tally.protocol.ReplicaNewView;
import dev.tally.protocol.ReplicaState;
import dev.tally.protocol.ReplicaTimeout;
import dev.tally.protocol.Signed;
import dev.tally.protocol.TimeoutQC;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The consensus core's hot paths, through {@link Replica#step} exactly as the node drives it (signature
 * checks, QC verification, state persistence outputs and the replica's own signing included). Each
 * invocation starts from a fresh replica restored from a persisted state (construction is cheap next to one
 * BLS verification, and it is what makes every invocation see the same votes as new).
 * <ul>
 *   <li>commitVote: one commit vote below the quorum: bookkeeping only (since 185c4ed votes' signatures are
 *       checked together, as the QC of the quorum; before, this was one BLS verification).</li>
 *   <li>commitQuorum: a replica that voted for block 2 in view 5 receives the quorum's (n - f) commit votes
 *       one by one (the others' as decoded from their encoding, as a node receives them); the last one completes the QC: aggregation, one aggregate verification of the QC, block 2
 *       final, state persisted, a signed new-view for view 6.</li>
 *   <li>timeoutQuorum: a replica that voted for block 2 in view 5 and timed out receives the quorum's (n - f)
 *       timeout votes (each with that high vote and the commit QC of view 4, as decoded from their encoding); the
 *       last one completes the timeout QC: its verification (since this was added, one aggregate check; before,
 *       one BLS verification per vote on receipt), state persisted, a signed new-view for view 6.</li>
 *   <li>proposalToVote: a replica in view 5 with block 1 stored receives the leader's proposal of block 2
 *       (1 KiB payload, justified by the commit QC of view 4, verified uncached), asks the execution layer to
 *       check the payload, gets its approval, persists its state and signs its commit vote.</li>
 * </ul>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Benchmark)
public class ReplicaStepBenchmark {
    @Param({"6", "100"})
    int n;

    /** Whether the replica checks its own invariants after every step (what that costs). */
    @Param({"true", "false"})
    boolean checkInvariants;

    BenchChain chain;
    ConsensusConfig voterConfig;
    ReplicaState votedInView5;
    List<Input> quorumVotes;
    Input oneVote;

    ReplicaState timedOutInView5;
    List<Input> quorumTimeouts;

    ConsensusConfig followerConfig;
    ReplicaState preparingView5;
    Input stored;
    Input proposal;
    Input approval;

    @Setup
    public void setUp() throws DecodeException {
        chain = new BenchChain(n);
        Payload p1 = BenchChain.payload(1024, 1);
        Payload p2 = BenchChain.payload(1024, 2);
        CommitQC qc4 = chain.commitQc(chain.vote(4, 1, p1));
        ReplicaCommit vote5 = chain.vote(5, 2, p2);

        // Validator 0 voted for block 2 in view 5 and waits for the others' votes.
        voterConfig = new ConsensusConfig(
                        chain.keys.get(0),
                        chain.epoch,
                        ConsensusConfig.DEFAULT_VIEW_TIMEOUT_MILLIS,
                        ConsensusConfig.DEFAULT_MAX_PAYLOAD_SIZE)
                .withInvariantChecks(checkInvariants);
        votedInView5 = votedForBlock2InView5(Phase.COMMIT, vote5, qc4, p2);
        quorumVotes = fromQuorum(vote5);
        oneVote = quorumVotes.get(1);

        // The same validator, after view 5 timed out: every validator voted for block 2 and reports it.
        timedOutInView5 = votedForBlock2InView5(Phase.TIMEOUT, vote5, qc4, p2);
        quorumTimeouts = fromQuorum(new ReplicaTimeout(chain.view(5), Optional.of(vote5), Optional.of(qc4)));

        // A validator other than view 5's leader, in view 5 with block 1 stored, waiting for the proposal.
        int leader = chain.leaderIndex(5);
        int follower = (leader + 1) % n;
        followerConfig = new ConsensusConfig(
                        chain.keys.get(follower),
                        chain.epoch,
                        ConsensusConfig.DEFAULT_VIEW_TIMEOUT_MILLIS,
                        ConsensusConfig.DEFAULT_MAX_PAYLOAD_SIZE)
                .withInvariantChecks(checkInvariants);
        preparingView5 =
                new ReplicaState(0, 5, Phase.PREPARE, Optional.empty(), Optional.of(qc4), Optional.empty(), List.of());
        stored = new Input.BlocksPersisted(0, 1);
        Signed<LeaderProposal> signedProposal = chain.sign(leader, new LeaderProposal(Optional.of(p2), qc4));
        proposal = new Input.MessageReceived(signedProposal);
        approval = new Input.PayloadVerified(chain.view(5), 2, p2, true, "");

        // The scenarios must do what they claim, or the figures mean nothing.
        List<Output> outs = commitQuorum();
        if (outs.stream()
                .noneMatch(o -> o instanceof Output.FinalizeBlock f && f.block().number() == 2)) {
            throw new IllegalStateException("commit quorum did not finalize block 2: " + outs);
        }
        outs = timeoutQuorum();
        if (outs.stream()
                .noneMatch(o -> o instanceof Output.Broadcast b
                        && b.message().message() instanceof ReplicaNewView nv
                        && nv.justification() instanceof TimeoutQC
                        && nv.view().number() == 6)) {
            throw new IllegalStateException("timeout quorum did not start view 6 with a timeout QC: " + outs);
        }
        if (!commitVote().isEmpty()) {
            throw new IllegalStateException("a single commit vote produced outputs");
        }
        outs = proposalToVote();
        if (outs.stream()
                .noneMatch(o -> o instanceof Output.Broadcast b && b.message().message() instanceof ReplicaCommit)) {
            throw new IllegalStateException("proposal did not lead to a commit vote: " + outs);
        }
    }

    private static ReplicaState votedForBlock2InView5(Phase phase, ReplicaCommit vote5, CommitQC qc4, Payload p2) {
        return new ReplicaState(
                0, 5, phase, Optional.of(vote5), Optional.of(qc4), Optional.empty(), List.of(new Proposal(2, p2)));
    }

    /** The quorum's (n - f) signatures of {@code message}: validator 0's own as it signed it, the others' as decoded. */
    private <M extends ChonkyMessage> List<Input> fromQuorum(M message) throws DecodeException {
        List<Input> inputs = new ArrayList<>();
        for (int i = 0; i < chain.quorum(); i++) {
            Signed<M> signed = chain.sign(i, message);
            inputs.add(new Input.MessageReceived(i == 0 ? signed : Codec.decodeSigned(Codec.encode(signed))));
        }
        return inputs;
    }

    private Replica replica(ConsensusConfig config, ReplicaState state) {
        return new Replica(config, state, ConsensusObserver.NONE);
    }

    @Benchmark
    public List<Output> commitVote() {
        return replica(voterConfig, votedInView5).step(oneVote, 1);
    }

    @Benchmark
    public List<Output> commitQuorum() {
        return voterTakes(votedInView5, quorumVotes);
    }

    @Benchmark
    public List<Output> timeoutQuorum() {
        return voterTakes(timedOutInView5, quorumTimeouts);
    }

    /** Validator 0's replica restored from {@code state} stepped through {@code votes}; the last step's outputs. */
    private List<Output> voterTakes(ReplicaState state, List<Input> votes) {
        Replica r = replica(voterConfig, state);
        List<Output> last = null;
        for (Input vote : votes) {
            last = r.step(vote, 1);
        }
        return last;
    }

    @Benchmark
    public List<Output> proposalToVote() {
        Replica r = replica(followerConfig, preparingView5);
        r.step(stored, 1);
        r.step(proposal, 1);
        return r.step(approval, 1);
    }
}
