package dev.tally.sim;

import dev.tally.consensus.LeaderSchedule;
import dev.tally.consensus.MessageVerifier;
import dev.tally.consensus.Output;
import dev.tally.crypto.BlsPublicKey;
import dev.tally.protocol.BlockHeader;
import dev.tally.protocol.ChonkyMessage;
import dev.tally.protocol.Epoch;
import dev.tally.protocol.InvalidMessageException;
import dev.tally.protocol.LeaderProposal;
import dev.tally.protocol.LeaderSelection;
import dev.tally.protocol.Phase;
import dev.tally.protocol.ProposalJustification;
import dev.tally.protocol.ReplicaCommit;
import dev.tally.protocol.ReplicaNewView;
import dev.tally.protocol.ReplicaState;
import dev.tally.protocol.ReplicaTimeout;
import dev.tally.protocol.Signed;
import dev.tally.protocol.ValidatorSchedule;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The broken replicas of the self-check that are broken inside the replica rather than in what the node does with
 * its outputs: the real {@code Replica} given a verifier that skips a check, or a wrong leader schedule, or fed
 * proposals re-signed in the leader's name; and one that votes where the replica would not.
 */
final class Broken {
    private Broken() {}

    /** The verifier a node's replica uses: the run's shared one, or one that skips a check. */
    static MessageVerifier verifier(Breakage breakage, MessageVerifier shared) {
        return switch (breakage) {
            case SKIPS_SIGNATURE_CHECK ->
                new Delegating(shared) {
                    @Override
                    public boolean verifySignature(Signed<? extends ChonkyMessage> message) {
                        return message.message() instanceof LeaderProposal
                                || message.message() instanceof ReplicaNewView
                                || shared.verifySignature(message);
                    }
                };
            case SKIPS_QC_VERIFICATION ->
                new Delegating(shared) {
                    @Override
                    public void verify(ProposalJustification qc, Epoch epoch) {} // the bug: any QC goes
                };
            default -> shared;
        };
    }

    /** The run's shared verifier in every check: a breakage overrides the one it skips. */
    private static class Delegating implements MessageVerifier {
        final MessageVerifier shared;

        Delegating(MessageVerifier shared) {
            this.shared = shared;
        }

        @Override
        public boolean verifySignature(Signed<? extends ChonkyMessage> message) {
            return shared.verifySignature(message);
        }

        @Override
        public boolean verifyTogether(Collection<? extends Signed<? extends ChonkyMessage>> signed) {
            return shared.verifyTogether(signed);
        }

        @Override
        public boolean verifyVotes(
                ProposalJustification qc, Collection<? extends Signed<? extends ChonkyMessage>> votes, Epoch epoch) {
            return shared.verifyVotes(qc, votes, epoch);
        }

        @Override
        public void verify(ProposalJustification qc, Epoch epoch) throws InvalidMessageException {
            shared.verify(qc, epoch);
        }
    }

    /** Who a node's replica thinks leads each view: the schedule's leader, or a wrong weighted draw. */
    static LeaderSchedule leaders(Breakage breakage, ValidatorSchedule committee) {
        if (breakage != Breakage.WRONG_WEIGHTED_LEADER
                || committee.leaderSelection().mode() != LeaderSelection.Mode.WEIGHTED) {
            return LeaderSchedule.of(committee);
        }
        // Every validator of the simulation may lead, so the draw walks the whole schedule.
        BlsPublicKey last = committee.get(committee.size() - 1).key();
        long frequency = committee.leaderSelection().frequency();
        return view ->
                Committee.weightedDraw(view / frequency, committee.totalWeight()) == 0 ? last : committee.leader(view);
    }

    /** Takes a proposal from any validator: each reaches the replica re-signed by the view's leader. */
    static final Behaviour ACCEPTS_ANY_PROPOSER = new Behaviour() {
        @Override
        public List<Action> act(List<Output> outputs, SimNode self, SimWorld sim) {
            return Behaviour.executeAll(outputs);
        }

        @Override
        public Signed<? extends ChonkyMessage> receive(
                Signed<? extends ChonkyMessage> message, SimNode self, SimWorld sim) {
            if (message.message() instanceof LeaderProposal p
                    && !message.key().equals(sim.leader(p.view().number()))
                    && sim.epoch().committee().contains(message.key())) {
                return Signed.sign(sim.secretKeyOf(sim.leader(p.view().number())), p);
            }
            return message;
        }
    };

    /**
     * Votes commit for its view's proposal after having sent its timeout vote in that view: at the timeout if the
     * proposal came before, or when it comes after.
     */
    static final class CommitsAfterTimeout implements Behaviour {
        private final Map<Long, BlockHeader> proposed = new HashMap<>();
        private long votedIn = -1;

        @Override
        public List<Action> act(List<Output> outputs, SimNode self, SimWorld sim) {
            List<Action> actions = new ArrayList<>(Behaviour.executeAll(outputs));
            for (Output o : outputs) {
                if (o instanceof Output.Broadcast b && b.message().message() instanceof ReplicaTimeout t) {
                    actions.addAll(lateVote(t.view().number(), self, sim));
                }
            }
            return actions;
        }

        @Override
        public List<Action> observe(Signed<? extends ChonkyMessage> message, SimNode self, SimWorld sim) {
            if (!(message.message() instanceof LeaderProposal p)
                    || !message.key().equals(sim.leader(p.view().number()))) {
                return List.of();
            }
            long v = p.view().number();
            proposed.keySet().removeIf(view -> view < v - 2);
            // The self-check runs it among honest validators only: the leader's proposals are well-formed.
            proposed.put(
                    v,
                    switch (p.justification().impliedBlock(sim.epoch())) {
                        case ProposalJustification.Reproposal r -> r.header();
                        case ProposalJustification.FreshBlock f ->
                            new BlockHeader(
                                    f.number(),
                                    p.proposalPayload().orElseThrow().hash());
                    });
            boolean timedOut =
                    self.replica != null && self.replica.view() == v && self.replica.phase() == Phase.TIMEOUT;
            return timedOut ? lateVote(v, self, sim) : List.of();
        }

        /** The vote, persisted as the high vote first (so only the vote's timing is wrong, not its durability). */
        private List<Action> lateVote(long view, SimNode self, SimWorld sim) {
            BlockHeader header = proposed.get(view);
            boolean voted = view <= votedIn
                    || self.replica
                            .highVote()
                            .map(hv -> hv.view().number() >= view)
                            .orElse(false);
            if (header == null || voted) {
                return List.of();
            }
            votedIn = view;
            ReplicaCommit vote = new ReplicaCommit(sim.epoch().view(view), header);
            ReplicaState s = self.replica.state();
            ReplicaState withVote = new ReplicaState(
                    s.epoch(),
                    s.view(),
                    s.phase(),
                    Optional.of(vote),
                    s.highCommitQc(),
                    s.highTimeoutQc(),
                    s.proposals());
            return List.of(
                    new Action.Execute(new Output.PersistState(withVote)),
                    new Action.SendTo(sim.allNodes(), Signed.sign(self.key, vote)));
        }
    }
}
