package dev.tally.conformance;

import dev.tally.consensus.ConsensusObserver;
import dev.tally.consensus.Input;
import dev.tally.consensus.Output;
import dev.tally.consensus.Replica;
import dev.tally.protocol.ChonkyMessage;
import dev.tally.protocol.LeaderProposal;
import dev.tally.protocol.Phase;
import dev.tally.protocol.ReplicaCommit;
import dev.tally.protocol.ReplicaState;
import dev.tally.protocol.Signed;
import dev.tally.protocol.ValidatorSchedule;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/** Replicas broken on purpose, built around the real one from outside the core, to show what the replay catches. */
final class BrokenReplicas {
    private BrokenReplicas() {}

    /** Runs a real replica; the broken ones below change what goes in or comes out. */
    static class Wrapped implements Replay.ReplicaUnderTest {
        final Replay.ReplicaSetup setup;
        Replica replica;

        Wrapped(Replay.ReplicaSetup setup) {
            this.setup = setup;
            this.replica = setup.replica();
        }

        @Override
        public Replica replica() {
            return replica;
        }
    }

    /** A leader that proposes a new block where its TimeoutQC's subquorum high vote requires a reproposal. */
    static final Replay.ReplicaFactory IGNORES_SUBQUORUM_REPROPOSAL = setup -> new Wrapped(setup) {
        @Override
        public List<Output> step(Input input, long nowMillis) {
            return replica.step(input, nowMillis).stream()
                    .map(this::freshInsteadOfReproposal)
                    .toList();
        }

        private Output freshInsteadOfReproposal(Output out) {
            if (out instanceof Output.Broadcast b
                    && b.message().message() instanceof LeaderProposal p
                    && p.proposalPayload().isEmpty()) {
                LeaderProposal fresh =
                        new LeaderProposal(Optional.of(setup.mapping().payload("val_b0")), p.justification());
                return new Output.Broadcast(Signed.sign(setup.config().validatorKey(), fresh));
            }
            return out;
        }
    };

    /**
     * A replica that certifies a block one vote short of the quorum: when the commit votes it holds for a block
     * weigh one less than the quorum, it counts a validator that did not vote.
     */
    static final Replay.ReplicaFactory QC_BELOW_QUORUM = setup -> new Wrapped(setup) {
        private final Map<ReplicaCommit, Set<String>> voters = new HashMap<>();

        @Override
        public List<Output> step(Input input, long nowMillis) {
            List<Output> out = new ArrayList<>(replica.step(input, nowMillis));
            if (input instanceof Input.MessageReceived m && m.message().message() instanceof ReplicaCommit vote) {
                Mapping mapping = setup.mapping();
                Set<String> signers = voters.computeIfAbsent(vote, v -> new HashSet<>());
                signers.add(mapping.nameOf(m.message().key()));
                ValidatorSchedule committee = mapping.epoch().committee();
                if (signers.size() == committee.quorumThreshold() - 1
                        && replica.view() == vote.view().number()) {
                    String absent = mapping.keyNames().stream()
                            .filter(k -> !signers.contains(k))
                            .findFirst()
                            .orElseThrow();
                    signers.add(absent);
                    out.addAll(replica.step(new Input.MessageReceived(mapping.sign(absent, vote)), nowMillis));
                }
            }
            return out;
        }
    };

    /**
     * A replica that takes a validator that does not lead a view (the next one after the leader) for its leader, in
     * the views it does not lead itself (so that its own proposer still acts as the model's).
     */
    static final Replay.ReplicaFactory TAKES_NON_LEADER_PROPOSALS = setup -> {
        Mapping mapping = setup.mapping();
        String me = Mapping.keyOf(setup.id());
        Replica replica = new Replica(
                setup.config(),
                setup.state(),
                ConsensusObserver.NONE,
                setup.verifier(),
                view -> mapping.secretKey(me.equals(mapping.leaderOf(view)) ? me : mapping.nonLeader(view))
                        .publicKey());
        return () -> replica;
    };

    /** A replica that forgets it timed out when a proposal of that view arrives, and votes for it. */
    static final Replay.ReplicaFactory VOTES_AFTER_TIMEOUT = setup -> new Wrapped(setup) {
        @Override
        public List<Output> step(Input input, long nowMillis) {
            if (input instanceof Input.MessageReceived m
                    && isProposalOfCurrentView(m.message())
                    && replica.phase() == Phase.TIMEOUT) {
                ReplicaState s = replica.state();
                replica = new Replica(
                        setup.config(),
                        new ReplicaState(
                                s.epoch(),
                                s.view(),
                                Phase.PREPARE,
                                s.highVote(),
                                s.highCommitQc(),
                                s.highTimeoutQc(),
                                s.proposals()),
                        ConsensusObserver.NONE,
                        setup.verifier(),
                        setup.leaders());
            }
            return replica.step(input, nowMillis);
        }

        private boolean isProposalOfCurrentView(Signed<? extends ChonkyMessage> message) {
            return message.message() instanceof LeaderProposal p && p.view().number() == replica.view();
        }
    };
}
