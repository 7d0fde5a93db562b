package dev.tally.sim;

import dev.tally.consensus.MessageVerifier;
import dev.tally.consensus.Replica;
import dev.tally.consensus.VerificationCache;
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
import dev.tally.protocol.Signers;
import dev.tally.protocol.TimeoutQC;
import dev.tally.protocol.ValidatorSchedule;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Predicate;

/**
 * The safety invariants of PROTOCOL.md section 7 and of the reference's formal model (spec/protocol-spec/replica.qnt,
 * names in parentheses), checked on every message sent, every block finalized and after every replica step. The
 * checker verifies what it judges with its own {@link VerificationCache}, never the replicas' shared verifier: a
 * replica that lets a forgery through must not vouch for it here. The first violation is kept.
 */
final class InvariantChecker {
    private final Epoch epoch;
    private final ValidatorSchedule committee;
    private final VerificationCache own = new VerificationCache(1 << 14);
    /** Messages honest code signed in this run: their signatures are valid by construction, no pairing needed. */
    private final Predicate<Signed<? extends ChonkyMessage>> signedByHonestCode;

    private final MessageVerifier verifier = new MessageVerifier() {
        @Override
        public boolean verifySignature(Signed<? extends ChonkyMessage> message) {
            return signedByHonestCode.test(message) || own.verifySignature(message);
        }

        @Override
        public void verify(ProposalJustification qc, Epoch e) throws InvalidMessageException {
            own.verify(qc, e);
        }
    };
    private final boolean[] honestKey;
    /** QCs (by identity) already judged valid and backed by the votes actually sent: replicas hold them for long. */
    private final Set<ProposalJustification> judged = Collections.newSetFromMap(new IdentityHashMap<>());
    /** Votes sent by honest keys, as (validator, vote): what a QC's honest signers must have signed. */
    private final Set<SentVote> sentVotes = new HashSet<>();
    /** Per view, the blocks its leader validly proposed (PROTOCOL.md section 4: a replica votes only for those). */
    private final Map<Long, Set<BlockHeader>> proposedAt = new HashMap<>();

    private final Map<Integer, Long> highestTimeoutVoteSent = new HashMap<>();
    private final Set<Long> timeoutQcViews = new HashSet<>();
    /** Per final block number, the view of the first CommitQC it was final with. */
    private final TreeMap<Long, Long> finalQcView = new TreeMap<>();

    private final boolean equalWeights;
    private final Set<Integer> wipedNodes = new HashSet<>();

    private record SentVote(int validator, ChonkyMessage vote) {}

    private final Map<Long, BlockHeader> finalAt = new HashMap<>();
    private final Map<Long, BlockHeader> commitQcAt = new HashMap<>();
    private final Map<String, Signed<? extends ChonkyMessage>> sentBy = new HashMap<>();
    private final Map<Integer, Long> highestCommitVoteSent = new HashMap<>();
    private final Map<Integer, long[]> lastSeen = new HashMap<>();
    private long highestFinal = -1;
    private Violation violation;
    private long now;

    InvariantChecker(Epoch epoch, Predicate<Signed<? extends ChonkyMessage>> signedByHonestCode, boolean[] honestKey) {
        this.epoch = epoch;
        this.committee = epoch.committee();
        this.signedByHonestCode = signedByHonestCode;
        this.honestKey = honestKey;
        this.equalWeights = committee.validators().stream().allMatch(v -> v.weight() == 1);
    }

    /** Views after view 0 for which a valid TimeoutQC was seen: views lost to timeouts. */
    long viewsTimedOut() {
        return timeoutQcViews.stream().filter(v -> v > 0).count();
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
        recordProposal(signed);
        if (!from.runsHonestCode()) {
            return;
        }
        if (honestKey[from.validator]
                && (signed.message() instanceof ReplicaCommit || signed.message() instanceof ReplicaTimeout)) {
            sentVotes.add(new SentVote(from.validator, signed.message()));
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
                    InvalidMessageException.check(
                            signed.key().equals(committee.leader(p.view().number())),
                            "proposal for view " + p.view().number() + " not from its leader");
                    p.verify(epoch, verifier);
                }
                case ReplicaCommit c -> {
                    c.verify(epoch);
                    checkProposed(from, c);
                }
                case ReplicaTimeout t -> t.verify(epoch, verifier);
                case ReplicaNewView nv -> nv.verify(epoch, verifier);
            }
            justificationOf(signed.message())
                    .ifPresent(j -> checkBacked(
                            from + "'s " + signed.message().getClass().getSimpleName(), j));
        } catch (InvalidMessageException e) {
            fail(
                    "honest messages are well-formed",
                    from + " sent an invalid " + signed.message().getClass().getSimpleName() + ": " + e.getMessage()
                            + " (" + signed.message() + ")");
        }
    }

    /** A vote leaves only after the state that remembers it is durable (store_signed_*_inv, crash safety). */
    private void checkDurableBeforeSent(SimNode from, ChonkyMessage m) {
        Optional<ReplicaState> durable = from.persisted();
        switch (m) {
            case ReplicaCommit c -> {
                long timedOut = highestTimeoutVoteSent.getOrDefault(from.id, -1L);
                if (timedOut >= c.view().number()) {
                    fail(
                            "timeout high vote is the highest vote sent",
                            from + " sent a commit vote for view " + c.view().number()
                                    + " after its timeout vote for view " + timedOut
                                    + ", whose high vote is then not its highest");
                }
                boolean ok = durable.flatMap(ReplicaState::highVote)
                        .map(v -> v.view().number() >= c.view().number())
                        .orElse(false);
                if (!ok) {
                    fail(
                            "state durable before a vote leaves",
                            from + " sent a commit vote for view " + c.view().number()
                                    + " while its persisted high vote is " + durable.flatMap(ReplicaState::highVote));
                }
                highestCommitVoteSent.merge(from.id, c.view().number(), Math::max);
            }
            case ReplicaTimeout t -> {
                // View 0's timeout vote carries nothing and is the same on every start: nothing to remember.
                boolean ok = t.view().number() == 0
                        || durable.map(s -> s.view() > t.view().number()
                                        || (s.view() == t.view().number() && s.phase() == Phase.TIMEOUT))
                                .orElse(false);
                if (!ok) {
                    fail(
                            "state durable before a vote leaves",
                            from + " sent a timeout vote for view " + t.view().number()
                                    + " while its persisted state is "
                                    + durable.map(s -> "view " + s.view() + " " + s.phase()));
                }
                highestTimeoutVoteSent.merge(from.id, t.view().number(), Math::max);
                long sent = highestCommitVoteSent.getOrDefault(from.id, -1L);
                long carried = t.highVote().map(v -> v.view().number()).orElse(-1L);
                if (carried < sent) {
                    fail(
                            "timeout high vote is the highest vote sent",
                            from + " sent a timeout vote for view " + t.view().number() + " carrying high vote of view "
                                    + carried + " after voting in view " + sent);
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
        highestTimeoutVoteSent.remove(node.id);
        wipedNodes.add(node.id);
    }

    /**
     * No honest key signs two different proposals, commit votes, timeout votes or new-view messages for one view
     * (no_*_equivocation_inv); for new-view messages that includes a TimeoutQC and then a CommitQC of the same view.
     */
    private void checkNoEquivocation(SimNode from, Signed<? extends ChonkyMessage> signed) {
        ChonkyMessage m = signed.message();
        String slot = from.validator + "/" + m.getClass().getSimpleName() + "/"
                + m.view().number();
        Signed<? extends ChonkyMessage> earlier = sentBy.putIfAbsent(slot, signed);
        if (earlier == null
                || earlier.message().equals(m)
                || (m instanceof LeaderProposal && wipedNodes.contains(from.id))) {
            return;
        }
        fail(
                "no honest equivocation",
                from + (wipedNodes.contains(from.id) ? ", which lost its data earlier," : "")
                        + " signed two different " + m.getClass().getSimpleName() + " messages for view "
                        + m.view().number()
                        + ": " + earlier.message() + " and " + m);
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
                timeoutQcViews.add(qc.view().number());
                if (equalWeights) {
                    checkOneHighVote(qc);
                }
                checkKeepsFinalBlocks(qc);
                qc.votes().forEach(v -> v.message().highQc().ifPresent(this::recordCommitQc));
            }
        }
    }

    private final Set<ProposalJustification> validQcs = Collections.newSetFromMap(new IdentityHashMap<>());
    private final Set<ProposalJustification> invalidQcs = Collections.newSetFromMap(new IdentityHashMap<>());

    /** Whether the QC verifies, by the checker's own cache (and by identity for a QC object judged before). */
    private boolean valid(ProposalJustification qc) {
        if (validQcs.contains(qc)) {
            return true;
        }
        if (invalidQcs.contains(qc)) {
            return false;
        }
        try {
            verifier.verify(qc, epoch);
            validQcs.add(qc);
            return true;
        } catch (InvalidMessageException e) {
            invalidQcs.add(qc);
            return false;
        }
    }

    /**
     * A justification honest code holds or sends is valid and every honest validator it names as a signer sent the
     * vote it is counted for (justification_is_supported_inv): a replica that skipped a check cannot hide a forgery.
     */
    private void checkBacked(String holder, ProposalJustification j) {
        if (judged.contains(j)) {
            return;
        }
        if (!valid(j)) {
            fail("QCs held and sent by honest code are valid", holder + " is " + j + ", which does not verify");
            return;
        }
        switch (j) {
            case CommitQC qc -> checkSigned(holder, qc, qc.signers(), qc.message());
            case TimeoutQC qc -> {
                qc.votes().forEach(v -> checkSigned(holder, qc, v.signers(), v.message()));
                qc.highQc().ifPresent(h -> checkBacked(holder + " (its high QC)", h));
            }
        }
        judged.add(j);
    }

    private void checkSigned(String holder, ProposalJustification qc, Signers signers, ChonkyMessage vote) {
        signers.indices()
                .filter(i -> honestKey[i] && !sentVotes.contains(new SentVote(i, vote)))
                .findFirst()
                .ifPresent(i -> fail(
                        "justification backed by votes sent",
                        holder + " is " + qc + ", which counts validator " + i + " for " + vote
                                + ", a vote it never sent"));
    }

    /** A proposal signed by its view's leader and well-formed: its block is one replicas may vote for in that view. */
    private void recordProposal(Signed<? extends ChonkyMessage> signed) {
        if (!(signed.message() instanceof LeaderProposal p)
                || !signed.key().equals(committee.leader(p.view().number()))
                || !verifier.verifySignature(signed)) {
            return;
        }
        try {
            p.verify(epoch, verifier);
        } catch (InvalidMessageException e) {
            return;
        }
        BlockHeader header = switch (p.justification().impliedBlock(epoch)) {
            case ProposalJustification.Reproposal r -> r.header();
            case ProposalJustification.FreshBlock f ->
                new BlockHeader(f.number(), p.proposalPayload().orElseThrow().hash());
        };
        proposedAt.computeIfAbsent(p.view().number(), v -> new HashSet<>()).add(header);
    }

    /** An honest commit vote is for a block its view's leader proposed, with a valid signature (PROTOCOL.md 4). */
    private void checkProposed(SimNode from, ReplicaCommit c) {
        if (!proposedAt.getOrDefault(c.view().number(), Set.of()).contains(c.proposal())) {
            fail(
                    "votes only for the leader's proposal",
                    from + " voted for " + c.proposal() + " in view " + c.view().number()
                            + ", which the leader of that view did not propose (validly signed and justified)");
        }
    }

    private static Optional<ProposalJustification> justificationOf(ChonkyMessage m) {
        return switch (m) {
            case LeaderProposal p -> Optional.of(p.justification());
            case ReplicaNewView nv -> Optional.of(nv.justification());
            case ReplicaTimeout t -> t.highQc().map(qc -> qc);
            case ReplicaCommit c -> Optional.empty();
        };
    }

    /** No two quorums for different blocks in one view (one_commit_quorum_inv). */
    private void recordCommitQc(CommitQC qc) {
        BlockHeader earlier = commitQcAt.get(qc.view().number());
        if ((earlier != null && earlier.equals(qc.header())) || !valid(qc)) {
            return;
        }
        if (earlier != null) {
            fail(
                    "one CommitQC per view",
                    "view " + qc.view().number() + " has CommitQCs for " + earlier + " and " + qc.header());
        } else {
            commitQcAt.put(qc.view().number(), qc.header());
        }
    }

    /**
     * A TimeoutQC lets at most one vote reach the subquorum weight (one_high_vote_in_timeout_qc_inv). It holds by
     * arithmetic for a QC of exactly the quorum weight (2 (n - 3f) > n - f): the replica builds it at the vote that
     * reaches the quorum, exact with equal weights; with unequal weights that vote may overshoot, up to all n, and two
     * subquorums then fit (the model's implied-block rule foresees "0, 1 or 2 such blocks"). What safety needs of it
     * is checked for every committee by {@link #checkKeepsFinalBlocks}.
     */
    private void checkOneHighVote(TimeoutQC qc) {
        Map<ReplicaCommit, Long> weights = new HashMap<>();
        for (TimeoutQC.Vote v : qc.votes()) {
            v.message().highVote().ifPresent(hv -> weights.merge(hv, committee.weight(v.signers()), Long::sum));
        }
        long heavy = weights.values().stream()
                .filter(w -> w >= committee.subquorumThreshold())
                .count();
        if (heavy > 1) {
            fail(
                    "one high vote per TimeoutQC",
                    "the TimeoutQC of view " + qc.view().number() + " has " + heavy + " votes with subquorum weight: "
                            + weights);
        }
    }

    /**
     * A TimeoutQC never loses a final block: a block final with a CommitQC of a view up to the TimeoutQC's is at or
     * below the TimeoutQC's high QC, or is the block it makes the next leader repropose. (Honest voters of that block
     * weigh at least n - 3f in any timeout quorum, and no other block can gather that much.)
     */
    private void checkKeepsFinalBlocks(TimeoutQC qc) {
        long covered = qc.highQc().map(h -> h.header().number()).orElse(epoch.firstBlock() - 1);
        ProposalJustification.ImpliedBlock implied = qc.impliedBlock(epoch);
        for (var e : finalQcView.tailMap(covered, false).entrySet()) {
            if (e.getValue() <= qc.view().number()
                    && !(implied instanceof ProposalJustification.Reproposal r
                            && r.header().equals(finalAt.get(e.getKey())))) {
                fail(
                        "a TimeoutQC keeps final blocks",
                        "the TimeoutQC of view " + qc.view().number() + " (high QC up to block "
                                + covered + ") implies " + implied + ", losing block " + finalAt.get(e.getKey())
                                + " final with the CommitQC of view " + e.getValue());
                return;
            }
        }
    }

    // ------------------------------------------------------------------ blocks

    /** A block became final at a node running honest code (finalized by its replica, or fetched and stored). */
    void onFinal(SimNode node, FinalBlock block) {
        long n = block.number();
        if (!block.payload().hash().equals(block.justification().header().payload()) || !valid(block.justification())) {
            fail(
                    "final blocks carry a valid CommitQC",
                    node + " took block " + n + " whose CommitQC does not certify it");
            return;
        }
        checkBacked(node + "'s final block " + n, block.justification());
        if (n > epoch.firstBlock() && !finalAt.containsKey(n - 1)) {
            fail(
                    "no gaps in the committed chain",
                    node + " took block " + n + " while no node has block " + (n - 1) + " final");
        }
        finalQcView.putIfAbsent(n, block.justification().view().number());
        BlockHeader earlier = finalAt.putIfAbsent(n, block.header());
        if (earlier != null && !earlier.equals(block.header())) {
            fail("agreement", node + " finalized " + block.header() + " where another node finalized " + earlier);
        }
        highestFinal = Math.max(highestFinal, n);
    }

    // ------------------------------------------------------------------ replica state

    /**
     * After each step of honest code: high QCs valid and backed by votes sent (all_replicas_high_*_qc_inv), views
     * justified; view, high vote and high QCs never go back.
     */
    void afterStep(SimNode node) {
        Replica r = node.replica;
        r.highCommitQc().ifPresent(qc -> checkBacked(node + "'s high CommitQC", qc));
        r.highTimeoutQc().ifPresent(qc -> checkBacked(node + "'s high TimeoutQC", qc));
        long view = r.view();
        long qcView = Math.max(
                r.highCommitQc().map(q -> q.view().number()).orElse(-1L),
                r.highTimeoutQc().map(q -> q.view().number()).orElse(-1L));
        if (view > 0 && qcView < view - 1) {
            fail(
                    "every view change is justified",
                    node + " is in view " + view + " holding QCs only up to view " + qcView);
        }
        long[] now = {
            view,
            r.highVote().map(v -> v.view().number()).orElse(-1L),
            r.highCommitQc().map(q -> q.view().number()).orElse(-1L),
            qcView
        };
        long[] before = lastSeen.put(node.id * 1_000_000 + node.life, now);
        if (before != null) {
            String[] names = {"view", "high vote", "high CommitQC", "high QC"};
            for (int i = 0; i < now.length; i++) {
                if (now[i] < before[i]) {
                    fail(
                            "monotonic views and high votes/QCs",
                            node + "'s " + names[i] + " went back from " + before[i] + " to " + now[i]);
                }
            }
        }
    }
}
