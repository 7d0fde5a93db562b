package dev.tally.sim;

import dev.tally.crypto.BlsPublicKey;
import dev.tally.protocol.ChonkyMessage;
import dev.tally.protocol.Epoch;
import dev.tally.protocol.LeaderProposal;
import dev.tally.protocol.ReplicaCommit;
import dev.tally.protocol.ReplicaNewView;
import dev.tally.protocol.Signed;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The simulated network: until the network stabilises, messages are dropped, duplicated and delayed as the
 * scenario's {@link Faults} say, and changing partitions keep groups of nodes apart; afterwards every message
 * arrives within {@link #STABLE_DELAY_MILLIS}. With {@link Delivery#PROPOSAL_BEFORE_QC} it also holds back what
 * would end a node's view until the next view's proposal reached it. Every delivery goes into the run's fingerprint.
 */
final class NetworkModel {
    /** After stabilisation, delays are uniform in [1, STABLE_DELAY_MILLIS]. */
    static final int STABLE_DELAY_MILLIS = 20;
    /** How long {@link Delivery#PROPOSAL_BEFORE_QC} holds a message back at most, if no proposal comes. */
    static final long HOLD_LIMIT_MILLIS = 300;

    /** Hands a message delivered to a node to the node (its behaviour, then its replica). */
    interface Inbox {
        void receive(SimNode node, Signed<? extends ChonkyMessage> message);
    }

    /** A message held back at a node in view {@code view} until the proposal of view + 1 reaches it. */
    private record Held(long since, long view, SimEvent.Deliver delivery) {}

    /** A trace entry formatted only if the trace is printed. */
    private record Delivered(long time, SimNode node, int from, ChonkyMessage message) {
        @Override
        public String toString() {
            return "t=" + time + " " + node + " <- node " + from + ": " + message;
        }
    }

    private final SimWorld world;
    private final Inbox inbox;
    /** Each node's group until the network stabilises: only nodes of one group reach each other. */
    private final int[] group;

    private long messages;
    private long fingerprint = 0x9e3779b97f4a7c15L;

    // Delivery.PROPOSAL_BEFORE_QC: per node, the messages held back and the commit votes delivered in its view.
    private final Map<Integer, List<Held>> held = new HashMap<>();
    private final Map<Integer, Map<ReplicaCommit, Set<BlsPublicKey>>> votesDelivered = new HashMap<>();
    private final Map<Integer, Long> votesDeliveredView = new HashMap<>();
    /** The held message being delivered now: it goes through. */
    private SimEvent.Deliver releasing;

    NetworkModel(SimWorld world, Inbox inbox) {
        this.world = world;
        this.inbox = inbox;
        this.group = new int[world.nodes().size()];
    }

    /** Messages delivered so far. */
    long messages() {
        return messages;
    }

    /** A digest of every delivery so far and its time: equal fingerprints, equal runs. */
    long fingerprint() {
        return fingerprint;
    }

    /** Whether a message from node {@code from} can reach node {@code to} now (both in one group, or stable). */
    boolean reachable(int from, int to) {
        return world.stable() || group[from] == group[to];
    }

    /** The delay of one transfer, drawn from the seed: the scenario's before stabilisation, short after. */
    int delayMillis() {
        int bound =
                world.stable() ? STABLE_DELAY_MILLIS : world.scenario().faults().maxDelayMillis();
        return 1 + world.rng().nextInt(bound);
    }

    void send(SimNode from, List<Integer> to, Signed<? extends ChonkyMessage> message) {
        world.checker().onSend(from, message);
        Faults faults = world.scenario().faults();
        long now = world.now();
        for (int target : to) {
            SimNode dest = world.node(target);
            if (target == from.id) {
                world.schedule(now, new SimEvent.Deliver(from.id, target, dest.life, message));
                continue;
            }
            if (!world.script().passes(from.id, target, message, world)) {
                continue;
            }
            if (!reachable(from.id, target) || (!world.stable() && world.rng().nextDouble() < faults.dropRate())) {
                continue;
            }
            world.schedule(now + delayMillis(), new SimEvent.Deliver(from.id, target, dest.life, message));
            if (!world.stable() && world.rng().nextDouble() < faults.duplicateRate()) {
                world.schedule(now + delayMillis(), new SimEvent.Deliver(from.id, target, dest.life, message));
            }
        }
    }

    void deliver(SimEvent.Deliver d) {
        SimNode node = world.node(d.to());
        long now = world.now();
        if (!node.livesIn(d.life())) {
            return;
        }
        boolean reorder = world.scenario().delivery() == Delivery.PROPOSAL_BEFORE_QC;
        if (reorder && holdsBack(node, d)) {
            held.computeIfAbsent(node.id, k -> new ArrayList<>()).add(new Held(now, node.replica.view(), d));
            world.schedule(now + HOLD_LIMIT_MILLIS, new SimEvent.Release(node.id));
            return;
        }
        messages++;
        fingerprint =
                mix(fingerprint, now, d.from(), d.to(), d.message().signature().hashCode());
        world.note(new Delivered(now, node, d.from(), d.message().message()));
        inbox.receive(node, d.message());
        if (reorder && d.message().message() instanceof LeaderProposal p) {
            release(node.id, p.view().number() - 1);
        }
    }

    /**
     * Whether a message would end the node's view v before the proposal of v + 1 reached it: a new-view message for
     * v + 1, or the commit vote that completes a quorum for one block of view v. Not at the leader of v + 1, which
     * needs the QC to propose.
     */
    @SuppressWarnings("ReferenceEquality") // the very delivery being released, not an equal one sent again
    private boolean holdsBack(SimNode node, SimEvent.Deliver d) {
        long view = node.replica.view();
        if (d == releasing || world.leader(view + 1).equals(node.key.publicKey())) {
            return false;
        }
        Epoch epoch = world.epoch();
        return switch (d.message().message()) {
            case ReplicaNewView nv -> nv.view().number() == view + 1;
            case ReplicaCommit c
            when c.view().number() == view
                    && epoch.committee().contains(d.message().key()) -> {
                if (votesDeliveredView.getOrDefault(node.id, -1L) != view) {
                    votesDelivered.put(node.id, new HashMap<>());
                    votesDeliveredView.put(node.id, view);
                }
                Set<BlsPublicKey> signers = votesDelivered.get(node.id).computeIfAbsent(c, k -> new HashSet<>());
                long weight = signers.stream()
                        .mapToLong(k -> epoch.committee()
                                .get(epoch.committee().indexOf(k).orElseThrow())
                                .weight())
                        .sum();
                long mine = epoch.committee()
                        .get(epoch.committee().indexOf(d.message().key()).orElseThrow())
                        .weight();
                if (signers.contains(d.message().key())
                        || weight + mine < epoch.committee().quorumThreshold()) {
                    signers.add(d.message().key());
                    yield false;
                }
                yield true;
            }
            default -> false;
        };
    }

    /** Delivers, in the order held, what the node holds for views up to {@code upToView} or has held long enough. */
    void release(int nodeId, long upToView) {
        List<Held> waiting = held.get(nodeId);
        if (waiting == null) {
            return;
        }
        long now = world.now();
        List<Held> due = waiting.stream()
                .filter(h -> h.view() <= upToView || h.since() + HOLD_LIMIT_MILLIS <= now)
                .toList();
        waiting.removeAll(due);
        for (Held h : due) {
            releasing = h.delivery();
            deliver(h.delivery());
        }
        releasing = null;
    }

    /** A node went down: what it held back is lost with it. */
    void forget(SimNode node) {
        held.remove(node.id);
    }

    /** Splits the nodes into new groups, until the network stabilises. */
    void repartition() {
        if (world.stable()) {
            return;
        }
        int groups = 1 + world.rng().nextInt(3);
        for (int i = 0; i < group.length; i++) {
            group[i] = world.rng().nextInt(groups);
        }
        world.note("t=" + world.now() + " partition: " + Arrays.toString(group));
        world.schedule(world.now() + 300 + world.rng().nextInt(1_200), new SimEvent.Repartition());
    }

    private static long mix(long h, long... values) {
        for (long v : values) {
            h ^= v;
            h *= 0xff51afd7ed558ccdL;
            h ^= h >>> 33;
        }
        return h;
    }
}
