package dev.tally.consensus;

import dev.tally.crypto.BlsPublicKey;
import dev.tally.protocol.BlockHeader;
import dev.tally.protocol.ChonkyMessage;
import dev.tally.protocol.CommitQC;
import dev.tally.protocol.CommitQCBuilder;
import dev.tally.protocol.Epoch;
import dev.tally.protocol.FinalBlock;
import dev.tally.protocol.InvalidMessageException;
import dev.tally.protocol.LeaderProposal;
import dev.tally.protocol.Payload;
import dev.tally.protocol.Phase;
import dev.tally.protocol.Proposal;
import dev.tally.protocol.ProposalJustification;
import dev.tally.protocol.ProposalJustification.FreshBlock;
import dev.tally.protocol.ProposalJustification.Reproposal;
import dev.tally.protocol.ReplicaCommit;
import dev.tally.protocol.ReplicaNewView;
import dev.tally.protocol.ReplicaState;
import dev.tally.protocol.ReplicaTimeout;
import dev.tally.protocol.Signed;
import dev.tally.protocol.TimeoutQC;
import dev.tally.protocol.TimeoutQCBuilder;
import dev.tally.protocol.ValidatorSchedule;
import dev.tally.protocol.View;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

/**
 * The ChonkyBFT replica (PROTOCOL.md section 4), with its proposer, as a deterministic state machine.
 *
 * <p>It has no threads, clock, sockets or disk: {@link #step} takes one {@link Input} and the current time
 * and returns the {@link Output}s to execute, in order. Given the same inputs it produces the same outputs,
 * which is what lets the simulator drive this very class. Single-owner: call it from one thread.
 */
public final class Replica {
    private final ConsensusConfig config;
    private final Epoch epoch;
    private final ValidatorSchedule committee;
    private final BlsPublicKey me;
    private final ConsensusObserver observer;
    private final Proposer proposer;
    private final MessageVerifier verifier;
    private final LeaderSchedule leaders;

    // Safety state: persisted before any vote that depends on it leaves the node.
    private long view;
    private Phase phase;
    private Optional<ReplicaCommit> highVote;
    private Optional<CommitQC> highCommitQc;
    private Optional<TimeoutQC> highTimeoutQc;
    private final List<Proposal> proposals;

    // Volatile state: rebuilt after a restart.
    private final VoteBook<ReplicaCommit> commitVotes = new VoteBook<>(this::weightOf);
    private final VoteBook<ReplicaTimeout> timeoutVotes = new VoteBook<>(this::weightOf);
    /** Votes of the current and later views whose signatures were checked one by one. */
    private final Set<Signed<? extends ChonkyMessage>> checkedVotes = new HashSet<>();

    private long timerDeadline = Long.MAX_VALUE;
    private Signed<ReplicaTimeout> sentTimeout;
    private Signed<ReplicaNewView> sentNewView;
    /** The view a restart resumed (-1 if none): this replica may have signed its new-view message there before the crash. */
    private long resumedView = -1;

    private PendingProposal pendingProposal;
    private long storedFirst;
    private long storedLast;
    private long highestFinalized;
    /**
     * The first view this replica may sign anything in (view 0's timeout vote is the same for everyone, so always
     * allowed). A replica that starts without a state past view 0 may have lost it (a wiped data directory) and so
     * may have voted in the views the network is in: it abstains until validators of weight above 2f have reported
     * (see {@link Rejoin}), then through 2 views past the highest QC they showed. It persists nothing until it has
     * caught up (see {@link #caughtUp}), so a crash while abstaining starts the wait over. PROTOCOL.md, "Validators
     * that lose their data", states what this guarantees and the one case it cannot cover.
     */
    private long votingFloor;
    /** The voting floor of a replica that started without state and has not heard enough reporters yet. */
    private static final long AWAITING_REPORTS = Long.MAX_VALUE;
    /** Set while the replica started without state has not fixed its voting floor; null otherwise. */
    private Rejoin rejoin;
    /** Whether the state changed since it was last persisted (persisting is held back until caught up). */
    private boolean stateUnsaved;

    private List<Output> out = new ArrayList<>();
    private long now;
    /** Whether the current step started a view (for the self-check). */
    private boolean viewStartedInStep;

    /** A proposal this replica would vote for once its predecessor is stored and the execution layer agrees. */
    private record PendingProposal(View view, BlockHeader header, Payload payload, boolean verificationRequested) {}

    public Replica(ConsensusConfig config, ReplicaState persisted, ConsensusObserver observer) {
        this(config, persisted, observer, new VerificationCache(1024));
    }

    /** A replica that checks signatures and QCs through {@code verifier} (a cache shared with the driver). */
    public Replica(
            ConsensusConfig config, ReplicaState persisted, ConsensusObserver observer, MessageVerifier verifier) {
        this(
                config,
                persisted,
                observer,
                verifier,
                LeaderSchedule.of(config.epoch().committee()));
    }

    /** A replica whose views are led as {@code leaders} says, instead of by the epoch's leader selection. */
    public Replica(
            ConsensusConfig config,
            ReplicaState persisted,
            ConsensusObserver observer,
            MessageVerifier verifier,
            LeaderSchedule leaders) {
        this.config = config;
        this.verifier = verifier;
        this.leaders = leaders;
        this.epoch = config.epoch();
        this.committee = epoch.committee();
        this.me = config.validatorKey().publicKey();
        this.observer = observer;
        this.proposer = new Proposer(config, observer, leaders);
        if (persisted.epoch() != epoch.number()) {
            throw new IllegalArgumentException("persisted replica state is for epoch " + persisted.epoch()
                    + " but the node runs epoch " + epoch.number());
        }
        this.view = persisted.view();
        this.phase = persisted.phase();
        this.highVote = persisted.highVote();
        this.highCommitQc = persisted.highCommitQc();
        this.highTimeoutQc = persisted.highTimeoutQc();
        this.proposals = new ArrayList<>(persisted.proposals());
        // Others weighing 2f or less (a committee of one) can never make the reports the guard waits for, nor hold a
        // vote to conflict with: such a validator is not guarded (docs/PROTOCOL.md section 9).
        long ownWeight =
                committee.indexOf(me).map(i -> committee.get(i).weight()).orElse(0L);
        boolean guarded = persisted.equals(ReplicaState.initial(epoch.number()))
                && committee.totalWeight() - ownWeight > 2 * committee.maxFaultyWeight();
        this.votingFloor = guarded ? AWAITING_REPORTS : 0;
        this.rejoin = guarded ? new Rejoin(committee, me) : null;
        this.storedFirst = epoch.firstBlock();
        this.storedLast = epoch.firstBlock() - 1;
        this.highestFinalized = epoch.firstBlock() - 1;
    }

    /**
     * Processes one input at time {@code nowMillis}; returns what to do, in order.
     *
     * @throws BrokenInvariantException if the step left the replica in a state it must never be in (a bug, checked
     *     when {@link ConsensusConfig#checkInvariants()}); the step's outputs are then lost, and the replica unusable
     */
    public List<Output> step(Input input, long nowMillis) {
        this.now = nowMillis;
        this.out = new ArrayList<>();
        this.viewStartedInStep = false;
        switch (input) {
            case Input.Start s -> onStart();
            case Input.MessageReceived m -> onMessage(m.message());
            case Input.TimerExpired t -> onTimerExpired();
            case Input.PayloadProposed p -> proposer.onPayloadProposed(p.view(), p.blockNumber(), p.payload(), out);
            case Input.PayloadVerified v -> onPayloadVerified(v);
            case Input.BlocksPersisted b -> onBlocksPersisted(b.first(), b.last());
        }
        if (config.checkInvariants()) {
            Invariant.checkAll(selfCheck(), this, input);
        }
        return out;
    }

    /** What the {@link Invariant}s speak of, now. */
    SelfCheck selfCheck() {
        return new SelfCheck(
                view,
                phase,
                highVote,
                highCommitQc,
                highTimeoutQc,
                proposals,
                viewStartedInStep,
                pendingProposal == null
                        ? SelfCheck.NONE
                        : pendingProposal.view().number(),
                sentTimeout == null
                        ? SelfCheck.NONE
                        : sentTimeout.message().view().number(),
                votingFloor);
    }

    // ------------------------------------------------------------------ read-only views for metrics and tests

    public long view() {
        return view;
    }

    public Phase phase() {
        return phase;
    }

    public Optional<CommitQC> highCommitQc() {
        return highCommitQc;
    }

    public Optional<TimeoutQC> highTimeoutQc() {
        return highTimeoutQc;
    }

    public Optional<ReplicaCommit> highVote() {
        return highVote;
    }

    /**
     * Whether this replica lacks the block its high commit QC certifies (neither finalized nor stored here): the
     * proposal of that QC's view, arriving late, would bring its payload (the network lets it through for that).
     */
    public boolean lacksHighQcBlock() {
        return highCommitQc.isPresent()
                && highCommitQc.get().header().number() > Math.max(highestFinalized, storedLast);
    }

    /** Whether this replica started without state and still waits for other validators to show where the network is. */
    public boolean awaitingReports() {
        return rejoin != null;
    }

    /**
     * Whether this replica started without state and has not caught up yet (PROTOCOL.md section 9): it signs no timeout
     * vote past view 0, so the others must end views without it.
     */
    public boolean abstaining() {
        return rejoin != null || !caughtUp();
    }

    /** The view of the high commit QC, -1 without one. */
    public long highCommitQcView() {
        return highCommitQc.map(qc -> qc.view().number()).orElse(-1L);
    }

    /** The view of the high timeout QC, -1 without one. */
    public long highTimeoutQcView() {
        return highTimeoutQc.map(qc -> qc.view().number()).orElse(-1L);
    }

    public ReplicaState state() {
        return new ReplicaState(epoch.number(), view, phase, highVote, highCommitQc, highTimeoutQc, proposals);
    }

    // ------------------------------------------------------------------ start and timer

    /** PROTOCOL.md section 4, "Start": view 0 times out at once; a restarted replica resumes its view. */
    private void onStart() {
        if (view > 0) {
            resumedView = view;
        }
        if (rejoin != null) {
            observer.abstaining(
                    AWAITING_REPORTS,
                    "started without a replica state (as every validator of a new chain"
                            + " does, or after losing its data): it may have voted before, so it waits for validators of weight"
                            + " above " + 2 * committee.maxFaultyWeight() + " to show where the network is");
        }
        if (view == 0 || phase == Phase.TIMEOUT) {
            // View 0 has no justification, so it ends by timeout at once; a replica that had given up on its
            // view before a restart repeats its timeout vote.
            timeout();
        } else {
            restartTimer();
        }
    }

    /** PROTOCOL.md section 4, "Timer": one constant view timeout; an expiry that is not the last timer's is stale. */
    private void onTimerExpired() {
        if (now < timerDeadline) {
            return; // a stale timer
        }
        timeout();
    }

    /**
     * PROTOCOL.md section 4, "Timer": give up on the current view (phase Timeout, persisted), send the new-view
     * message and the timeout vote, and keep re-sending them until the view advances.
     */
    private void timeout() {
        observer.timedOut(view);
        // View 0's timeout vote is the same for every replica and every start; any other needs a high vote that
        // is truly this replica's latest (see caughtUp), and no timeout vote ever goes out without one.
        boolean sendVote = view == 0 || (mayVote(view) && caughtUp());
        if (phase != Phase.TIMEOUT || (sendVote && stateUnsaved)) {
            phase = Phase.TIMEOUT;
            persist();
        }
        if (view > 0 && mayVote(view)) {
            newView().ifPresent(nv -> out.add(new Output.Broadcast(nv)));
        }
        if (sendVote) {
            if (sentTimeout == null || sentTimeout.message().view().number() != view) {
                // Signed once per view and re-sent as is, so a view never sees two timeout votes from us.
                sentTimeout = Signed.sign(
                        config.validatorKey(), new ReplicaTimeout(epoch.view(view), highVote, highCommitQc));
            }
            out.add(new Output.Broadcast(sentTimeout));
        } else if (rejoin != null) {
            // Still waiting for reports: re-send the view-0 vote signed at start (the only vote it may sign), which
            // tells the others it holds nothing. On a new chain every replica waits so, and without these reports
            // the replicas that missed the first ones would wait for each other for good.
            out.add(new Output.Broadcast(sentTimeout));
        }
        restartTimer();
    }

    private void restartTimer() {
        timerDeadline = now + config.viewTimeoutMillis();
        out.add(new Output.SetTimer(timerDeadline));
    }

    // ------------------------------------------------------------------ messages

    /** A message for one of the four handlers below; one it refuses is reported with the rule it breaks. */
    private void onMessage(Signed<? extends ChonkyMessage> signed) {
        String kind = signed.message().getClass().getSimpleName();
        if (rejoin != null) {
            takeReport(signed);
        }
        try {
            switch (signed.message()) {
                case LeaderProposal p -> onProposal(cast(signed), p);
                case ReplicaCommit c -> onCommit(cast(signed), c);
                case ReplicaTimeout t -> onTimeoutVote(cast(signed), t);
                case ReplicaNewView nv -> onNewView(signed, nv);
            }
        } catch (MessageRejectedException e) {
            observer.messageRejected(kind, e.rejection());
        }
    }

    @SuppressWarnings("unchecked")
    private static <M extends ChonkyMessage> Signed<M> cast(Signed<? extends ChonkyMessage> s) {
        return (Signed<M>) s;
    }

    private static MessageRejectedException reject(Rejection rejection) {
        return new MessageRejectedException(rejection);
    }

    /** A check of the protocol's values, which says what is wrong in an {@link InvalidMessageException}. */
    @FunctionalInterface
    private interface ProtocolCheck {
        void run() throws InvalidMessageException;
    }

    /** Runs {@code check}; a failure is refused as the rejection {@code as} makes of its problem. */
    private static void require(ProtocolCheck check, Function<String, Rejection> as) throws MessageRejectedException {
        try {
            check.run();
        } catch (InvalidMessageException e) {
            throw reject(as.apply(e.getMessage()));
        }
    }

    /** A message names its chain and epoch: anything else is another network's (PROTOCOL.md section 2). */
    private void requireOwnView(View v) throws MessageRejectedException {
        require(() -> v.verify(epoch), problem -> new Rejection.ForeignView(v, problem));
    }

    /** A member's weight (votes are booked only once {@link #requireValidator} passed). */
    private long weightOf(BlsPublicKey member) {
        return committee.get(committee.indexOf(member).orElseThrow()).weight();
    }

    private void requireValidator(BlsPublicKey key) throws MessageRejectedException {
        if (!committee.contains(key)) {
            throw reject(new Rejection.NotValidator(key, epoch.number()));
        }
    }

    private void requireSignature(Signed<? extends ChonkyMessage> s) throws MessageRejectedException {
        if (!verifier.verifySignature(s)) {
            throw reject(new Rejection.BadSignature(s.key()));
        }
    }

    /**
     * PROTOCOL.md section 4, "On LeaderProposal": a proposal of a later view, or of this one while still in phase
     * Prepare, from the view's leader, signed, with a valid justification, the payload its implied block requires,
     * not pruned; its payload fits and (after its predecessor is stored) the execution layer accepts it.
     */
    private void onProposal(Signed<LeaderProposal> signed, LeaderProposal proposal) throws MessageRejectedException {
        View v = proposal.view();
        requireOwnView(v);
        if (v.number() < view || (v.number() == view && phase != Phase.PREPARE)) {
            if (!finalizeWithLatePayload(proposal)) {
                throw reject(
                        v.number() < view
                                ? new Rejection.OldView(v.number(), view)
                                : new Rejection.NotInPrepare(view, phase));
            }
            return;
        }
        if (pendingProposal != null
                && pendingProposal.view().equals(v)
                && proposal.proposalPayload()
                        .map(pendingProposal.payload()::equals)
                        .orElse(false)) {
            throw reject(new Rejection.DuplicateProposal(v.number()));
        }
        BlsPublicKey leader = leaders.leader(v.number());
        if (!signed.key().equals(leader)) {
            throw reject(new Rejection.NotLeader(v.number(), signed.key(), leader));
        }
        requireSignature(signed);
        LeaderProposal checked = withOwnCommitQc(proposal);
        ProposalJustification justification = checked.justification();
        require(() -> verifier.verify(justification, epoch), Rejection.BadJustification::new);
        ProposalJustification.ImpliedBlock implied = justification.impliedBlock(epoch);
        requirePayloadAsImplied(checked, implied);
        if (implied.number() < storedFirst) {
            throw reject(new Rejection.Pruned(implied.number(), storedFirst));
        }
        // A checked justification is as good as the leader's new-view message: take in its QCs now (they may
        // finalize the block this proposal builds on) and enter its view, where a pending proposal survives the
        // QC of the last view arriving later. Waiting for the vote could lose the proposal or deadlock on it.
        absorb(justification);
        if (v.number() > view) {
            enterView(v.number());
            restartTimer();
        }
        switch (implied) {
            case Reproposal r -> vote(v, r.header(), Optional.empty());
            case FreshBlock f -> {
                Payload payload = checked.proposalPayload().orElseThrow();
                if (payload.size() > config.maxPayloadSize()) {
                    throw reject(new Rejection.PayloadTooLarge(f.number(), payload.size(), config.maxPayloadSize()));
                }
                pendingProposal = new PendingProposal(v, new BlockHeader(f.number(), payload.hash()), payload, false);
                requestVerificationIfReady();
            }
        }
    }

    /**
     * A proposal justified by a commit QC for the same vote as this replica's high commit QC is taken as justified by
     * the replica's own (verified) one: it implies the same block, and the aggregate signature of the leader's copy,
     * made of other signers, would cost a pairing check to tell the same thing. The leader's copy must still name a
     * quorum; its signature is then neither checked nor kept.
     */
    private LeaderProposal withOwnCommitQc(LeaderProposal proposal) throws MessageRejectedException {
        if (proposal.justification() instanceof CommitQC qc
                && highCommitQc.isPresent()
                && !highCommitQc.get().equals(qc)
                && highCommitQc.get().message().equals(qc.message())) {
            require(() -> qc.verifyQuorum(epoch), Rejection.BadJustification::new);
            return new LeaderProposal(proposal.proposalPayload(), highCommitQc.get());
        }
        return proposal;
    }

    /** A reproposal names its block by the justification's high vote alone; a fresh block needs its payload. */
    private static void requirePayloadAsImplied(LeaderProposal proposal, ProposalJustification.ImpliedBlock implied)
            throws MessageRejectedException {
        switch (implied) {
            case Reproposal r
            when proposal.proposalPayload().isPresent() -> throw reject(new Rejection.PayloadInReproposal(r.header()));
            case FreshBlock f
            when proposal.proposalPayload().isEmpty() -> throw reject(new Rejection.PayloadMissing(f.number()));
            default -> {}
        }
    }

    /**
     * A proposal that comes after the QC of its view (the other validators' votes made a quorum first) still carries
     * the payload that the QC certifies: whoever sent it, a payload whose hash the high commit QC names makes that
     * block final here, without waiting for block sync (PROTOCOL.md section 10, item 3). Returns whether it did.
     */
    private boolean finalizeWithLatePayload(LeaderProposal proposal) {
        return proposal.proposalPayload().isPresent()
                && highCommitQc.isPresent()
                && finalizeWithUnvotedPayload(
                        highCommitQc.get(), proposal.proposalPayload().get());
    }

    /** {@link #finalizeBlock} with a payload this replica did not vote for (section 10, item 3), counted as such. */
    private boolean finalizeWithUnvotedPayload(CommitQC qc, Payload payload) {
        if (!finalizeBlock(qc, payload)) {
            return false;
        }
        observer.finalizedByLateProposal(qc.header().number());
        return true;
    }

    /** The execution layer checks a payload only on top of its predecessor, so wait until that is stored. */
    private void requestVerificationIfReady() {
        PendingProposal p = pendingProposal;
        if (p != null && !p.verificationRequested() && p.header().number() - 1 <= storedLast) {
            pendingProposal = new PendingProposal(p.view(), p.header(), p.payload(), true);
            out.add(new Output.VerifyPayload(p.view(), p.header().number(), p.payload()));
        }
    }

    /** PROTOCOL.md section 4, "On LeaderProposal": the execution layer's verdict on a fresh proposal's payload. */
    private void onPayloadVerified(Input.PayloadVerified verdict) {
        PendingProposal p = pendingProposal;
        if (p == null
                || !p.verificationRequested()
                || !p.view().equals(verdict.view())
                || p.header().number() != verdict.blockNumber()
                || !p.payload().equals(verdict.payload())) {
            return; // an answer for a proposal this replica no longer considers
        }
        pendingProposal = null;
        if (!verdict.valid()) {
            observer.messageRejected(
                    "LeaderProposal", new Rejection.PayloadRefused(verdict.blockNumber(), verdict.reason()));
            return;
        }
        if (p.view().number() < view || (p.view().number() == view && phase != Phase.PREPARE)) {
            return; // the view moved on (or we timed out) while the execution layer was checking
        }
        vote(p.view(), p.header(), Optional.of(p.payload()));
    }

    /**
     * PROTOCOL.md section 4, "On LeaderProposal", its end: vote commit for a proposal, updating and persisting the
     * state first ("Persisted replica state"), and only then letting the vote leave.
     */
    private void vote(View v, BlockHeader header, Optional<Payload> payload) {
        if (!mayVote(v.number())) {
            return;
        }
        phase = Phase.COMMIT;
        ReplicaCommit vote = new ReplicaCommit(v, header);
        highVote = Optional.of(vote);
        payload.ifPresent(pl -> {
            if (proposals.stream()
                    .noneMatch(
                            pr -> pr.number() == header.number() && pr.payload().equals(pl))) {
                proposals.add(new Proposal(header.number(), pl));
            }
        });
        persist();
        observer.voted(v.number(), header.number());
        broadcast(vote);
    }

    /**
     * PROTOCOL.md section 4, "On ReplicaCommit": not older than the current view, from a validator, newer than its
     * signer's last vote; on a quorum, the CommitQC ends the view.
     */
    private void onCommit(Signed<ReplicaCommit> signed, ReplicaCommit vote) throws MessageRejectedException {
        View v = vote.view();
        requireOwnView(v);
        if (v.number() < view) {
            throw reject(new Rejection.OldView(v.number(), view)); // votes for past views arrive all the time
        }
        requireValidator(signed.key());
        require(() -> vote.verify(epoch), Rejection.InvalidVote::new);
        if (!commitVotes.isNewer(signed.key(), v.number()) && !evictedForgery(commitVotes, signed)) {
            throw reject(new Rejection.NotNewer(signed.key(), v.number()));
        }
        // Its signature is checked with the quorum's, when there is one: see completeCommitQc.
        commitVotes.put(signed);
        completeCommitQc(vote);
    }

    /**
     * Votes are taken in unchecked, so one that arrived first under this signer's name may be forged; before a second
     * vote of the same signer and view is refused, the first one's signature is checked (once) and a forgery makes
     * way. Only an unauthenticated transport lets a forgery in: on a node the network checks the sender.
     */
    private <M extends ChonkyMessage> boolean evictedForgery(VoteBook<M> book, Signed<M> next) {
        Signed<M> held = book.voteOf(next.key(), next.message().view().number()).orElse(null);
        if (held == null || held.equals(next) || checkedVotes.contains(held)) {
            return false;
        }
        if (verifier.verifySignature(held)) {
            checkedVotes.add(held);
            return false;
        }
        book.remove(held);
        observer.messageRejected(kindOf(held), new Rejection.BadSignature(held.key()));
        return true;
    }

    /**
     * The votes of a quorum whose QC failed to verify, checked one by one (subgroup and signature: BlsSignature.verify,
     * so the valid ones sum into G1); the bad ones are dropped from the book and reported, the valid ones returned.
     */
    private <M extends ChonkyMessage> List<Signed<M>> validAlone(VoteBook<M> book, Collection<Signed<M>> votes) {
        List<Signed<M>> valid = new ArrayList<>();
        for (Signed<M> s : votes) {
            if (checkedVotes.contains(s) || verifier.verifySignature(s)) {
                checkedVotes.add(s);
                valid.add(s);
            } else {
                book.remove(s);
                observer.messageRejected(kindOf(s), new Rejection.BadSignature(s.key()));
            }
        }
        return valid;
    }

    private static String kindOf(Signed<? extends ChonkyMessage> signed) {
        return signed.message().getClass().getSimpleName();
    }

    /**
     * PROTOCOL.md section 4, "On ReplicaCommit", on quorum (section 10, item 1: how it differs from the reference).
     * Once the votes for {@code vote} weigh a quorum, their signatures are checked all at once, as the QC they make
     * (one subgroup check of their sum, as received votes' signatures were not checked for it, and one pairing check,
     * where checking each vote costs both per vote). Only if that fails are they checked one by one, subgroup and
     * signature, and the bad ones dropped. A QC that verifies is valid whatever its parts: signatures that fail alone
     * but pass in sum (small-order components that cancel, say) can only come from faulty validators who made them
     * together, and the sum is that of valid signatures of theirs.
     */
    private void completeCommitQc(ReplicaCommit vote) {
        long v = vote.view().number();
        // Weighed first, from the book's running tally: a QC builder per vote received would cost n² per view (n =
        // 100: 99 builders of up to 81 votes).
        if (commitVotes.weightOf(vote) < committee.quorumThreshold()) {
            return;
        }
        List<Signed<ReplicaCommit>> votes = commitVotes.votesFor(vote);
        Optional<CommitQC> qc = commitQcOf(vote, votes).tryBuild().filter(q -> verifier.verifyVotes(q, votes, epoch));
        if (qc.isEmpty()) {
            CommitQCBuilder checked = commitQcOf(vote, validAlone(commitVotes, votes));
            qc = checked.hasQuorum() ? checked.tryBuild() : Optional.empty();
        }
        if (qc.isPresent()) {
            absorb(qc.get());
            startView(v + 1);
        }
    }

    private CommitQCBuilder commitQcOf(ReplicaCommit vote, List<Signed<ReplicaCommit>> votes) {
        CommitQCBuilder qc = new CommitQCBuilder(vote, committee);
        votes.forEach(qc::add);
        return qc;
    }

    /**
     * PROTOCOL.md section 4, "On ReplicaTimeout": the same bookkeeping as for commit votes, its content checked at
     * once (its high QC included) and its signature, as a commit vote's, with the quorum's; on a quorum, the
     * TimeoutQC (and its high QC) is taken in and the next view starts.
     */
    private void onTimeoutVote(Signed<ReplicaTimeout> signed, ReplicaTimeout vote) throws MessageRejectedException {
        View v = vote.view();
        requireOwnView(v);
        if (v.number() < view) {
            throw reject(new Rejection.OldView(v.number(), view));
        }
        requireValidator(signed.key());
        if (!timeoutVotes.isNewer(signed.key(), v.number()) && !evictedForgery(timeoutVotes, signed)) {
            throw reject(new Rejection.NotNewer(signed.key(), v.number()));
        }
        require(() -> vote.verify(epoch, verifier), Rejection.InvalidVote::new);
        timeoutVotes.put(signed);
        completeTimeoutQc(v);
    }

    /**
     * Once the timeout votes of view {@code v} weigh a quorum, their signatures are checked all at once, as the
     * TimeoutQC they make: one pairing per distinct vote (all alike when no block was voted for since the last QC)
     * where checking each costs one per vote (at n = 100, 81 on every view change). Only if that fails are they
     * checked one by one and the bad ones dropped, as commit votes are (completeCommitQc).
     */
    private void completeTimeoutQc(View v) {
        if (timeoutVotes.weightIn(v.number()) < committee.quorumThreshold()) {
            return;
        }
        List<Signed<ReplicaTimeout>> votes = List.copyOf(timeoutVotes.votesIn(v.number()));
        Optional<TimeoutQC> qc = timeoutQcOf(v, votes).filter(q -> verifier.verifyVotes(q, votes, epoch));
        if (qc.isEmpty()) {
            qc = timeoutQcOf(v, validAlone(timeoutVotes, votes));
        }
        if (qc.isPresent()) {
            absorb(qc.get());
            startView(v.number() + 1);
        }
    }

    private Optional<TimeoutQC> timeoutQcOf(View v, List<Signed<ReplicaTimeout>> votes) {
        TimeoutQCBuilder qc = new TimeoutQCBuilder(v, committee);
        votes.forEach(qc::add);
        return qc.hasQuorum() ? qc.tryBuild() : Optional.empty();
    }

    /**
     * PROTOCOL.md section 4, "On ReplicaNewView": not older than the current view, and for the current view only
     * the leader's (and only if it brings a higher QC); verified, its QCs taken in, a later view entered.
     */
    private void onNewView(Signed<? extends ChonkyMessage> signed, ReplicaNewView newView)
            throws MessageRejectedException {
        View v = newView.view();
        requireOwnView(v);
        if (v.number() < view) {
            throw reject(new Rejection.OldView(v.number(), view));
        }
        if (v.number() == view && !signed.key().equals(leaders.leader(view))) {
            // For the current view only the leader's counts: it brings the QC that ends the last view.
            throw reject(new Rejection.NotLeader(view, signed.key(), leaders.leader(view)));
        }
        if (v.number() == view && !newView.justification().raisesHighQcs(highCommitQcView(), highTimeoutQcView())) {
            // The leader's, but this replica already holds QCs as high: nothing to check or take in.
            throw reject(new Rejection.NothingNew(view));
        }
        requireValidator(signed.key());
        requireSignature(signed);
        require(() -> newView.verify(epoch, verifier), Rejection.BadJustification::new);
        absorb(newView.justification());
        if (v.number() > view) {
            startView(v.number());
        }
    }

    // ------------------------------------------------------------------ QCs, views, finalization

    /**
     * Takes in the QCs of a justification ("absorb" in PROTOCOL.md section 4): they can only raise the high QCs and
     * finalize blocks.
     */
    private void absorb(ProposalJustification justification) {
        switch (justification) {
            case CommitQC qc -> absorbCommitQc(qc);
            case TimeoutQC qc -> {
                if (highTimeoutQc.isEmpty()
                        || qc.view().number() > highTimeoutQc.get().view().number()) {
                    highTimeoutQc = Optional.of(qc);
                }
                qc.highQc().ifPresent(this::absorbCommitQc);
            }
        }
    }

    private void absorbCommitQc(CommitQC qc) {
        if (highCommitQc.isEmpty()
                || qc.view().number() > highCommitQc.get().view().number()) {
            highCommitQc = Optional.of(qc);
        }
        long number = qc.header().number();
        for (Proposal p : proposals) {
            if (p.number() == number && finalizeBlock(qc, p.payload())) {
                return;
            }
        }
        // The others' votes made the quorum while the execution layer was still checking the proposal's payload here:
        // the payload is in hand, and without it this replica would wait for block sync, and stall every view it
        // leads meanwhile, as its proposer needs the block (PROTOCOL.md section 10, item 3).
        if (pendingProposal != null
                && pendingProposal.header().number() == number
                && finalizeWithUnvotedPayload(qc, pendingProposal.payload())) {
            return;
        }
        // Without the payload this replica cannot store the block; a late proposal or block sync brings it.
    }

    /**
     * PROTOCOL.md section 4, "Finalize": makes the block {@code qc} certifies final with {@code payload}, if that block
     * is above what is final or stored here and {@code payload} is the one the QC names; returns whether it did.
     */
    private boolean finalizeBlock(CommitQC qc, Payload payload) {
        long number = qc.header().number();
        if (number <= Math.max(highestFinalized, storedLast)
                || !payload.hash().equals(qc.header().payload())) {
            return false;
        }
        highestFinalized = number;
        FinalBlock block = new FinalBlock(payload, qc);
        observer.finalized(block);
        out.add(new Output.FinalizeBlock(block));
        return true;
    }

    /** The QC that justifies the current view: the newer of the high QCs, the commit QC on a tie. */
    private ProposalJustification justification() {
        if (highCommitQc.isPresent()
                && (highTimeoutQc.isEmpty()
                        || highCommitQc.get().view().number()
                                >= highTimeoutQc.get().view().number())) {
            return highCommitQc.get();
        }
        return highTimeoutQc.orElseThrow(() -> new IllegalStateException("no justification for view " + view));
    }

    private void enterView(long newView) {
        view = newView;
        phase = Phase.PREPARE;
        pendingProposal = null;
        commitVotes.pruneBelow(newView);
        checkedVotes.removeIf(s -> s.message().view().number() < newView);
        timeoutVotes.pruneBelow(newView);
    }

    /**
     * PROTOCOL.md section 4, "Start view": phase Prepare, cached proposals at or below the high QC pruned, state
     * persisted, the new-view message sent, the timer restarted, the justification handed to the proposer.
     */
    private void startView(long newView) {
        viewStartedInStep = true;
        enterView(newView);
        long finalizedUpTo = highCommitQc.map(qc -> qc.header().number()).orElse(-1L);
        proposals.removeIf(p -> p.number() <= finalizedUpTo);
        persist();
        observer.viewStarted(newView, justification());
        restartTimer();
        announceView();
        // Also while abstaining: a proposal is no vote, agreement never relies on the leader (a Byzantine one may
        // propose
        // twice), and views led by an abstaining validator would otherwise all end by timeout (PROTOCOL.md 9, rule 3).
        proposer.onViewStarted(epoch.view(view), justification(), storedLast, out);
    }

    /** Sends this replica's new-view message, if it may sign in this view. */
    private void announceView() {
        if (mayVote(view)) {
            newView().ifPresent(nv -> out.add(new Output.Broadcast(nv)));
        }
    }

    /**
     * The new-view message of the current view, signed once per view and re-sent as is on every timeout: a QC of the
     * same view learned later (a CommitQC after the TimeoutQC that started the view) would make a second, different
     * new-view message for the view, which honest replicas never sign (PROTOCOL.md section 7). In the view a restart
     * resumed the message signed before the crash is not remembered; it carried the QC of the previous view that the
     * replica entered with. Holding one QC of that view, the replica signs the same message again (BLS signatures are
     * deterministic), and must: a crash between persisting the view and sending its message would otherwise keep the
     * QC from everyone. Holding both, it cannot tell which it signed, and signs none.
     */
    private Optional<Signed<ReplicaNewView>> newView() {
        if (sentNewView == null || sentNewView.message().view().number() != view) {
            if (view == resumedView && holdsBothQcsOf(view - 1)) {
                return Optional.empty();
            }
            sentNewView = Signed.sign(config.validatorKey(), new ReplicaNewView(justification()));
        }
        return Optional.of(sentNewView);
    }

    private boolean holdsBothQcsOf(long qcView) {
        return highCommitQc.filter(qc -> qc.view().number() == qcView).isPresent()
                && highTimeoutQc.filter(qc -> qc.view().number() == qcView).isPresent();
    }

    /** PROTOCOL.md sections 4 and 5: a fresh proposal (to check, or to make) waits until its predecessor is stored. */
    private void onBlocksPersisted(long first, long last) {
        storedFirst = first;
        storedLast = last;
        requestVerificationIfReady();
        proposer.requestPayloadIfReady(storedLast, out);
    }

    /**
     * Reports the view-0 timeout votes held unchecked whose signatures check out: all of them if their aggregate
     * verifies (a signer whose part fails alone but passes in the sum is faulty, and a faulty validator could report
     * anyway), else each that verifies alone. A bad one is not counted; the vote's own handling refuses it.
     */
    private void reportCheckedTimeoutVotes() {
        List<Signed<ReplicaTimeout>> votes = rejoin.takeUnchecked();
        boolean allValid = verifier.verifyTogether(votes);
        for (Signed<ReplicaTimeout> vote : votes) {
            if (allValid || verifier.verifySignature(vote)) {
                rejoin.report(vote.key(), Rejoin.NO_QC);
            }
        }
    }

    // ------------------------------------------------------------------ outputs

    /** The first view this replica signs votes, proposals and new-view messages in (0 unless it started without state). */
    public long firstVotingView() {
        return votingFloor;
    }

    private boolean mayVote(long v) {
        return v == 0 || v >= votingFloor;
    }

    /**
     * Whether this replica's high vote is what its timeout votes must report, the latest commit vote it signed: always
     * for a replica with its state. After a start without state, the lost high vote may be the one a committed block
     * needs to reach the subquorum in a timeout QC, so it sends no timeout vote until either it voted commit again
     * (in a view past the floor, later than any lost vote, so its high vote is truly its latest) or it holds a commit
     * QC of a view at or past any view it may have voted in (floor - 1), which the timeout vote carries as its high
     * QC: every block the lost votes helped commit is at or below that QC's block, so the timeout QC implies no
     * block that conflicts with them.
     */
    private boolean caughtUp() {
        return votingFloor == 0
                || (votingFloor != AWAITING_REPORTS && (highVote.isPresent() || highCommitQcView() >= votingFloor - 1));
    }

    /**
     * Counts a new-view message (its justification shows a QC its signer holds) or a view-0 timeout vote (its signer
     * holds no QC yet) toward the reports a replica without state waits for; sets the voting floor once they weigh
     * more than 2f. Checked here, whatever the replica then does with the message, because an old or repeated one
     * still tells where its signer is; one that does not check out is not counted (its own handling says why).
     */
    private void takeReport(Signed<? extends ChonkyMessage> signed) {
        long ownQcView = Math.max(highCommitQcView(), highTimeoutQcView());
        try {
            requireValidator(signed.key());
            switch (signed.message()) {
                case ReplicaNewView nv -> {
                    nv.view().verify(epoch);
                    requireSignature(signed);
                    nv.verify(epoch, verifier);
                    rejoin.report(signed.key(), nv.justification().view().number());
                }
                case ReplicaTimeout t
                when t.view().number() == 0
                        && t.highVote().isEmpty()
                        && t.highQc().isEmpty() -> {
                    t.view().verify(epoch);
                    Signed<ReplicaTimeout> vote = cast(signed);
                    if (rejoin.holdsAnotherFrom(vote)) {
                        // One of the two is forged: this one counts (and the held one goes) only if it checks out.
                        requireSignature(vote);
                        rejoin.report(vote.key(), Rejoin.NO_QC);
                    } else {
                        // Its signature is checked with those of the others held, once they would count: view-0
                        // timeout votes are all alike, so that is one pairing check where each alone costs one (at
                        // n = 100, 99 per replica at a chain's start).
                        rejoin.reportUnchecked(vote);
                        if (!rejoin.wouldShow(ownQcView)) {
                            return;
                        }
                        reportCheckedTimeoutVotes();
                    }
                }
                default -> {
                    return;
                }
            }
        } catch (InvalidMessageException e) {
            return;
        }
        Optional<Rejoin.Shown> shown = rejoin.shown(ownQcView);
        if (shown.isEmpty()) {
            return;
        }
        long highest = shown.get().highestQcView();
        long reporters = shown.get().reporterWeight();
        rejoin = null;
        if (highest <= 0) {
            // Nothing above view 0's timeout QC: a new chain, where every replica starts without state (or a wipe
            // within its first views, which no replica can tell from one).
            votingFloor = 0;
            observer.abstaining(0, "validators of weight " + reporters + " show no QC above view 0: a new chain");
            persist(); // on disk at once: after a crash from here on, this replica is no longer one without state
            if (view > 0) {
                announceView();
            }
            return;
        }
        votingFloor = highest + 3;
        observer.abstaining(
                votingFloor,
                "validators of weight " + reporters + " showed QCs up to view " + highest
                        + ", so this replica may have voted up to view " + (highest + 2) + " before its data was lost");
    }

    private void persist() {
        if (!caughtUp()) {
            stateUnsaved =
                    true; // after a start without state: keep the disk "fresh" until caught up, so a crash restarts the
            // wait
            return;
        }
        stateUnsaved = false;
        out.add(new Output.PersistState(state()));
    }

    private void broadcast(ChonkyMessage m) {
        out.add(new Output.Broadcast(Signed.sign(config.validatorKey(), m)));
    }

    @Override
    public String toString() {
        return "Replica(" + me + ", view " + view + ", " + phase + ")";
    }
}
