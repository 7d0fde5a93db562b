package dev.tally.sim;

import dev.tally.consensus.MessageVerifier;
import dev.tally.consensus.Replica;
import dev.tally.protocol.BlockHeader;
import dev.tally.protocol.ChonkyMessage;
import dev.tally.protocol.CommitQC;
import dev.tally.protocol.Epoch;
import dev.tally.protocol.FinalBlock;
import dev.tally.protocol.InvalidMessageException;
import dev.tally.protocol.LeaderProposal;
import dev.tally.protocol.Phase;
import dev.tally.protocol.ProposalJustification;
import dev.tally.protocol.ReplicaCommit;
import dev.tally.protocol.ReplicaNewView;
import dev.tally.protocol.ReplicaState;
import dev.tally.protocol.ReplicaTimeout;
import dev.tally.protocol.Signed;
import dev.tally.protocol.TimeoutQC;
import dev.tally.protocol.ValidatorSchedule;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The safety invariants of PROTOCOL.md section 7 (after the reference's formal specification), checked on
 * every message sent, every block finalized and after every replica step. The first violation is kept.
 */
final class InvariantChecker {
    private final Epoch epoch;
    private final ValidatorSchedule committee;
    private final MessageVerifier verifier;
    private final boolean[] honestKey;

    private final Map<Long, BlockHeader> finalAt = new HashMap<>();
    private final Map<Long, BlockHeader> commitQcAt = new HashMap<>();
    private final Map<String, Signed<? extends ChonkyMessage>> sentBy = new HashMap<>();
    private final Map<Integer, Long> highestCommitVoteSent = new HashMap<>();
    private final Map<Integer, long[]> lastSeen = new HashMap<>();
    private long highestFinal = -1;
    private Violation violation;
    private long now;

    InvariantChecker(Epoch epoch, MessageVerifier verifier, boolean[] honestKey) {
        this.epoch = epoch;
        this.committee = epoch.committee();
        this.verifier = verifier;
        this.honestKey = honestKey;
    }

    Optional<Violation> violation() {
        return Optional.ofNullable(violation);
    }

    long highestFinal() {
        return highestFinal;
    }

    void at(long nowMillis) {
        this.now = nowMillis;
    }

    void fail(String invariant, String detail) {
        if (violation == null) {
            violation = new Violation(invariant, now, detail);
        }
    }

    // ------------------------------------------------------------------ messages

    /** Every message any node sends, once per send (not per recipient). */
    void onSend(SimNode from, Signed<? extends ChonkyMessage> signed) {
        recordQcs(signed.message());
        if (!from.runsHonestCode()) {
            return;
        }
        checkValid(from, signed);
        checkDurableBeforeSent(from, signed.message());
        if (honestKey[from.validator]) {
            checkNoEquivocation(from, signed);
        }
    }

    /** Honest code only sends messages an honest receiver accepts as well-formed. */
    private void checkValid(SimNode from, Signed<? extends ChonkyMessage> signed) {
        try {
            InvalidMessageException.check(verifier.verifySignature(signed), "bad signature");
            switch (signed.message()) {
                case LeaderProposal p -> {
                    InvalidMessageException.check(signed.key().equals(committee.leader(p.view().number())),
                            "proposal for view " + p.view().number() + " not from its leader");
                    p.verify(epoch, verifier);
                }
                case ReplicaCommit c -> c.verify(epoch);
                case ReplicaTimeout t -> t.verify(epoch, verifier);
                case ReplicaNewView nv -> nv.verify(epoch, verifier);
            }
        } catch (InvalidMessageException e) {
            fail("honest messages are well-formed", from + " sent an invalid " + signed.message().getClass().getSimpleName()
                    + ": " + e.getMessage() + " (" + signed.message() + ")");
        }
    }

    /** A vote leaves only after the state that remembers it is durable (store_signed_*_inv, crash safety). */
    private void checkDurableBeforeSent(SimNode from, ChonkyMessage m) {
        Optional<ReplicaState> durable = from.persisted();
        switch (m) {
            case ReplicaCommit c -> {
                boolean ok = durable.flatMap(ReplicaState::highVote).map(v -> v.view().number() >= c.view().number()).orElse(false);
                if (!ok) {
                    fail("state durable before a vote leaves", from + " sent a commit vote for view " + c.view().number()
                            + " while its persisted high vote is " + durable.flatMap(ReplicaState::highVote));
                }
                highestCommitVoteSent.merge(from.id, c.view().number(), Math::max);
            }
            case ReplicaTimeout t -> {
                // View 0's timeout vote carries nothing and is the same on every start: nothing to remember.
                boolean ok = t.view().number() == 0 || durable.map(s -> s.view() > t.view().number()
                        || (s.view() == t.view().number() && s.phase() == Phase.TIMEOUT)).orElse(false);
                if (!ok) {
                    fail("state durable before a vote leaves", from + " sent a timeout vote for view " + t.view().number()
                            + " while its persisted state is " + durable.map(s -> "view " + s.view() + " " + s.phase()));
                }
                long sent = highestCommitVoteSent.getOrDefault(from.id, -1L);
                long carried = t.highVote().map(v -> v.view().number()).orElse(-1L);
                if (carried < sent) {
                    fail("timeout high vote is the highest vote sent", from + " sent a timeout vote for view "
                            + t.view().number() + " carrying high vote of view " + carried + " after voting in view " + sent);
                }
            }
            default -> {}
        }
    }

    /**
     * A node that lost its data directory cannot know the votes it sent; only what other nodes saw of it still
     * binds it (no equivocation).
     */
    void forgetHistoryOf(SimNode node) {
        highestCommitVoteSent.remove(node.id);
    }

    /** No honest key signs two different proposals, commit votes, timeout votes or new-view messages for one view. */
    private void checkNoEquivocation(SimNode from, Signed<? extends ChonkyMessage> signed) {
        ChonkyMessage m = signed.message();
        String slot = from.validator + "/" + m.getClass().getSimpleName() + "/" + m.view().number();
        Signed<? extends ChonkyMessage> earlier = sentBy.putIfAbsent(slot, signed);
        if (earlier == null || earlier.message().equals(m)) {
            return;
        }
        if (m instanceof ReplicaNewView later && earlier.message() instanceof ReplicaNewView first
                && first.justification() instanceof TimeoutQC && later.justification() instanceof CommitQC
                && first.justification().view().equals(later.justification().view())) {
            // Re-sent on timeout with the CommitQC of the same view learned since: the same view change, better
            // justified (the reference re-signs its new-view message on every timeout too).
            sentBy.put(slot, signed);
            return;
        }
        fail("no honest equivocation", from + " signed two different " + m.getClass().getSimpleName()
                + " messages for view " + m.view().number() + ": " + earlier.message() + " and " + m);
    }

    /** CommitQCs and TimeoutQCs carried by any message, honest or not, as far as they verify. */
    private void recordQcs(ChonkyMessage m) {
        switch (m) {
            case LeaderProposal p -> recordJustification(p.justification());
            case ReplicaNewView nv -> recordJustification(nv.justification());
            case ReplicaTimeout t -> t.highQc().ifPresent(this::recordCommitQc);
            case ReplicaCommit c -> {}
        }
    }

    private void recordJustification(ProposalJustification j) {
        switch (j) {
            case CommitQC qc -> recordCommitQc(qc);
            case TimeoutQC qc -> {
                if (!valid(qc)) {
                    return;
                }
                checkOneHighVote(qc);
                qc.votes().forEach(v -> v.message().highQc().ifPresent(this::recordCommitQc));
            }
        }
    }

    private boolean valid(ProposalJustification qc) {
        try {
            verifier.verify(qc, epoch);
            return true;
        } catch (InvalidMessageException e) {
            return false;
        }
    }

    /** No two quorums for different blocks in one view (one_commit_quorum_inv). */
    private void recordCommitQc(CommitQC qc) {
        BlockHeader earlier = commitQcAt.get(qc.view().number());
        if ((earlier != null && earlier.equals(qc.header())) || !valid(qc)) {
            return;
        }
        if (earlier != null) {
            fail("one CommitQC per view", "view " + qc.view().number() + " has CommitQCs for " + earlier + " and " + qc.header());
        } else {
            commitQcAt.put(qc.view().number(), qc.header());
        }
    }

    /** A TimeoutQC lets at most one vote reach the subquorum weight (one_high_vote_in_timeout_qc_inv). */
    private void checkOneHighVote(TimeoutQC qc) {
        Map<ReplicaCommit, Long> weights = new HashMap<>();
        for (TimeoutQC.Vote v : qc.votes()) {
            v.message().highVote().ifPresent(hv -> weights.merge(hv, committee.weight(v.signers()), Long::sum));
        }
        long heavy = weights.values().stream().filter(w -> w >= committee.subquorumThreshold()).count();
        if (heavy > 1) {
            fail("one high vote per TimeoutQC", "the TimeoutQC of view " + qc.view().number() + " has " + heavy
                    + " votes with subquorum weight: " + weights);
        }
    }

    // ------------------------------------------------------------------ blocks

    /** A block became final at a node running honest code (finalized by its replica, or fetched and stored). */
    void onFinal(SimNode node, FinalBlock block) {
        long n = block.number();
        if (!block.payload().hash().equals(block.justification().header().payload()) || !valid(block.justification())) {
            fail("final blocks carry a valid CommitQC", node + " took block " + n + " whose CommitQC does not certify it");
            return;
        }
        BlockHeader earlier = finalAt.putIfAbsent(n, block.header());
        if (earlier != null && !earlier.equals(block.header())) {
            fail("agreement", node + " finalized " + block.header() + " where another node finalized " + earlier);
        }
        highestFinal = Math.max(highestFinal, n);
    }

    // ------------------------------------------------------------------ replica state

    /** After each step of honest code: views justified; view, high vote and high QCs never go back. */
    void afterStep(SimNode node) {
        Replica r = node.replica;
        long view = r.view();
        long qcView = Math.max(r.highCommitQc().map(q -> q.view().number()).orElse(-1L),
                r.highTimeoutQc().map(q -> q.view().number()).orElse(-1L));
        if (view > 0 && qcView < view - 1) {
            fail("every view change is justified", node + " is in view " + view + " holding QCs only up to view " + qcView);
        }
        long[] now = {view, r.highVote().map(v -> v.view().number()).orElse(-1L),
            r.highCommitQc().map(q -> q.view().number()).orElse(-1L), qcView};
        long[] before = lastSeen.put(node.id * 1_000_000 + node.life, now);
        if (before != null) {
            String[] names = {"view", "high vote", "high CommitQC", "high QC"};
            for (int i = 0; i < now.length; i++) {
                if (now[i] < before[i]) {
                    fail("monotonic views and high votes/QCs", node + "'s " + names[i] + " went back from " + before[i] + " to " + now[i]);
                }
            }
        }
    }
}
