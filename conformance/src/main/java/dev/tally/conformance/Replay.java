package dev.tally.conformance;

import dev.tally.consensus.ConsensusConfig;
import dev.tally.consensus.ConsensusObserver;
import dev.tally.consensus.Input;
import dev.tally.consensus.LeaderSchedule;
import dev.tally.consensus.MessageVerifier;
import dev.tally.consensus.Output;
import dev.tally.consensus.Replica;
import dev.tally.protocol.ChonkyMessage;
import dev.tally.protocol.FinalBlock;
import dev.tally.protocol.LeaderProposal;
import dev.tally.protocol.ReplicaNewView;
import dev.tally.protocol.ReplicaState;
import dev.tally.protocol.Signed;
import dev.tally.protocol.TimeoutQC;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Replays one execution of the model through real replicas, one per replica of the model, and checks after every
 * step that each replica's state and the messages the acting replica sent are the model's.
 *
 * <p>Each step's action and picks become inputs to the replica of that id: a received proposal, commit vote,
 * timeout vote or NewView, a timer expiry, or the proposer's payload. Nothing is delivered unless the model
 * delivers it; the replay's execution layer and storage answer at once. Besides the model's own steps the replay
 * probes the replicas with messages the model is known to ignore (a rival proposal from a validator that is not
 * the view's leader, before every proposal; every proposal of its view, after a replica times out) and checks
 * that they change nothing.
 */
public final class Replay {
    /** Where the replay runs the replica: the real {@link Replica}, or a test's wrapper around one. */
    @FunctionalInterface
    public interface ReplicaUnderTest {
        Replica replica();

        default List<Output> step(Input input, long nowMillis) {
            return replica().step(input, nowMillis);
        }

        default ReplicaState state() {
            return replica().state();
        }
    }

    /** Everything a replica of the run is built from. */
    public record ReplicaSetup(
            String id,
            ConsensusConfig config,
            ReplicaState state,
            MessageVerifier verifier,
            LeaderSchedule leaders,
            Mapping mapping) {
        public Replica replica() {
            return new Replica(config, state, ConsensusObserver.NONE, verifier, leaders);
        }
    }

    @FunctionalInterface
    public interface ReplicaFactory {
        ReplicaUnderTest create(ReplicaSetup setup);

        /** The real replica, with the normal verifier. */
        ReplicaFactory REAL = setup -> {
            Replica replica = setup.replica();
            return () -> replica;
        };
    }

    /** What one trace's replay checked. */
    public record Result(
            String trace,
            int steps,
            long comparisons,
            long probes,
            long probesSkipped,
            long withheldNewViews,
            long twinProposals) {}

    static final long VIEW_TIMEOUT_MILLIS = 1_000;
    private static final List<String> MESSAGE_SETS =
            List.of("msgs_proposal", "msgs_signed_commit", "msgs_signed_timeout", "msgs_new_view");
    private static final List<String> STATE_FIELDS = List.of(
            "view", "phase", "high_vote", "high_commit_qc", "high_timeout_qc", "cached_proposals", "committed_blocks");

    private final Trace trace;
    private final ReplicaFactory factory;
    private final MessageVerifier verifier;
    private final Map<String, Node> nodes = new TreeMap<>();
    private Mapping mapping;
    private long comparisons;
    private long probes;
    private long probesSkipped;
    private long withheldNewViews;
    private long twinProposals;

    /** One replica of the run with what its surroundings remember of it. */
    private static final class Node {
        final String id;
        final String key;
        ReplicaUnderTest replica;
        long now;
        long timerDeadline;
        final List<FinalBlock> committed = new ArrayList<>();
        Signed<LeaderProposal> withheldProposal;
        Output.ProposePayload payloadRequest;
        final List<Signed<? extends ChonkyMessage>> deferredVotes = new ArrayList<>();
        /** The high QCs this replica should hold, in the model's terms (Deviations, 7). */
        Object expectedHighCommitQc = Variant.none();

        Object expectedHighTimeoutQc = Variant.none();

        Node(String id) {
            this.id = id;
            this.key = Mapping.keyOf(id);
        }
    }

    private Replay(Trace trace, ReplicaFactory factory, MessageVerifier verifier) {
        this.trace = trace;
        this.factory = factory;
        this.verifier = verifier;
    }

    /**
     * Replays {@code trace}; its replicas check signatures and QCs through {@code verifier}, shared among them as the
     * simulator shares one (it may be shared with earlier runs on the same thread: it is keyed by content).
     */
    public static Result run(Trace trace, ReplicaFactory factory, MessageVerifier verifier)
            throws Mismatch, TraceFormatException {
        return new Replay(trace, factory, verifier).run();
    }

    private Result run() throws Mismatch, TraceFormatException {
        List<Trace.Step> steps = trace.steps();
        int replayed = 0;
        try {
            init(steps.get(0));
            for (replayed = 1; replayed < steps.size(); replayed++) {
                step(steps.get(replayed - 1), steps.get(replayed));
            }
        } catch (ModelTermException e) {
            throw new TraceFormatException(trace.name(), "state " + replayed + ": " + e.getMessage());
        } catch (ClassCastException | NullPointerException e) {
            // A value of the wrong shape (a hand-edited or foreign trace): say where, not how it crashed.
            throw new TraceFormatException(
                    trace.name(),
                    "state " + replayed + ": a value does not have the model's shape (" + e.getMessage() + ")");
        }
        if (replayed != steps.size()) {
            throw new IllegalStateException(
                    "replayed " + replayed + " of " + steps.size() + " steps of " + trace.name());
        }
        return new Result(trace.name(), replayed, comparisons, probes, probesSkipped, withheldNewViews, twinProposals);
    }

    // ------------------------------------------------------------------ init

    private void init(Trace.Step s0) throws Mismatch, TraceFormatException {
        Map<?, ?> states = replicaStates(s0);
        Map<?, ?> anyState = (Map<?, ?>) states.values().iterator().next();
        Object initQc = Mapping.option(anyState.get("high_timeout_qc"))
                .orElseThrow(() -> format(s0, "the initial state holds no TimeoutQC of view 0"));
        @SuppressWarnings("unchecked")
        Set<String> keyNames = (Set<String>) ((Map<?, ?>) initQc).get("agg_sig");
        Map<Long, String> leaders = new TreeMap<>();
        Object ldr = s0.pick("ldr").orElseThrow(() -> format(s0, "init has no leader map pick (ldr)"));
        ((Map<?, ?>) ldr).forEach((view, key) -> leaders.put((Long) view, (String) key));
        mapping = new Mapping(keyNames, leaders);
        Set<?> sentTimeoutVotes = set(s0, "msgs_signed_timeout");
        TimeoutQC viewZeroQc = mapping.timeoutQc(initQc, sentTimeoutVotes);
        List<Mapping.SentMessage> sent = new ArrayList<>();
        for (Object id : states.keySet()) {
            Node node = new Node((String) id);
            if (!keyNames.contains(node.key)) {
                throw format(
                        s0, "replica " + id + " signs as " + node.key + ", which is not in the initial QC " + keyNames);
            }
            ConsensusConfig config = new ConsensusConfig(
                    mapping.secretKey(node.key), mapping.epoch(), VIEW_TIMEOUT_MILLIS, Integer.MAX_VALUE);
            node.replica = factory.create(new ReplicaSetup(
                    node.id, config, Deviations.startState(mapping.epoch()), verifier, mapping.leaders(), mapping));
            nodes.put(node.id, node);
            sent.addAll(execute(node, new Input.Start(), false));
            sent.addAll(execute(
                    node, new Input.MessageReceived(mapping.sign(node.key, new ReplicaNewView(viewZeroQc))), false));
        }
        compare(null, s0, "init", null, sent);
    }

    // ------------------------------------------------------------------ one step

    private void step(Trace.Step before, Trace.Step after) throws Mismatch, TraceFormatException {
        String id = (String) after.pick("id").orElseThrow(() -> format(after, after.action() + " has no id pick"));
        Node node = nodes.get(id);
        if (node == null) {
            throw format(after, after.action() + " by " + id + ", which is not a replica of the run " + nodes.keySet());
        }
        String action = after.action() + " by " + id;
        Set<?> sentTimeoutVotes = set(before, "msgs_signed_timeout");
        List<Mapping.SentMessage> sent =
                new ArrayList<>(deliverDeferredVotes(node, node.replica.state().view()));
        switch (after.action()) {
            case "on_proposal" -> {
                Map<?, ?> proposal = (Map<?, ?>) pick(after, "proposal");
                probeRivalProposal(after, action, node, proposal, sentTimeoutVotes);
                sent.addAll(
                        execute(node, new Input.MessageReceived(mapping.proposal(proposal, sentTimeoutVotes)), false));
            }
            case "on_commit" ->
                sent.addAll(deliverVote(before, after, node, mapping.signedCommitVote(pick(after, "signed_vote"))));
            case "on_timeout" ->
                sent.addAll(deliverVote(before, after, node, mapping.signedTimeoutVote(pick(after, "vote"))));
            case "on_new_view" -> {
                Map<?, ?> newView = (Map<?, ?>) pick(after, "new_view");
                long view = 1 + justificationView((Variant) newView.get("justification"));
                if (Deviations.withholdsNewView(newView, mapping.leaderOf(view), (Map<?, ?>)
                        replicaStates(before).get(id))) {
                    withheldNewViews++;
                } else {
                    sent.addAll(execute(
                            node, new Input.MessageReceived(mapping.newView(newView, sentTimeoutVotes)), false));
                }
            }
            case "on_timer_is_finished" -> {
                node.now = Math.max(node.now, node.timerDeadline);
                sent.addAll(Deviations.sentOnTimeout(execute(node, new Input.TimerExpired(), false)));
            }
            case "proposer_step" -> sent.addAll(propose(before, after, node));
            default ->
                throw format(
                        after,
                        "action " + after.action() + " is not replayed (the corpus holds correct replicas only)");
        }
        compare(before, after, action, node, sent);
        if (after.action().equals("on_timer_is_finished")) {
            probeStaleProposals(after, action, node);
        }
    }

    /** A commit or timeout vote, held back while the model only stores it for a later view (Deviations, 6). */
    private List<Mapping.SentMessage> deliverVote(
            Trace.Step before, Trace.Step after, Node node, Signed<? extends ChonkyMessage> vote) {
        long view = vote.message().view().number();
        Object modelBefore = replicaStates(before).get(node.id);
        Object modelAfter = replicaStates(after).get(node.id);
        long replicaView = (Long) ((Map<?, ?>) modelBefore).get("view");
        if (Deviations.defersVote(view, replicaView, !modelBefore.equals(modelAfter))) {
            node.deferredVotes.add(vote);
            return List.of();
        }
        List<Mapping.SentMessage> sent = deliverDeferredVotes(node, view);
        sent.addAll(execute(node, new Input.MessageReceived(vote), false));
        return sent;
    }

    /** Delivers, in the model's order, the held-back votes for views up to {@code view}. */
    private List<Mapping.SentMessage> deliverDeferredVotes(Node node, long view) {
        List<Mapping.SentMessage> sent = new ArrayList<>();
        for (var it = node.deferredVotes.iterator(); it.hasNext(); ) {
            Signed<? extends ChonkyMessage> vote = it.next();
            if (vote.message().view().number() <= view) {
                it.remove();
                sent.addAll(execute(node, new Input.MessageReceived(vote), false));
            }
        }
        return sent;
    }

    /** The model's proposer step: Tally's withheld proposal for this view leaves now (Deviations, 2). */
    private List<Mapping.SentMessage> propose(Trace.Step before, Trace.Step after, Node node)
            throws TraceFormatException {
        Map<?, ?> modelReplica = (Map<?, ?>) replicaStates(before).get(node.id);
        long view = (Long) modelReplica.get("view");
        Signed<LeaderProposal> withheld = node.withheldProposal;
        if (withheld != null && withheld.message().view().number() == view) {
            node.withheldProposal = null;
            return List.of(mapping.term(withheld));
        }
        Output.ProposePayload request = node.payloadRequest;
        if (request != null && request.view().number() == view) {
            node.payloadRequest = null;
            String block = (String) pick(after, "new_block");
            return execute(
                    node,
                    new Input.PayloadProposed(request.view(), request.blockNumber(), mapping.payload(block)),
                    true);
        }
        boolean hasTwin = nodes.values().stream().anyMatch(n -> n != node && n.key.equals(node.key));
        if (Deviations.twinProposes(modelReplica, view, hasTwin)) {
            twinProposals++;
            // The model's proposal, sent for the twin by the replay: the message comparison sees it on both sides.
            return set(after, "msgs_proposal").stream()
                    .filter(m -> !set(before, "msgs_proposal").contains(m))
                    .map(m -> new Mapping.SentMessage("msgs_proposal", m))
                    .toList();
        }
        return List.of();
    }

    /**
     * Steps a replica with {@code input}, then answers its requests at once (payload checks, stored blocks) until it
     * asks for nothing more; returns the messages it broadcast, in the model's terms.
     */
    private List<Mapping.SentMessage> execute(Node node, Input input, boolean proposerStep) {
        List<Mapping.SentMessage> sent = new ArrayList<>();
        Deque<Input> inputs = new ArrayDeque<>();
        inputs.add(input);
        while (!inputs.isEmpty()) {
            for (Output out : node.replica.step(inputs.poll(), node.now)) {
                switch (out) {
                    case Output.PersistState p -> {}
                    case Output.Broadcast b -> {
                        if (Deviations.withheld(b.message(), proposerStep)) {
                            @SuppressWarnings("unchecked")
                            Signed<LeaderProposal> proposal = (Signed<LeaderProposal>) b.message();
                            node.withheldProposal = proposal;
                        } else {
                            sent.add(mapping.term(b.message()));
                        }
                    }
                    case Output.FinalizeBlock f -> {
                        node.committed.add(f.block());
                        inputs.add(new Input.BlocksPersisted(
                                mapping.epoch().firstBlock(), f.block().number()));
                    }
                    case Output.ProposePayload p -> node.payloadRequest = p;
                    case Output.VerifyPayload v -> {
                        String block = mapping.blockName(v.payload().hash());
                        boolean valid = Mapping.isValid(block);
                        inputs.add(new Input.PayloadVerified(
                                v.view(),
                                v.blockNumber(),
                                v.payload(),
                                valid,
                                valid ? "" : block + " is not a valid block of the model"));
                    }
                    case Output.SetTimer t -> node.timerDeadline = t.deadlineMillis();
                }
            }
        }
        return sent;
    }

    // ------------------------------------------------------------------ probes

    /** Before a proposal: the same proposal signed by a validator that does not lead its view must change nothing. */
    private void probeRivalProposal(
            Trace.Step step, String action, Node node, Map<?, ?> proposal, Set<?> sentTimeoutVotes) throws Mismatch {
        long view = proposalView(proposal);
        String rival = mapping.nonLeader(view);
        Signed<LeaderProposal> forged = mapping.sign(rival, mapping.proposalMessage(proposal, sentTimeoutVotes));
        probe(
                step,
                action,
                node,
                forged,
                "the view's proposal signed by " + rival + ", who does not lead view " + view
                        + " (the model takes only the leader's, " + mapping.leaderOf(view) + ")");
    }

    /** After a timeout: a proposal of that view (or an older one) must change nothing. */
    private void probeStaleProposals(Trace.Step step, String action, Node node) throws Mismatch {
        Map<?, ?> modelState = (Map<?, ?>) replicaStates(step).get(node.id);
        long view = (Long) modelState.get("view");
        for (Object p : set(step, "msgs_proposal")) {
            Map<?, ?> proposal = (Map<?, ?>) p;
            if (proposalView(proposal) > view) {
                continue;
            }
            if (Deviations.lateProposalFinalizes(proposal, modelState)) {
                probesSkipped++;
                continue;
            }
            probe(
                    step,
                    action,
                    node,
                    mapping.proposal(proposal, set(step, "msgs_signed_timeout")),
                    "a proposal for view " + proposalView(proposal) + " after the replica timed out in view " + view
                            + " (the model ignores it)");
        }
    }

    private void probe(Trace.Step step, String action, Node node, Signed<? extends ChonkyMessage> message, String what)
            throws Mismatch {
        probes++;
        comparisons++;
        Signed<LeaderProposal> withheld = node.withheldProposal;
        Output.ProposePayload request = node.payloadRequest;
        Map<String, Object> before = mapping.term(node.replica.state(), node.committed);
        List<Mapping.SentMessage> sent = execute(node, new Input.MessageReceived(message), false);
        Map<String, Object> after = mapping.term(node.replica.state(), node.committed);
        if (!before.equals(after) || !sent.isEmpty()) {
            StringBuilder diff =
                    new StringBuilder("  probe of replica " + node.id + ": delivered " + what + "; Tally changed:\n");
            for (String field : STATE_FIELDS) {
                if (!before.get(field).equals(after.get(field))) {
                    diff.append("    ")
                            .append(field)
                            .append("\n      model: ")
                            .append(Render.of(before.get(field)))
                            .append("\n      tally: ")
                            .append(Render.of(after.get(field)))
                            .append('\n');
                }
            }
            if (!sent.isEmpty()) {
                diff.append("    sent (the model sends nothing):\n")
                        .append(Render.lines(sent.stream().map(Replay::describe).toList()));
            }
            throw new Mismatch(trace.name(), step.index(), action, diff.toString());
        }
        node.withheldProposal = withheld;
        node.payloadRequest = request;
    }

    private static long proposalView(Map<?, ?> proposal) {
        return 1 + justificationView((Variant) proposal.get("justification"));
    }

    /** The view of a justification's QC (the view it justifies is the next one). */
    private static long justificationView(Variant j) {
        Map<?, ?> qc = (Map<?, ?>) j.value();
        return j.tag().equals("Commit") ? (Long) ((Map<?, ?>) qc.get("vote")).get("view") : (Long) qc.get("ghost_view");
    }

    // ------------------------------------------------------------------ comparison

    private void compare(Trace.Step before, Trace.Step after, String action, Node actor, List<Mapping.SentMessage> sent)
            throws Mismatch {
        StringBuilder diff = new StringBuilder();
        Map<?, ?> model = replicaStates(after);
        for (Node node : nodes.values()) {
            Map<?, ?> modelReplica = (Map<?, ?>) model.get(node.id);
            node.expectedHighCommitQc =
                    Deviations.heldOnTie(node.expectedHighCommitQc, modelReplica.get("high_commit_qc"), "vote");
            node.expectedHighTimeoutQc =
                    Deviations.heldOnTie(node.expectedHighTimeoutQc, modelReplica.get("high_timeout_qc"), "ghost_view");
            Map<Object, Object> expected = new LinkedHashMap<>(modelReplica);
            expected.put("high_commit_qc", node.expectedHighCommitQc);
            expected.put("high_timeout_qc", node.expectedHighTimeoutQc);
            Map<String, Object> actual = mapping.term(node.replica.state(), node.committed);
            StringBuilder fields = new StringBuilder();
            for (String field : STATE_FIELDS) {
                comparisons++;
                Object e = expected.get(field);
                Object a = actual.get(field);
                if (field.equals("cached_proposals")) {
                    e = Deviations.comparableCachedProposals(e, expected);
                    a = Deviations.comparableCachedProposals(a, expected);
                }
                if (!e.equals(a)) {
                    fields.append("    ")
                            .append(field)
                            .append("\n      model: ")
                            .append(Render.of(e))
                            .append("\n      tally: ")
                            .append(Render.of(a))
                            .append('\n');
                }
            }
            if (!fields.isEmpty()) {
                diff.append("  replica ").append(node.id).append(":\n").append(fields);
            }
        }
        comparisons++;
        Set<Mapping.SentMessage> modelSent = new HashSet<>();
        Set<Mapping.SentMessage> tallySent = new HashSet<>(sent);
        for (String set : MESSAGE_SETS) {
            Set<?> earlier = before == null ? Set.of() : set(before, set);
            for (Object m : set(after, set)) {
                if (!earlier.contains(m)) {
                    modelSent.add(new Mapping.SentMessage(set, m));
                }
            }
            tallySent.removeIf(m -> m.set().equals(set) && earlier.contains(m.term()));
        }
        if (!modelSent.equals(tallySent)) {
            Set<Mapping.SentMessage> modelOnly = new HashSet<>(modelSent);
            modelOnly.removeAll(tallySent);
            Set<Mapping.SentMessage> tallyOnly = new HashSet<>(tallySent);
            tallyOnly.removeAll(modelSent);
            diff.append("  messages sent")
                    .append(actor == null ? "" : " by " + actor.id)
                    .append(":\n")
                    .append("    model only:\n")
                    .append(Render.lines(
                            modelOnly.stream().map(Replay::describe).toList()))
                    .append('\n')
                    .append("    tally only:\n")
                    .append(Render.lines(
                            tallyOnly.stream().map(Replay::describe).toList()))
                    .append('\n');
        }
        if (!diff.isEmpty()) {
            throw new Mismatch(trace.name(), after.index(), action, diff.toString());
        }
    }

    private static Object describe(Mapping.SentMessage m) {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put(m.set(), m.term());
        return d;
    }

    // ------------------------------------------------------------------ reading the model's state

    private Map<?, ?> replicaStates(Trace.Step step) {
        return (Map<?, ?>) step.var("replica_state");
    }

    private static Set<?> set(Trace.Step step, String var) {
        return (Set<?>) step.var(var);
    }

    private Object pick(Trace.Step step, String name) throws TraceFormatException {
        return step.pick(name).orElseThrow(() -> format(step, step.action() + " has no " + name + " pick"));
    }

    private TraceFormatException format(Trace.Step step, String problem) {
        return new TraceFormatException(trace.name(), "state " + step.index() + ": " + problem);
    }
}
