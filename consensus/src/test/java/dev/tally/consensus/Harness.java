package dev.tally.consensus;

import dev.tally.protocol.ChonkyMessage;
import dev.tally.protocol.CommitQC;
import dev.tally.protocol.Epoch;
import dev.tally.protocol.InvalidMessageException;
import dev.tally.protocol.LeaderProposal;
import dev.tally.protocol.Payload;
import dev.tally.protocol.Phase;
import dev.tally.protocol.ProposalJustification;
import dev.tally.protocol.ReplicaCommit;
import dev.tally.protocol.ReplicaState;
import dev.tally.protocol.ReplicaTimeout;
import dev.tally.protocol.Signed;
import dev.tally.protocol.TestChain;
import dev.tally.protocol.TimeoutQC;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;

/** One replica of a six-validator chain (f = 1, quorum 5, subquorum 3), driven by hand. */
final class Harness {
    static final long TIMEOUT = 1000;
    static final int MAX_PAYLOAD = 100;

    final TestChain chain = new TestChain(6);
    final int me;
    final List<Rejection> rejections = new ArrayList<>();
    /** The voting floors the replica announced, with their reasons. */
    final List<String> abstentions = new ArrayList<>();
    /** Blocks finalized with the payload of a proposal that came after their QC. */
    final List<Long> lateFinalizations = new ArrayList<>();

    final CountingVerifier verifier = new CountingVerifier();
    Replica replica;
    long now = 0;

    Harness(int me) {
        this.me = me;
        // A replica that has run before (its view-0 timeout is on disk); fresh starts are tested on their own.
        ReplicaState initial = ReplicaState.initial(0);
        this.replica = newReplica(new ReplicaState(
                0,
                0,
                Phase.TIMEOUT,
                initial.highVote(),
                initial.highCommitQc(),
                initial.highTimeoutQc(),
                initial.proposals()));
    }

    ConsensusConfig config() {
        return new ConsensusConfig(chain.keys.get(me), chain.epoch, TIMEOUT, MAX_PAYLOAD);
    }

    Replica newReplica(ReplicaState state) {
        return newReplica(state, LeaderSchedule.of(chain.committee()));
    }

    Replica newReplica(ReplicaState state, LeaderSchedule leaders) {
        return new Replica(
                config(),
                state,
                new ConsensusObserver() {
                    @Override
                    public void messageRejected(String kind, Rejection rejection) {
                        rejections.add(rejection);
                    }

                    @Override
                    public void finalizedByLateProposal(long number) {
                        lateFinalizations.add(number);
                    }

                    @Override
                    public void abstaining(long firstVotingView, String reason) {
                        abstentions.add(firstVotingView + ": " + reason);
                    }
                },
                verifier,
                leaders);
    }

    List<Output> step(Input in) {
        return replica.step(in, now);
    }

    List<Output> deliver(Signed<? extends ChonkyMessage> m) {
        return step(new Input.MessageReceived(m));
    }

    /** The leader index of a view, in this chain's key order. */
    int leader(long view) {
        return chain.keys.indexOf(chain.keys.stream()
                .filter(k -> k.publicKey().equals(chain.committee().leader(view)))
                .findFirst()
                .orElseThrow());
    }

    int notLeader(long view) {
        return (leader(view) + 1) % 6;
    }

    /** Puts the replica into {@code view} (phase prepare) through a commit QC for the view before. */
    CommitQC enterViewByCommitQc(long view, long block, Payload p) {
        CommitQC qc = chain.commitQc(view - 1, block, p);
        deliver(chain.sign(leader(view), new dev.tally.protocol.ReplicaNewView(qc)));
        return qc;
    }

    Signed<LeaderProposal> proposal(long view, Optional<Payload> payload, ProposalJustification j) {
        return chain.sign(leader(view), new LeaderProposal(payload, j));
    }

    TimeoutQC timeoutQc(long view, List<ReplicaTimeout> votes) {
        return chain.timeoutQc(view, votes);
    }

    /** The replica's verification cache, counting how votes get checked. */
    static final class CountingVerifier implements MessageVerifier {
        private final VerificationCache cache = new VerificationCache(1024);
        int commitVotesCheckedAlone;
        int timeoutVotesCheckedAlone;
        int quorumsChecked;
        /** Checks of several signatures as one aggregate that is not a QC (a new chain's reports). */
        int togetherChecks;

        @Override
        public boolean verifySignature(Signed<? extends ChonkyMessage> message) {
            switch (message.message()) {
                case ReplicaCommit c -> commitVotesCheckedAlone++;
                case ReplicaTimeout t -> timeoutVotesCheckedAlone++;
                default -> {}
            }
            return cache.verifySignature(message);
        }

        @Override
        public boolean verifyTogether(Collection<? extends Signed<? extends ChonkyMessage>> signed) {
            togetherChecks++;
            return MessageVerifier.super.verifyTogether(signed);
        }

        @Override
        public boolean verifyVotes(
                ProposalJustification qc, Collection<? extends Signed<? extends ChonkyMessage>> votes, Epoch epoch) {
            quorumsChecked++;
            return MessageVerifier.super.verifyVotes(qc, votes, epoch);
        }

        @Override
        public void verify(ProposalJustification qc, Epoch epoch) throws InvalidMessageException {
            cache.verify(qc, epoch);
        }

        long hits() {
            return cache.hits();
        }
    }

    static <T> List<T> outputs(List<Output> outs, Class<T> type) {
        return outs.stream().filter(type::isInstance).map(type::cast).toList();
    }

    static <M extends ChonkyMessage> List<M> broadcasts(List<Output> outs, Class<M> type) {
        return outputs(outs, Output.Broadcast.class).stream()
                .map(b -> b.message().message())
                .filter(type::isInstance)
                .map(type::cast)
                .toList();
    }

    static List<ReplicaCommit> votes(List<Output> outs) {
        return broadcasts(outs, ReplicaCommit.class);
    }
}
