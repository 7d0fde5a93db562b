package dev.tally.sim;

import dev.tally.consensus.ConsensusConfig;
import dev.tally.consensus.ConsensusObserver;
import dev.tally.consensus.Input;
import dev.tally.consensus.Output;
import dev.tally.consensus.Replica;
import dev.tally.crypto.BlsPublicKey;
import dev.tally.crypto.BlsSecretKey;
import dev.tally.protocol.ChonkyMessage;
import dev.tally.protocol.Epoch;
import dev.tally.protocol.FinalBlock;
import dev.tally.protocol.Genesis;
import dev.tally.protocol.InvalidMessageException;
import dev.tally.protocol.LeaderProposal;
import dev.tally.protocol.LeaderSelection;
import dev.tally.protocol.ReplicaCommit;
import dev.tally.protocol.ReplicaNewView;
import dev.tally.protocol.ReplicaState;
import dev.tally.protocol.Signed;
import dev.tally.protocol.ValidatorInfo;
import dev.tally.protocol.ValidatorSchedule;
import dev.tally.storage.StorageException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.IntStream;
import java.util.stream.LongStream;

/**
 * A deterministic simulation of a committee running the real {@link Replica}: a seeded network (delay, loss,
 * duplication, changing partitions until a stabilisation time), a simulated clock, storage that keeps only what
 * was persisted across crashes, a simulated execution layer and block sync. One thread, one seed, one run: the
 * same seed replays the same run, which {@link SimResult#fingerprint()} shows.
 */
public final class Simulation {
    static final long VIEW_TIMEOUT_MILLIS = 1_000;
    static final int STABLE_DELAY_MILLIS = 20;
    static final long SYNC_INTERVAL_MILLIS = 100;
    private static final int MAX_PAYLOAD = 64 * 1024;
    private static final int TRACE_LENGTH = 40;
    private static final long GENESIS_FIRST_BLOCK = 0;
    /** Blocks to finalize after stabilisation before a healthy run ends: enough to see a pace, not one lucky block. */
    private static final int BLOCKS_AFTER_STABILISATION = 4;
    /** How long {@link Delivery#PROPOSAL_BEFORE_QC} holds a message back at most, if no proposal comes. */
    static final long HOLD_LIMIT_MILLIS = 300;

    private static final Map<Integer, List<BlsSecretKey>> KEYS = new ConcurrentHashMap<>();

    private final Scenario scenario;
    private final boolean expectLiveness;
    private final Script script;
    private final SplittableRandom rng;
    private final Epoch epoch;
    private final List<BlsSecretKey> keys;
    private final List<SimNode> nodes = new ArrayList<>();
    private final List<Integer> allNodes;
    private final SimVerifier verifier = new SimVerifier();
    private final InvariantChecker checker;
    private final PriorityQueue<Scheduled> queue = new PriorityQueue<>(
            Comparator.comparingLong(Scheduled::time).thenComparingLong(Scheduled::seq));
    private final ArrayDeque<Object> trace = new ArrayDeque<>();
    private final int[] group;
    private long now;
    private long seq;
    private long fingerprint = 0x9e3779b97f4a7c15L;
    private long messages;

    // Liveness after stabilisation.
    private boolean stable;
    private long stableView = -1;
    private long stableHeight = -1;
    private long liveAt = -1;
    /** The highest view and the time when the final height last grew after stabilisation. */
    private long progressView = -1;
    private long progressHeight = -1;
    private long progressAt = -1;
    /** Validators that lost their data in this run: they abstain a while, so liveness does not count on their turns. */
    private final Set<Integer> wiped = new HashSet<>();
    private final Map<Long, Integer> leaderIndex = new HashMap<>();

    // Delivery.PROPOSAL_BEFORE_QC: per node, the messages held back and the commit votes delivered in its view.
    private final Map<Integer, List<Held>> held = new HashMap<>();
    private final Map<Integer, Map<ReplicaCommit, Set<BlsPublicKey>>> votesDelivered = new HashMap<>();
    private final Map<Integer, Long> votesDeliveredView = new HashMap<>();
    /** The held message being delivered now: it goes through. */
    private Event.Deliver releasing;

    /** A message held back at a node in view {@code view} until the proposal of view + 1 reaches it. */
    private record Held(long since, long view, Event.Deliver delivery) {}

    private record Scheduled(long time, long seq, Event event) {}

    /** Everything that can happen in a run. */
    private sealed interface Event {
        record Deliver(int from, int to, int life, Signed<? extends ChonkyMessage> message) implements Event {}

        record Timer(int node, int life) implements Event {}

        record Answer(int node, int life, Input input) implements Event {}

        record Crash(int node) implements Event {}

        record Wipe(int node) implements Event {}

        record Restart(int node) implements Event {}

        record SyncTick(int node) implements Event {}

        record BlocksArrive(int node, int life, List<FinalBlock> blocks) implements Event {}

        record Repartition() implements Event {}

        record Stabilise() implements Event {}

        /** Delivers what a node held back for {@link #HOLD_LIMIT_MILLIS} (no proposal came to release it). */
        record Release(int node) implements Event {}
    }

    public Simulation(Scenario scenario) {
        this(scenario, scenario.livenessExpected());
    }

    /** Beyond f the protocol promises no liveness; tests may still demand it, to see the check fire. */
    Simulation(Scenario scenario, boolean expectLiveness) {
        this(scenario, expectLiveness, Script.NONE);
    }

    /**
     * A test's hand on a run, for attacks the random faults would take too long to find: which sends and block
     * fetches get through, on top of the scenario's faults, and what a validator does instead of its planned
     * behaviour. It may wipe a node through {@link #wipeSoon}.
     */
    interface Script {
        /** Whether a message sent by node {@code from} reaches node {@code to}; {@code message} is null for block sync. */
        boolean passes(int from, int to, Signed<? extends ChonkyMessage> message, Simulation sim);

        default Behaviour behaviour(int validator, Behaviour planned) {
            return planned;
        }

        Script NONE = (from, to, message, sim) -> true;
    }

    Simulation(Scenario scenario, boolean expectLiveness, Script script) {
        this.scenario = scenario;
        this.expectLiveness = expectLiveness;
        this.script = script;
        this.rng = new SplittableRandom(scenario.seed());
        int n = scenario.validators();
        Committee committee = scenario.committee();
        this.keys = keys(n);
        List<ValidatorInfo> infos = IntStream.range(0, n)
                .mapToObj(v -> new ValidatorInfo(keys.get(v).publicKey(), committee.weights().get(v), true)).toList();
        Genesis genesis = new Genesis(1337, 0, GENESIS_FIRST_BLOCK, Genesis.PROTOCOL_VERSION,
                Optional.of(new ValidatorSchedule(infos, new LeaderSelection(committee.frequency(), committee.mode()))));
        this.epoch = Epoch.of(genesis);

        // Validators in schedule order: twins first, then the Byzantine ones, then a broken one last, the rest honest.
        boolean[] honestKey = new boolean[n];
        for (int v = 0; v < n; v++) {
            SimNode.Role role;
            Behaviour behaviour = Behaviour.HONEST;
            if (v < scenario.twins()) {
                role = SimNode.Role.TWIN;
            } else if (v < scenario.twins() + scenario.byzantineCount()) {
                role = SimNode.Role.BYZANTINE;
                behaviour = Faulty.of(scenario.byzantine());
            } else if (v == n - 1 && scenario.breakage() != Breakage.NONE) {
                role = SimNode.Role.BROKEN;
                behaviour = Faulty.of(scenario.breakage());
            } else {
                role = SimNode.Role.HONEST;
            }
            honestKey[v] = role == SimNode.Role.HONEST || role == SimNode.Role.BROKEN;
            nodes.add(new SimNode(v, v, keys.get(v), role, script.behaviour(v, behaviour), genesis));
        }
        for (int t = 0; t < scenario.twins(); t++) {
            nodes.add(new SimNode(n + t, t, keys.get(t), SimNode.Role.TWIN, Behaviour.HONEST, genesis));
        }
        this.allNodes = IntStream.range(0, nodes.size()).boxed().toList();
        this.group = new int[nodes.size()];
        this.checker = new InvariantChecker(epoch, verifier::isSignedByHonestCode, honestKey);
    }

    /** Deterministic validator keys in schedule (public key) order, shared by all runs with n validators. */
    private static List<BlsSecretKey> keys(int n) {
        return KEYS.computeIfAbsent(n, size -> IntStream.range(0, size)
                .mapToObj(i -> BlsSecretKey.fromSeed(ByteBuffer.allocate(32).putInt(0, 1000 + i).array()))
                .sorted(Comparator.comparing(BlsSecretKey::publicKey))
                .toList());
    }

    // ------------------------------------------------------------------ accessors for behaviours

    Epoch epoch() {
        return epoch;
    }

    SplittableRandom rng() {
        return rng;
    }

    List<Integer> allNodes() {
        return allNodes;
    }

    /** The leader of a view by the epoch's schedule (what a correct replica follows). */
    BlsPublicKey leader(long view) {
        return epoch.committee().get(leaderIndex(view)).key();
    }

    /** Remembered per view: a weighted draw costs a keccak-256, and the liveness check asks after every event. */
    private int leaderIndex(long view) {
        return leaderIndex.computeIfAbsent(view, v -> epoch.committee().indexOf(epoch.committee().leader(v)).orElseThrow());
    }

    /** The secret key of a validator, for broken replicas that act in another's name. */
    BlsSecretKey secretKeyOf(BlsPublicKey validator) {
        return keys.get(epoch.committee().indexOf(validator).orElseThrow());
    }

    /** Whether a block became final after the network stabilised. */
    boolean blockFinalSinceStable() {
        return liveAt >= 0;
    }

    /** The node crashes and loses its data directory a moment from now (as a scenario's wipes do). */
    void wipeSoon(int node) {
        schedule(now + 1, new Event.Wipe(node));
    }

    /** The node's replica, null while it is down. */
    Replica replicaOf(int node) {
        return nodes.get(node).replica;
    }

    // ------------------------------------------------------------------ the run

    public static SimResult run(Scenario scenario) {
        return new Simulation(scenario).run();
    }

    public SimResult run() {
        Faults faults = scenario.faults();
        for (SimNode node : nodes) {
            schedule(rng.nextInt(50), new Event.Restart(node.id));
            schedule(rng.nextInt((int) SYNC_INTERVAL_MILLIS), new Event.SyncTick(node.id));
        }
        if (faults.partitions() && faults.gstMillis() > 0) {
            schedule(0, new Event.Repartition());
        }
        for (int c = 0; c < faults.crashes() && faults.gstMillis() > 0; c++) {
            schedule(rng.nextLong(faults.gstMillis()), new Event.Crash(rng.nextInt(nodes.size())));
        }
        for (int w = 0; w < faults.wipes() && faults.gstMillis() > 0; w++) {
            schedule(rng.nextLong(faults.gstMillis()), new Event.Wipe(rng.nextInt(nodes.size())));
        }
        schedule(faults.gstMillis(), new Event.Stabilise());

        // Long enough for the first block and the steady pace after it, which fail sooner if blocks stop.
        long hardStop = faults.gstMillis() + 2 * livenessWindowMillis() + 10 * VIEW_TIMEOUT_MILLIS;
        while (!queue.isEmpty() && checker.violation().isEmpty()) {
            Scheduled next = queue.poll();
            now = next.time();
            if (now > hardStop) {
                break;
            }
            checker.at(now);
            handle(next.event());
            if (checker.violation().isEmpty()) {
                checkLiveness();
            }
            if (finished()) {
                break;
            }
        }
        if (checker.violation().isEmpty() && expectLiveness && checker.highestFinal() < stableHeight + BLOCKS_AFTER_STABILISATION) {
            checker.fail("liveness", "only " + (checker.highestFinal() - stableHeight) + " of " + BLOCKS_AFTER_STABILISATION
                    + " new blocks final by t=" + now + " ms (stable since " + faults.gstMillis() + " ms at view " + stableView
                    + ", height " + stableHeight + ")");
        }
        long lastView = nodes.stream().filter(nd -> nd.replica != null && nd.runsHonestCode())
                .mapToLong(nd -> nd.replica.view()).max().orElse(0);
        return new SimResult(scenario, checker.highestFinal(), lastView, checker.viewsTimedOut(), messages, now,
                checker.violation(), fingerprint, trace.stream().map(String::valueOf).toList());
    }

    private boolean finished() {
        return liveAt >= 0 && checker.highestFinal() >= stableHeight + BLOCKS_AFTER_STABILISATION;
    }

    private long livenessWindowMillis() {
        return (5L * scenario.maxFaulty() + 3) * (VIEW_TIMEOUT_MILLIS + 4 * STABLE_DELAY_MILLIS);
    }

    /**
     * The steady pace after the first block: every window of {@code 5f + 1} views led by validators that run honest
     * code with their data (a full rotation of honest leaders for n = 5f + 1 equal weights, the bound PROTOCOL.md
     * section 7 gives for the first block) finalizes a block. Views of faulty or wiped leaders do not count, since
     * they may end by timeout (in weighted mode they can come in runs longer than f); a window that sees no view end
     * at all fails after as long as those views would take.
     */
    long steadyWindowViews() {
        return 5 * scenario.maxFaulty() + 1;
    }

    /** Views after {@code from}, up to {@code to}, led by a validator with honest code, its own key and its data. */
    private long honestLedViews(long from, long to) {
        return LongStream.rangeClosed(from + 1, to).filter(view -> {
            int v = leaderIndex(view);
            return v >= scenario.twins() + scenario.byzantineCount() && !wiped.contains(v);
        }).count();
    }

    private void checkLiveness() {
        if (!stable) {
            return;
        }
        if (checker.highestFinal() > Math.max(stableHeight, progressHeight)) {
            progressHeight = checker.highestFinal();
            progressView = highestView();
            progressAt = now;
            if (liveAt < 0) {
                liveAt = now;
            }
            return;
        }
        if (!expectLiveness) {
            return;
        }
        if (liveAt >= 0) {
            checkSteadyPace();
            return;
        }
        long top = highestView();
        long honestViews = honestLedViews(stableView, top);
        if (honestViews > steadyWindowViews() + 1) { // + 1: the view in flight at stabilisation
            checker.fail("liveness", "reached view " + top + " with no new block final since stabilisation at view "
                    + stableView + ", " + honestViews + " views led by honest validators since (bound: 5f + 1)");
        } else if (now > scenario.faults().gstMillis() + livenessWindowMillis()) {
            checker.fail("liveness", "no new block final " + livenessWindowMillis() + " ms after stabilisation at view " + stableView);
        }
    }

    private void checkSteadyPace() {
        long top = highestView();
        long honestViews = honestLedViews(progressView, top);
        if (honestViews > steadyWindowViews()) {
            checker.fail("liveness", "no block final in views " + (progressView + 1) + " to " + top + ", " + honestViews
                    + " of them led by honest validators (steady pace: a block per " + steadyWindowViews() + " such views)");
        } else if (now > progressAt + (steadyWindowViews() + 2) * (VIEW_TIMEOUT_MILLIS + 4 * STABLE_DELAY_MILLIS)
                + (top - progressView) * VIEW_TIMEOUT_MILLIS) {
            checker.fail("liveness", "no block final since t=" + progressAt + " ms (view " + progressView + "), now in view " + top);
        }
    }

    private void schedule(long at, Event event) {
        queue.add(new Scheduled(at, seq++, event));
    }

    private void handle(Event event) {
        switch (event) {
            case Event.Deliver d -> deliver(d);
            case Event.Timer t -> {
                SimNode node = nodes.get(t.node());
                if (alive(node, t.life()) && node.timerDeadline == now) {
                    step(node, new Input.TimerExpired());
                }
            }
            case Event.Answer a -> {
                SimNode node = nodes.get(a.node());
                if (alive(node, a.life())) {
                    step(node, a.input());
                }
            }
            case Event.Crash c -> crash(nodes.get(c.node()));
            case Event.Wipe w -> wipe(nodes.get(w.node()));
            case Event.Restart r -> restart(nodes.get(r.node()));
            case Event.SyncTick s -> {
                sync(nodes.get(s.node()));
                schedule(now + SYNC_INTERVAL_MILLIS, s);
            }
            case Event.BlocksArrive b -> {
                SimNode node = nodes.get(b.node());
                if (alive(node, b.life())) {
                    store(node, b.blocks());
                }
            }
            case Event.Repartition p -> repartition();
            case Event.Stabilise s -> stabilise();
            case Event.Release r -> release(r.node(), Long.MAX_VALUE);
        }
    }

    private static boolean alive(SimNode node, int life) {
        return node.up && node.life == life;
    }

    // ------------------------------------------------------------------ nodes

    private void step(SimNode node, Input input) {
        List<Output> outputs = node.replica.step(input, now);
        List<Action> actions = node.behaviour.act(outputs, node, this);
        int cut = actions.size();
        boolean crashing = node.crashMidStep && !actions.isEmpty();
        if (crashing) {
            cut = rng.nextInt(actions.size()); // the process dies after this many actions
        }
        for (int i = 0; i < cut; i++) {
            execute(node, actions.get(i));
        }
        if (node.runsHonestCode()) {
            checker.afterStep(node);
        }
        if (crashing) {
            note(node + " crashed in the middle of a step, after " + cut + " of " + actions.size() + " actions");
            down(node);
        }
    }

    private void execute(SimNode node, Action action) {
        switch (action) {
            case Action.SendTo s -> send(node, s.nodes(), s.message());
            case Action.Execute e -> {
                switch (e.output()) {
                    case Output.PersistState p -> node.storage.persistReplicaState(p.state());
                    case Output.Broadcast b -> {
                        if (node.runsHonestCode()) {
                            verifier.signedByHonestCode(b.message());
                        }
                        send(node, allNodes, b.message());
                    }
                    case Output.FinalizeBlock f -> {
                        if (node.runsHonestCode()) {
                            checker.onFinal(node, f.block());
                        }
                        node.finalizedAhead.put(f.block().number(), f.block());
                        storeInOrder(node);
                    }
                    case Output.ProposePayload p -> schedule(now + 1 + rng.nextInt(3), new Event.Answer(node.id, node.life,
                            new Input.PayloadProposed(p.view(), p.blockNumber(), SimExecution.propose(p.blockNumber(), node.id, rng))));
                    case Output.VerifyPayload v -> {
                        String refusal = SimExecution.verify(v.blockNumber(), v.payload());
                        schedule(now + 1 + rng.nextInt(3), new Event.Answer(node.id, node.life, new Input.PayloadVerified(
                                v.view(), v.blockNumber(), v.payload(), refusal == null, refusal == null ? "" : refusal)));
                    }
                    case Output.SetTimer t -> {
                        node.timerDeadline = t.deadlineMillis();
                        schedule(t.deadlineMillis(), new Event.Timer(node.id, node.life));
                    }
                }
            }
        }
    }

    private void send(SimNode from, List<Integer> to, Signed<? extends ChonkyMessage> message) {
        checker.onSend(from, message);
        Faults faults = scenario.faults();
        for (int target : to) {
            SimNode dest = nodes.get(target);
            if (target == from.id) {
                schedule(now, new Event.Deliver(from.id, target, dest.life, message));
                continue;
            }
            if (!script.passes(from.id, target, message, this)) {
                continue;
            }
            if (!stable) {
                if (group[from.id] != group[target] || rng.nextDouble() < faults.dropRate()) {
                    continue;
                }
                schedule(now + 1 + rng.nextInt(faults.maxDelayMillis()), new Event.Deliver(from.id, target, dest.life, message));
                if (rng.nextDouble() < faults.duplicateRate()) {
                    schedule(now + 1 + rng.nextInt(faults.maxDelayMillis()), new Event.Deliver(from.id, target, dest.life, message));
                }
            } else {
                schedule(now + 1 + rng.nextInt(STABLE_DELAY_MILLIS), new Event.Deliver(from.id, target, dest.life, message));
            }
        }
    }

    private void deliver(Event.Deliver d) {
        SimNode node = nodes.get(d.to());
        if (!alive(node, d.life())) {
            return;
        }
        if (scenario.delivery() == Delivery.PROPOSAL_BEFORE_QC && holdsBack(node, d)) {
            held.computeIfAbsent(node.id, k -> new ArrayList<>()).add(new Held(now, node.replica.view(), d));
            schedule(now + HOLD_LIMIT_MILLIS, new Event.Release(node.id));
            return;
        }
        messages++;
        fingerprint = mix(fingerprint, now, d.from(), d.to(), d.message().signature().hashCode());
        note(new Delivered(now, node, d.from(), d.message().message()));
        for (Action a : node.behaviour.observe(d.message(), node, this)) {
            execute(node, a);
        }
        step(node, new Input.MessageReceived(node.behaviour.receive(d.message(), node, this)));
        if (scenario.delivery() == Delivery.PROPOSAL_BEFORE_QC && d.message().message() instanceof LeaderProposal p) {
            release(node.id, p.view().number() - 1);
        }
    }

    /**
     * Whether a message would end the node's view v before the proposal of v + 1 reached it: a new-view message for
     * v + 1, or the commit vote that completes a quorum for one block of view v. Not at the leader of v + 1, which
     * needs the QC to propose.
     */
    @SuppressWarnings("ReferenceEquality") // the very delivery being released, not an equal one sent again
    private boolean holdsBack(SimNode node, Event.Deliver d) {
        long view = node.replica.view();
        if (d == releasing || leader(view + 1).equals(node.key.publicKey())) {
            return false;
        }
        return switch (d.message().message()) {
            case ReplicaNewView nv -> nv.view().number() == view + 1;
            case ReplicaCommit c when c.view().number() == view && epoch.committee().contains(d.message().key()) -> {
                if (votesDeliveredView.getOrDefault(node.id, -1L) != view) {
                    votesDelivered.put(node.id, new HashMap<>());
                    votesDeliveredView.put(node.id, view);
                }
                Set<BlsPublicKey> signers = votesDelivered.get(node.id).computeIfAbsent(c, k -> new HashSet<>());
                long weight = signers.stream().mapToLong(k -> epoch.committee().get(epoch.committee().indexOf(k).orElseThrow()).weight()).sum();
                long mine = epoch.committee().get(epoch.committee().indexOf(d.message().key()).orElseThrow()).weight();
                if (signers.contains(d.message().key()) || weight + mine < epoch.committee().quorumThreshold()) {
                    signers.add(d.message().key());
                    yield false;
                }
                yield true;
            }
            default -> false;
        };
    }

    /** Delivers, in the order held, what the node holds for views up to {@code upToView} or has held long enough. */
    private void release(int nodeId, long upToView) {
        List<Held> waiting = held.get(nodeId);
        if (waiting == null) {
            return;
        }
        List<Held> due = waiting.stream().filter(h -> h.view() <= upToView || h.since() + HOLD_LIMIT_MILLIS <= now).toList();
        waiting.removeAll(due);
        for (Held h : due) {
            releasing = h.delivery();
            deliver(h.delivery());
        }
        releasing = null;
    }

    private static long mix(long h, long... values) {
        for (long v : values) {
            h ^= v;
            h *= 0xff51afd7ed558ccdL;
            h ^= h >>> 33;
        }
        return h;
    }

    private void crash(SimNode node) {
        if (!node.up) {
            return;
        }
        if (node.persisted().isEmpty() && !node.lostData) {
            // Nothing on disk yet (the first moments of a new chain): it would restart without state, as if wiped, and
            // abstain (see Replica.takeReport); the scenario budgets wipes, not crashes, so strike later if still unstable.
            if (now + 500 < scenario.faults().gstMillis()) {
                schedule(now + 500, new Event.Crash(node.id));
            }
            return;
        }
        if (rng.nextBoolean()) {
            node.crashMidStep = true; // dies during its next step
        } else {
            note("t=" + now + " " + node + " crashed");
            down(node);
        }
    }

    private void wipe(SimNode node) {
        if (!node.up) {
            return;
        }
        if (!scenario.committee().guardedAfterDataLoss(node.validator)) {
            note("t=" + now + " " + node + " not wiped: the others weigh 2f or less, so no guard can cover its data loss");
            return;
        }
        if (nodes.stream().anyMatch(n -> n.replica != null && n.runsHonestCode() && n.replica.view() <= 1)) {
            // A validator without state whose reporters show no QC above view 0 cannot tell a wipe from a new chain
            // (see Replica.takeReport): the one window the guard leaves open. Once every honest node is past view 1,
            // any reporters weighing more than 2f include honest ones showing a QC of view 1 or later.
            schedule(now + 500, new Event.Wipe(node.id));
            return;
        }
        note("t=" + now + " " + node + " crashed and lost its data directory");
        wiped.add(node.validator);
        down(node);
        node.wipe();
        checker.forgetHistoryOf(node);
    }

    private void down(SimNode node) {
        node.up = false;
        node.life++;
        node.replica = null;
        node.crashMidStep = false;
        node.timerDeadline = Long.MAX_VALUE;
        node.finalizedAhead.clear();
        held.remove(node.id);
        long back = now + 100 + rng.nextInt(3_000);
        schedule(stable ? back : Math.min(back, Math.max(now + 1, scenario.faults().gstMillis())), new Event.Restart(node.id));
    }

    /** Starts (or restarts) a node from what its storage kept. */
    private void restart(SimNode node) {
        if (node.up) {
            return;
        }
        node.up = true;
        ReplicaState state = node.persisted().orElse(ReplicaState.initial(epoch.number()));
        ConsensusConfig config = new ConsensusConfig(node.key, epoch, VIEW_TIMEOUT_MILLIS, MAX_PAYLOAD);
        Breakage breakage = node.role == SimNode.Role.BROKEN ? scenario.breakage() : Breakage.NONE;
        node.replica = new Replica(config, state, ConsensusObserver.NONE, Broken.verifier(breakage, verifier),
                Broken.leaders(breakage, epoch.committee()));
        note("t=" + now + " " + node + " starts at view " + state.view() + " with blocks up to " + node.lastStored());
        if (node.storage.range().isPresent()) {
            step(node, new Input.BlocksPersisted(node.firstBlock(), node.lastStored()));
        }
        if (node.up) {
            step(node, new Input.Start());
        }
    }

    // ------------------------------------------------------------------ storage and block sync

    private void storeInOrder(SimNode node) {
        long before = node.lastStored();
        FinalBlock next;
        while ((next = node.finalizedAhead.remove(node.lastStored() + 1)) != null) {
            try {
                node.storage.append(next);
            } catch (StorageException e) {
                checker.fail("final blocks are stored in order and match their CommitQC", node + ": " + e.getMessage());
                return;
            }
        }
        node.finalizedAhead.headMap(node.lastStored() + 1).clear();
        if (node.lastStored() > before) {
            schedule(now, new Event.Answer(node.id, node.life, new Input.BlocksPersisted(
                    node.firstBlock(), node.lastStored())));
        }
    }

    /** Block sync: fetch the next missing blocks from a reachable node that has them. */
    private void sync(SimNode node) {
        if (!node.up) {
            return;
        }
        long want = node.lastStored() + 1;
        int start = rng.nextInt(nodes.size());
        for (int i = 0; i < nodes.size(); i++) {
            SimNode peer = nodes.get((start + i) % nodes.size());
            if (peer == node || !peer.up || !peer.runsHonestCode() || (!stable && group[peer.id] != group[node.id])
                    || !script.passes(peer.id, node.id, null, this)) {
                continue;
            }
            List<FinalBlock> batch = new ArrayList<>();
            for (long n = want; n < want + 16; n++) {
                Optional<FinalBlock> b = peer.storage.block(n);
                if (b.isEmpty()) {
                    break;
                }
                batch.add(b.get());
            }
            if (!batch.isEmpty()) {
                int delay = stable ? 1 + rng.nextInt(STABLE_DELAY_MILLIS) : 1 + rng.nextInt(scenario.faults().maxDelayMillis());
                schedule(now + delay, new Event.BlocksArrive(node.id, node.life, batch));
                return;
            }
        }
    }

    private void store(SimNode node, List<FinalBlock> fetched) {
        for (FinalBlock b : fetched) {
            if (b.number() != node.lastStored() + 1) {
                continue;
            }
            try {
                // Block sync checks each block against its CommitQC before storing it.
                InvalidMessageException.check(b.payload().hash().equals(b.justification().header().payload()), "payload hash mismatch");
                verifier.verify(b.justification(), epoch);
            } catch (InvalidMessageException e) {
                note("t=" + now + " " + node + " refused fetched block " + b.number() + ": " + e.getMessage());
                return;
            }
            if (node.runsHonestCode()) {
                checker.onFinal(node, b);
            }
            node.finalizedAhead.put(b.number(), b);
            storeInOrder(node);
        }
    }

    // ------------------------------------------------------------------ network conditions

    private void repartition() {
        if (stable) {
            return;
        }
        int groups = 1 + rng.nextInt(3);
        for (int i = 0; i < group.length; i++) {
            group[i] = rng.nextInt(groups);
        }
        note("t=" + now + " partition: " + java.util.Arrays.toString(group));
        schedule(now + 300 + rng.nextInt(1_200), new Event.Repartition());
    }

    private long highestView() {
        return nodes.stream().filter(n -> n.replica != null && n.runsHonestCode()).mapToLong(n -> n.replica.view()).max().orElse(0);
    }

    private void stabilise() {
        stable = true;
        java.util.Arrays.fill(group, 0);
        stableView = highestView();
        stableHeight = checker.highestFinal();
        note("t=" + now + " network stable at view " + stableView + ", height " + stableHeight);
        for (SimNode node : nodes) {
            if (!node.up) {
                schedule(now + 1 + rng.nextInt(STABLE_DELAY_MILLIS), new Event.Restart(node.id));
            }
        }
    }

    /** A trace entry formatted only if the trace is printed. */
    private record Delivered(long time, SimNode node, int from, ChonkyMessage message) {
        @Override
        public String toString() {
            return "t=" + time + " " + node + " <- node " + from + ": " + message;
        }
    }

    private void note(Object line) {
        if (trace.size() == TRACE_LENGTH) {
            trace.removeFirst();
        }
        trace.addLast(line);
    }
}
