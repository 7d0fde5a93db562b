package dev.tally.sim;

import dev.tally.crypto.BlsPublicKey;
import dev.tally.crypto.BlsSecretKey;
import dev.tally.protocol.Epoch;
import dev.tally.protocol.Genesis;
import dev.tally.protocol.LeaderSelection;
import dev.tally.protocol.ValidatorInfo;
import dev.tally.protocol.ValidatorSchedule;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.IntStream;

/**
 * What the parts of one run share: the scenario and the seeded random source every choice draws from, the epoch and
 * the validators' keys, the nodes, the clock with its event queue, the invariant checker and the trace of the last
 * events. The network and storage models, the liveness check and the nodes' behaviours all work on it; one thread
 * owns it.
 */
final class SimWorld {
    /** The replicas' view timeout. */
    static final long VIEW_TIMEOUT_MILLIS = 1_000;

    private static final int TRACE_LENGTH = 40;
    private static final long GENESIS_FIRST_BLOCK = 0;

    private static final Map<Integer, List<BlsSecretKey>> KEYS = new ConcurrentHashMap<>();

    private final Scenario scenario;
    private final Script script;
    private final SplittableRandom rng;
    private final Epoch epoch;
    private final List<BlsSecretKey> keys;
    private final List<SimNode> nodes = new ArrayList<>();
    private final List<Integer> allNodes;
    private final SimVerifier verifier = new SimVerifier();
    private final InvariantChecker checker;
    private final EventLoop events = new EventLoop();
    private final ArrayDeque<Object> trace = new ArrayDeque<>();
    private final Map<Long, Integer> leaderIndex = new HashMap<>();
    /** Validators that lost their data in this run: they abstain a while, so liveness does not count on their turns. */
    private final Set<Integer> wiped = new HashSet<>();

    private boolean stable;
    private boolean blockFinalSinceStable;

    SimWorld(Scenario scenario, Script script) {
        this.scenario = scenario;
        this.script = script;
        this.rng = new SplittableRandom(scenario.seed());
        this.keys = keys(scenario.validators());
        Genesis genesis = genesis(scenario.committee(), keys);
        this.epoch = Epoch.of(genesis);
        boolean[] honestKey = addNodes(genesis);
        this.allNodes = IntStream.range(0, nodes.size()).boxed().toList();
        this.checker = new InvariantChecker(epoch, verifier::isSignedByHonestCode, honestKey);
    }

    /** Deterministic validator keys in schedule (public key) order, shared by all runs with n validators. */
    private static List<BlsSecretKey> keys(int n) {
        return KEYS.computeIfAbsent(
                n,
                size -> IntStream.range(0, size)
                        .mapToObj(i -> BlsSecretKey.fromSeed(
                                ByteBuffer.allocate(32).putInt(0, 1000 + i).array()))
                        .sorted(Comparator.comparing(BlsSecretKey::publicKey))
                        .toList());
    }

    private static Genesis genesis(Committee committee, List<BlsSecretKey> keys) {
        List<ValidatorInfo> infos = IntStream.range(0, committee.size())
                .mapToObj(v -> new ValidatorInfo(
                        keys.get(v).publicKey(), committee.weights().get(v), true))
                .toList();
        return new Genesis(
                1337,
                0,
                GENESIS_FIRST_BLOCK,
                Genesis.PROTOCOL_VERSION,
                Optional.of(
                        new ValidatorSchedule(infos, new LeaderSelection(committee.frequency(), committee.mode()))));
    }

    /**
     * Validators in schedule order: twins first, then the Byzantine ones, then a broken one last, the rest honest;
     * then the twins' second nodes. Returns, per validator, whether its key is only used by honest code.
     */
    private boolean[] addNodes(Genesis genesis) {
        int n = scenario.validators();
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
        return honestKey;
    }

    Scenario scenario() {
        return scenario;
    }

    Script script() {
        return script;
    }

    Epoch epoch() {
        return epoch;
    }

    SplittableRandom rng() {
        return rng;
    }

    List<SimNode> nodes() {
        return nodes;
    }

    SimNode node(int id) {
        return nodes.get(id);
    }

    List<Integer> allNodes() {
        return allNodes;
    }

    SimVerifier verifier() {
        return verifier;
    }

    InvariantChecker checker() {
        return checker;
    }

    long now() {
        return events.now();
    }

    EventLoop events() {
        return events;
    }

    void schedule(long at, SimEvent event) {
        events.schedule(at, event);
    }

    /** The leader of a view by the epoch's schedule (what a correct replica follows). */
    BlsPublicKey leader(long view) {
        return epoch.committee().get(leaderIndex(view)).key();
    }

    /** Remembered per view: a weighted draw costs a keccak-256, and the liveness check asks after every event. */
    int leaderIndex(long view) {
        return leaderIndex.computeIfAbsent(
                view,
                v -> epoch.committee().indexOf(epoch.committee().leader(v)).orElseThrow());
    }

    /** The secret key of a validator, for broken replicas that act in another's name. */
    BlsSecretKey secretKeyOf(BlsPublicKey validator) {
        return keys.get(epoch.committee().indexOf(validator).orElseThrow());
    }

    /** The highest view a node running honest code is in (0 before any is up). */
    long highestView() {
        return nodes.stream()
                .filter(n -> n.replica != null && n.runsHonestCode())
                .mapToLong(n -> n.replica.view())
                .max()
                .orElse(0);
    }

    /** Whether the network has stabilised: from then on no message is lost and nothing crashes. */
    boolean stable() {
        return stable;
    }

    void stabilise() {
        stable = true;
    }

    /** Whether a block became final after the network stabilised. */
    boolean blockFinalSinceStable() {
        return blockFinalSinceStable;
    }

    void blockFinalizedSinceStable() {
        blockFinalSinceStable = true;
    }

    void markWiped(int validator) {
        wiped.add(validator);
    }

    boolean wasWiped(int validator) {
        return wiped.contains(validator);
    }

    /** The node crashes and loses its data directory a moment from now (as a scenario's wipes do). */
    void wipeSoon(int node) {
        schedule(now() + 1, new SimEvent.Wipe(node));
    }

    /** Adds a line to the trace; {@code line} is formatted only if the trace is printed. */
    void note(Object line) {
        if (trace.size() == TRACE_LENGTH) {
            trace.removeFirst();
        }
        trace.addLast(line);
    }

    List<String> trace() {
        return trace.stream().map(String::valueOf).toList();
    }
}
