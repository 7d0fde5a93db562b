package dev.tally.sim;

import dev.tally.consensus.Output;
import dev.tally.crypto.BlsPublicKey;
import dev.tally.crypto.BlsSecretKey;
import dev.tally.protocol.BlockHeader;
import dev.tally.protocol.ChonkyMessage;
import dev.tally.protocol.Codec;
import dev.tally.protocol.CommitQC;
import dev.tally.protocol.CommitQCBuilder;
import dev.tally.protocol.DecodeException;
import dev.tally.protocol.LeaderProposal;
import dev.tally.protocol.ProposalJustification;
import dev.tally.protocol.ReplicaCommit;
import dev.tally.protocol.ReplicaNewView;
import dev.tally.protocol.ReplicaTimeout;
import dev.tally.protocol.Signed;
import dev.tally.protocol.Signers;
import dev.tally.protocol.View;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/** The Byzantine behaviours and the deliberately broken replicas of the self-check. */
final class Faulty {
    private Faulty() {}

    /** A key outside every committee, for messages signed by a stranger. */
    private static final BlsSecretKey OUTSIDER =
            BlsSecretKey.fromSeed(ByteBuffer.allocate(32).putInt(0, 0x0bad_beef).array());

    static Behaviour of(Byzantine kind) {
        return switch (kind) {
            case NONE -> Behaviour.HONEST;
            case EQUIVOCATING_LEADER -> (Behaviour.BroadcastRewriter) Faulty::equivocateProposal;
            case DOUBLE_VOTER -> (Behaviour.BroadcastRewriter) Faulty::splitCommitVote;
            case WITHHOLDER -> (Behaviour.BroadcastRewriter) Faulty::withholdVotes;
            case MALFORMED -> (Behaviour.BroadcastRewriter) Faulty::malform;
            case BAD_REPROPOSAL ->
                (Behaviour.BroadcastRewriter) (m, self, sim, into) -> wrongReproposal(m, self, sim, into, true);
            case NON_LEADER_PROPOSER -> (Behaviour.BroadcastRewriter) Faulty::proposeOutOfTurn;
            case FORGED_SIGNATURES -> (Behaviour.BroadcastRewriter) Faulty::forgeSignatures;
            case FORGED_QC -> new QcForger();
            case REPLAY -> new Replayer();
        };
    }

    static Behaviour of(Breakage breakage) {
        return switch (breakage) {
            case NONE -> Behaviour.HONEST;
            case VOTES_TWICE -> (Behaviour.BroadcastRewriter) Faulty::voteTwice;
            case QC_BELOW_QUORUM -> new QcBelowQuorum();
            case IGNORES_REPROPOSAL_RULE ->
                (Behaviour.BroadcastRewriter) (m, self, sim, into) -> wrongReproposal(m, self, sim, into, false);
            case VOTES_BEFORE_PERSISTING -> Faulty::votesBeforePersisting;
            case ACCEPTS_NON_LEADER_PROPOSALS -> Broken.ACCEPTS_ANY_PROPOSER;
            case COMMITS_AFTER_TIMEOUT -> new Broken.CommitsAfterTimeout();
            case STALLS_AFTER_A_BLOCK ->
                (Behaviour.BroadcastRewriter) (m, self, sim, into) -> {
                    if (sim.blockFinalSinceStable()) {
                        withholdVotes(m, self, sim, into);
                    } else {
                        sendAll(m, sim, into);
                    }
                };
            case SKIPS_SIGNATURE_CHECK, SKIPS_QC_VERIFICATION, WRONG_WEIGHTED_LEADER ->
                Behaviour.HONEST; // broken inside: see Broken
        };
    }

    private static void sendAll(Signed<? extends ChonkyMessage> m, SimWorld sim, List<Action> into) {
        into.add(new Action.SendTo(sim.allNodes(), m));
    }

    private static void equivocateProposal(
            Signed<? extends ChonkyMessage> m, SimNode self, SimWorld sim, List<Action> into) {
        if (m.message() instanceof LeaderProposal p && p.proposalPayload().isPresent()) {
            long number = p.justification().impliedBlock(sim.epoch()).number();
            var other = new LeaderProposal(
                    Optional.of(SimExecution.propose(number, self.id, sim.rng())), p.justification());
            split(m, Signed.sign(self.key, other), sim, into);
        } else {
            sendAll(m, sim, into);
        }
    }

    private static void splitCommitVote(
            Signed<? extends ChonkyMessage> m, SimNode self, SimWorld sim, List<Action> into) {
        if (m.message() instanceof ReplicaCommit c) {
            split(m, Signed.sign(self.key, otherVote(c, self, sim)), sim, into);
        } else {
            sendAll(m, sim, into);
        }
    }

    private static ReplicaCommit otherVote(ReplicaCommit c, SimNode self, SimWorld sim) {
        long n = c.proposal().number();
        return new ReplicaCommit(
                c.view(),
                new BlockHeader(n, SimExecution.propose(n, self.id, sim.rng()).hash()));
    }

    /** Sends {@code a} to a random half of the nodes and {@code b} to the rest. */
    private static void split(
            Signed<? extends ChonkyMessage> a, Signed<? extends ChonkyMessage> b, SimWorld sim, List<Action> into) {
        List<Integer> left = new ArrayList<>();
        List<Integer> right = new ArrayList<>();
        for (int node : sim.allNodes()) {
            (sim.rng().nextBoolean() ? left : right).add(node);
        }
        into.add(new Action.SendTo(left, a));
        into.add(new Action.SendTo(right, b));
    }

    private static void withholdVotes(
            Signed<? extends ChonkyMessage> m, SimNode self, SimWorld sim, List<Action> into) {
        if (!(m.message() instanceof ReplicaCommit) && !(m.message() instanceof ReplicaTimeout)) {
            sendAll(m, sim, into);
        }
    }

    /** Corrupts each message one way or another; sometimes also sends the real one. */
    private static void malform(Signed<? extends ChonkyMessage> m, SimNode self, SimWorld sim, List<Action> into) {
        switch (sim.rng().nextInt(4)) {
            case 0 -> sendAll(Signed.sign(OUTSIDER, m.message()), sim, into);
            case 1 ->
                sendAll(
                        new Signed<>(m.message(), m.key(), self.key.sign(new byte[32])),
                        sim,
                        into); // someone else's signature
            case 2 -> {
                byte[] bytes = Codec.encode(m);
                for (int flips = 1 + sim.rng().nextInt(3); flips > 0; flips--) {
                    bytes[sim.rng().nextInt(bytes.length)] ^=
                            (byte) (1 << sim.rng().nextInt(8));
                }
                try {
                    sendAll(Codec.decodeSigned(bytes), sim, into);
                } catch (DecodeException e) {
                    // Nothing to send: the network's decoder refuses it before any replica sees it.
                }
            }
            default -> {
                if (m.message() instanceof LeaderProposal p
                        && p.proposalPayload().isPresent()) {
                    long n = p.justification().impliedBlock(sim.epoch()).number();
                    var bad = new LeaderProposal(
                            Optional.of(SimExecution.corrupt(n, self.id, sim.rng())), p.justification());
                    sendAll(Signed.sign(self.key, bad), sim, into);
                }
            }
        }
        if (sim.rng().nextBoolean()) {
            sendAll(m, sim, into);
        }
    }

    /**
     * Proposes a new block where the justification requires a reproposal; as a Byzantine leader
     * ({@code both}) it also reproposes where it must propose a new block.
     */
    private static void wrongReproposal(
            Signed<? extends ChonkyMessage> m, SimNode self, SimWorld sim, List<Action> into, boolean both) {
        if (m.message() instanceof LeaderProposal p) {
            ProposalJustification j = p.justification();
            switch (j.impliedBlock(sim.epoch())) {
                case ProposalJustification.Reproposal r -> {
                    var fresh =
                            new LeaderProposal(Optional.of(SimExecution.propose(r.number(), self.id, sim.rng())), j);
                    sendAll(Signed.sign(self.key, fresh), sim, into);
                    return;
                }
                case ProposalJustification.FreshBlock f -> {
                    if (both) {
                        sendAll(Signed.sign(self.key, new LeaderProposal(Optional.empty(), j)), sim, into);
                        return;
                    }
                }
            }
        }
        sendAll(m, sim, into);
    }

    private static void voteTwice(Signed<? extends ChonkyMessage> m, SimNode self, SimWorld sim, List<Action> into) {
        sendAll(m, sim, into);
        if (m.message() instanceof ReplicaCommit c) {
            sendAll(Signed.sign(self.key, otherVote(c, self, sim)), sim, into);
        }
    }

    /** Executes the step's votes first and its state writes after them. */
    private static List<Action> votesBeforePersisting(List<Output> outputs, SimNode self, SimWorld sim) {
        List<Action> votes = new ArrayList<>();
        List<Action> rest = new ArrayList<>();
        for (Output o : outputs) {
            boolean vote = o instanceof Output.Broadcast b
                    && (b.message().message() instanceof ReplicaCommit
                            || b.message().message() instanceof ReplicaTimeout);
            (vote ? votes : rest).add(new Action.Execute(o));
        }
        votes.addAll(rest);
        return votes;
    }

    /** A proposal of its own for every view it enters where someone else leads, signed by itself. */
    private static void proposeOutOfTurn(
            Signed<? extends ChonkyMessage> m, SimNode self, SimWorld sim, List<Action> into) {
        sendAll(m, sim, into);
        if (m.message() instanceof ReplicaNewView nv
                && !sim.leader(nv.view().number()).equals(self.key.publicKey())) {
            sendAll(Signed.sign(self.key, ownProposal(nv.justification(), self, sim)), sim, into);
        }
    }

    /** A proposal well-formed for {@code j}: a fresh payload of this node's, or the reproposal {@code j} requires. */
    private static LeaderProposal ownProposal(ProposalJustification j, SimNode self, SimWorld sim) {
        return switch (j.impliedBlock(sim.epoch())) {
            case ProposalJustification.Reproposal r -> new LeaderProposal(Optional.empty(), j);
            case ProposalJustification.FreshBlock f ->
                new LeaderProposal(Optional.of(SimExecution.propose(f.number(), self.id, sim.rng())), j);
        };
    }

    /** {@code message} in the name of {@code author}, with this node's signature. */
    private static <M extends ChonkyMessage> Signed<M> forged(M message, BlsPublicKey author, SimNode self) {
        return new Signed<>(
                message, author, self.key.sign(message.hash().keccak().bytes()));
    }

    /**
     * Besides its own messages: the leader's proposal of each view it enters, for a block of its own; a commit vote
     * for that block and a timeout vote in another validator's name; its new-view message as another's.
     */
    private static void forgeSignatures(
            Signed<? extends ChonkyMessage> m, SimNode self, SimWorld sim, List<Action> into) {
        sendAll(m, sim, into);
        BlsPublicKey someone = sim.epoch()
                .committee()
                .get(sim.rng().nextInt(sim.epoch().committee().size()))
                .key();
        switch (m.message()) {
            case ReplicaNewView nv -> {
                BlsPublicKey leader = sim.leader(nv.view().number());
                if (!leader.equals(self.key.publicKey())) {
                    sendAll(forged(ownProposal(nv.justification(), self, sim), leader, self), sim, into);
                }
                sendAll(forged(nv, someone, self), sim, into);
            }
            case ReplicaCommit c -> sendAll(forged(otherVote(c, self, sim), someone, self), sim, into);
            case ReplicaTimeout t ->
                sendAll(
                        forged(new ReplicaTimeout(t.view(), Optional.empty(), Optional.empty()), someone, self),
                        sim,
                        into);
            case LeaderProposal p -> {}
        }
    }

    /**
     * Sends, besides its own messages, new-view messages and timeout votes whose CommitQC does not verify: made from
     * its replica's high CommitQC with a signer added or dropped, with the vote of a later view or another block under
     * the same aggregate, or aggregated from real votes short of the quorum.
     */
    private static final class QcForger implements Behaviour.BroadcastRewriter {
        private final Map<ReplicaCommit, CommitQCBuilder> seen = new HashMap<>();

        @Override
        public List<Action> observe(Signed<? extends ChonkyMessage> message, SimNode self, SimWorld sim) {
            if (message.message() instanceof ReplicaCommit vote
                    && sim.epoch().committee().contains(message.key())
                    && message.verifySignature()) {
                seen.keySet().removeIf(v -> v.view().number() < vote.view().number() - 2);
                @SuppressWarnings("unchecked")
                Signed<ReplicaCommit> signed = (Signed<ReplicaCommit>) message;
                seen.computeIfAbsent(
                                vote, v -> new CommitQCBuilder(v, sim.epoch().committee()))
                        .add(signed);
            }
            return List.of();
        }

        @Override
        public void rewrite(Signed<? extends ChonkyMessage> m, SimNode self, SimWorld sim, List<Action> into) {
            sendAll(m, sim, into);
            Optional<CommitQC> real = self.replica.highCommitQc();
            if (real.isEmpty()) {
                return;
            }
            CommitQC forged = forge(real.get(), sim);
            switch (m.message()) {
                case ReplicaNewView nv -> sendAll(Signed.sign(self.key, new ReplicaNewView(forged)), sim, into);
                case ReplicaTimeout t
                when forged.view().number() < t.view().number() ->
                    sendAll(
                            Signed.sign(self.key, new ReplicaTimeout(t.view(), t.highVote(), Optional.of(forged))),
                            sim,
                            into);
                default -> {}
            }
        }

        private CommitQC forge(CommitQC qc, SimWorld sim) {
            var committee = sim.epoch().committee();
            return switch (sim.rng().nextInt(4)) {
                case 0 -> { // a signer more or less
                    int flip = sim.rng().nextInt(committee.size());
                    int[] signers = java.util.stream.IntStream.range(0, committee.size())
                            .filter(i -> qc.signers().contains(i) != (i == flip))
                            .toArray();
                    yield new CommitQC(qc.message(), Signers.of(committee.size(), signers), qc.signature());
                }
                case 1 -> { // a later view, same aggregate
                    View later =
                            sim.epoch().view(qc.view().number() + 1 + sim.rng().nextInt(5));
                    yield new CommitQC(new ReplicaCommit(later, qc.header()), qc.signers(), qc.signature());
                }
                case 2 -> { // another block, same aggregate
                    long n = qc.header().number();
                    BlockHeader other = new BlockHeader(
                            n, SimExecution.propose(n, -1, sim.rng()).hash());
                    yield new CommitQC(new ReplicaCommit(qc.view(), other), qc.signers(), qc.signature());
                }
                default -> // real votes, below the quorum
                    seen.values().stream()
                            .filter(b -> b.weight() > 0 && !b.hasQuorum())
                            .max(java.util.Comparator.comparingLong(CommitQCBuilder::weight))
                            .map(CommitQCBuilder::build)
                            .orElse(new CommitQC(
                                    qc.message(),
                                    Signers.of(
                                            committee.size(),
                                            qc.signers().indices().skip(1).toArray()),
                                    qc.signature()));
            };
        }
    }

    /**
     * Replays: with each message of its own it re-sends two messages it received earlier (from any validator and any
     * past view), and signs each of its votes again for a view 1 to 3 ahead.
     */
    private static final class Replayer implements Behaviour.BroadcastRewriter {
        private static final int KEPT = 64;
        private final List<Signed<? extends ChonkyMessage>> heard = new ArrayList<>();

        @Override
        public List<Action> observe(Signed<? extends ChonkyMessage> message, SimNode self, SimWorld sim) {
            if (heard.size() == KEPT) {
                heard.remove(sim.rng().nextInt(KEPT));
            }
            heard.add(message);
            return List.of();
        }

        @Override
        public void rewrite(Signed<? extends ChonkyMessage> m, SimNode self, SimWorld sim, List<Action> into) {
            sendAll(m, sim, into);
            for (int i = 0; i < 2 && !heard.isEmpty(); i++) {
                sendAll(heard.get(sim.rng().nextInt(heard.size())), sim, into);
            }
            View ahead =
                    sim.epoch().view(m.message().view().number() + 1 + sim.rng().nextInt(3));
            switch (m.message()) {
                case ReplicaCommit c ->
                    sendAll(Signed.sign(self.key, new ReplicaCommit(ahead, c.proposal())), sim, into);
                case ReplicaTimeout t ->
                    sendAll(Signed.sign(self.key, new ReplicaTimeout(ahead, t.highVote(), t.highQc())), sim, into);
                default -> {}
            }
        }
    }

    /** Counts commit votes itself and announces a CommitQC one vote short of the quorum. */
    private static final class QcBelowQuorum implements Behaviour {
        private final Map<ReplicaCommit, CommitQCBuilder> builders = new HashMap<>();
        private final Set<Long> announced = new HashSet<>();

        @Override
        public List<Action> act(List<Output> outputs, SimNode self, SimWorld sim) {
            return Behaviour.executeAll(outputs);
        }

        @Override
        public List<Action> observe(Signed<? extends ChonkyMessage> message, SimNode self, SimWorld sim) {
            if (!(message.message() instanceof ReplicaCommit vote)
                    || announced.contains(vote.view().number())
                    || !sim.epoch().committee().contains(message.key())
                    || !message.verifySignature()) {
                return List.of();
            }
            CommitQCBuilder qc = builders.computeIfAbsent(
                    vote, v -> new CommitQCBuilder(v, sim.epoch().committee()));
            @SuppressWarnings("unchecked")
            Signed<ReplicaCommit> signed = (Signed<ReplicaCommit>) message;
            qc.add(signed);
            if (qc.weight() != sim.epoch().committee().quorumThreshold() - 1) {
                return List.of();
            }
            announced.add(vote.view().number());
            CommitQC early = qc.build();
            return List.of(new Action.SendTo(sim.allNodes(), Signed.sign(self.key, new ReplicaNewView(early))));
        }
    }
}
