package dev.tally.conformance;

import dev.tally.protocol.ChonkyMessage;
import dev.tally.protocol.Epoch;
import dev.tally.protocol.LeaderProposal;
import dev.tally.protocol.Phase;
import dev.tally.protocol.ReplicaState;
import dev.tally.protocol.Signed;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Every place where the model and Tally differ on purpose, and how the replay maps across it. Nothing else in the
 * replay bends a comparison: when the core changes, this is the one class to update (ARCHITECTURE.md, "Spec
 * conformance", lists the reasons).
 *
 * <ol>
 *   <li><b>The start.</b> The model starts every replica in view 1, phase Prepare, holding a TimeoutQC of view 0
 *       signed by all (as if all had timed out in view 0 and sent NewView). Tally has no way to be handed that
 *       state with its proposer armed, so each replica starts where a chain starts, in view 0 having timed out
 *       ({@link #startState}), then takes that QC in a NewView message: the same state, and the same messages
 *       the model's {@code init} puts in its message sets (every view-0 timeout vote, every replica's NewView).</li>
 *   <li><b>When the leader proposes.</b> Tally's proposer acts in the step in which its replica starts the view
 *       (a reproposal at once, a fresh block through {@code ProposePayload}); the model's {@code proposer_step} is
 *       a step of its own. The replay withholds Tally's proposal (or its payload request) until the model's
 *       proposer step of that replica and view, answers the request with the model's {@code new_block} then, and
 *       compares the proposal at that step ({@link #withheld}).</li>
 *   <li><b>What a timeout sends.</b> On every timer expiry Tally re-broadcasts its NewView beside its timeout vote,
 *       so that a peer that missed the view's start catches up; the model sends the timeout vote only. The NewView
 *       is left out of that step's comparison ({@link #sentOnTimeout}); everything else Tally sends is compared.</li>
 *   <li><b>Cached proposals.</b> Tally forgets the payloads at or below its high commit QC (final, or never to be
 *       final) when it starts a view; the model never prunes. Both sides are compared above the model's high
 *       commit QC ({@link #comparableCachedProposals}).</li>
 *   <li><b>A late proposal finalizes its block.</b> Tally takes the payload of a proposal that arrives after the QC
 *       of its view to make the certified block final; the model ignores a proposal for a view it left. The
 *       replay's probes (stale proposals delivered to check that nothing changes) skip such a proposal
 *       ({@link #lateProposalFinalizes}), and count it.</li>
 *   <li><b>One vote per signer.</b> Tally keeps the newest commit vote and the newest timeout vote of each signer
 *       (memory bounded by the committee, as the reference does) and drops a vote older than one it holds; the
 *       model stores every vote and may deliver a signer's view-2 vote before its view-1 vote. The replay holds
 *       back a vote for a view ahead of the replica as long as the model only stores it (the replica's state does
 *       not change), and delivers held votes, in the model's order, before anything else reaches the replica once
 *       it is in their view, and before a vote of their view that the model uses ({@link #defersVote}).</li>
 *   <li><b>A QC of the view already held.</b> Given a QC of the same view as its high QC (commit or timeout), the
 *       model takes the one received; Tally, like the reference, keeps the one it holds (either certifies that
 *       view). The replay expects the QC the replica held first ({@link #heldOnTie}); signers are still compared.</li>
 *   <li><b>The leader's NewView in its own view.</b> Tally takes the QCs of a NewView for its current view when its
 *       leader sends it (the leader brings the QC that ended the last view); the model ignores every NewView of
 *       the current view (it changes nothing). The replay does not deliver such a message when it would raise
 *       one of the replica's high QCs
 *       ({@link #withholdsNewView}), and counts it.</li>
 *   <li><b>A twin's second proposal.</b> Tally arms its proposer when its replica starts a view through a QC, not
 *       when it enters the view by voting for that view's proposal: a leader that voted for a proposal of its own
 *       view would otherwise equivocate. In the model that happens to a twin, whose sibling sent the proposal, and
 *       the twin then proposes again, the equivocation that twins exist to make. At that proposer step the
 *       replay sends the model's proposal for the twin ({@link #twinProposes}) and counts it; every replica's state
 *       is still compared, and the proposal reaches the others from the model's message set, signed with the
 *       twins' shared key.</li>
 *   <li><b>Model abstractions without a Tally counterpart</b>, handled in {@link Mapping}: a timeout vote signs
 *       only its high QC's view in the model and the whole QC in Tally (the QC is taken from the vote the model
 *       sent); no epochs (one epoch, 0); the first block is 0; no payload size limit (the replicas' limit is
 *       {@code Integer.MAX_VALUE}); no waiting for storage (the replay's storage and execution layer answer at
 *       once).</li>
 *   <li><b>A wiped replica abstains</b> (Tally): the replicas never start from {@link ReplicaState#initial}, so
 *       the rule never applies; the model has no wipes.</li>
 * </ol>
 */
public final class Deviations {
    private Deviations() {}

    /** Deviation 1: a replica that has timed out in view 0 (its timeout vote is sent on {@code Start}). */
    public static ReplicaState startState(Epoch epoch) {
        ReplicaState initial = ReplicaState.initial(epoch.number());
        return new ReplicaState(
                epoch.number(),
                0,
                Phase.TIMEOUT,
                initial.highVote(),
                initial.highCommitQc(),
                initial.highTimeoutQc(),
                initial.proposals());
    }

    /** Deviation 2: whether the replay holds this broadcast back until the model's proposer step. */
    static boolean withheld(Signed<? extends ChonkyMessage> message, boolean proposerStep) {
        return message.message() instanceof LeaderProposal && !proposerStep;
    }

    /** Deviation 3: the model terms Tally sent on a timer expiry, without its re-sent NewView. */
    static List<Mapping.SentMessage> sentOnTimeout(List<Mapping.SentMessage> sent) {
        return sent.stream().filter(m -> !m.set().equals("msgs_new_view")).toList();
    }

    /** Deviation 4: the cached proposals (block number, block) above the model's high commit QC. */
    static Set<Object> comparableCachedProposals(Object cached, Map<?, ?> modelState) {
        long floor = highCommitQcBlock(modelState).orElse(-1L);
        return ((Set<?>) cached)
                .stream().filter(p -> (Long) ((List<?>) p).get(0) > floor).collect(Collectors.toSet());
    }

    /** Deviation 7: the high QC Tally should hold: the one held before, if the model swapped it for one of its view. */
    static Object heldOnTie(Object heldBefore, Object modelNow, String viewField) {
        Optional<Object> before = Mapping.option(heldBefore);
        Optional<Object> now = Mapping.option(modelNow);
        if (before.isPresent() && now.isPresent() && qcView(before.get(), viewField) == qcView(now.get(), viewField)) {
            return heldBefore;
        }
        return modelNow;
    }

    private static long qcView(Object qc, String viewField) {
        Map<?, ?> m = (Map<?, ?>) qc;
        return (Long) (viewField.equals("ghost_view") ? m.get("ghost_view") : ((Map<?, ?>) m.get("vote")).get("view"));
    }

    /**
     * Deviation 8: whether the replay keeps this NewView from the replica: it is for the replica's current view, from
     * that view's leader, and raises one of the replica's high QCs (Tally ignores every other NewView of its view).
     */
    static boolean withholdsNewView(Map<?, ?> newView, String leader, Map<?, ?> modelReplica) {
        Variant j = (Variant) newView.get("justification");
        Map<?, ?> qc = (Map<?, ?>) j.value();
        long qcView = qcView(qc, j.tag().equals("Commit") ? "vote" : "ghost_view");
        if (qcView + 1 != (Long) modelReplica.get("view") || !newView.get("sig").equals(leader)) {
            return false;
        }
        long highCommit = Mapping.option(modelReplica.get("high_commit_qc"))
                .map(q -> qcView(q, "vote"))
                .orElse(-1L);
        long highTimeout = Mapping.option(modelReplica.get("high_timeout_qc"))
                .map(q -> qcView(q, "ghost_view"))
                .orElse(-1L);
        return j.tag().equals("Commit")
                ? qcView > highCommit
                : qcView > highTimeout
                        || Mapping.option(qc.get("high_commit_qc"))
                                .map(q -> qcView(q, "vote") > highCommit)
                                .orElse(false);
    }

    /**
     * Deviation 9: whether the model's proposer step is a twin proposing again in a view where it voted for its
     * sibling's proposal (the model's replica voted in {@code view}, and another replica shares its key).
     */
    static boolean twinProposes(Map<?, ?> modelReplicaBefore, long view, boolean hasTwin) {
        return hasTwin
                && Mapping.option(modelReplicaBefore.get("high_vote"))
                        .map(v -> (Long) ((Map<?, ?>) v).get("view") == view)
                        .orElse(false);
    }

    /** Deviation 6: whether a vote for {@code voteView} waits, the model's replica being in {@code replicaView}. */
    static boolean defersVote(long voteView, long replicaView, boolean modelStateChanges) {
        return voteView > replicaView && !modelStateChanges;
    }

    /** Deviation 5: whether Tally would make a block final from this stale proposal's payload. */
    static boolean lateProposalFinalizes(Map<?, ?> proposal, Map<?, ?> modelState) {
        Optional<Object> block = Mapping.option(proposal.get("block"));
        Optional<Object> qc = Mapping.option(modelState.get("high_commit_qc"));
        if (block.isEmpty() || qc.isEmpty()) {
            return false;
        }
        Map<?, ?> vote = (Map<?, ?>) ((Map<?, ?>) qc.get()).get("vote");
        long committed = ((List<?>) modelState.get("committed_blocks")).size();
        return block.get().equals(vote.get("block_hash")) && (Long) vote.get("block_number") >= committed;
    }

    private static Optional<Long> highCommitQcBlock(Map<?, ?> modelState) {
        return Mapping.option(modelState.get("high_commit_qc")).map(qc ->
                (Long) ((Map<?, ?>) ((Map<?, ?>) qc).get("vote")).get("block_number"));
    }
}
