package dev.tally.sim;

import dev.tally.consensus.ConsensusConfig;
import dev.tally.consensus.ConsensusObserver;
import dev.tally.consensus.Input;
import dev.tally.consensus.Replica;
import dev.tally.protocol.FinalBlock;
import dev.tally.protocol.InvalidMessageException;
import dev.tally.protocol.ReplicaState;
import dev.tally.storage.StorageException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The nodes' storage and what happens to it: replica state persisted, final blocks stored in order (from the node's
 * own replica or fetched by block sync), crashes that keep only what was persisted, wipes that lose it all, and
 * restarts from what is left.
 */
final class StorageModel {
    static final long SYNC_INTERVAL_MILLIS = 100;
    private static final int MAX_PAYLOAD = 64 * 1024;
    /** Blocks fetched at most per block-sync request. */
    private static final int SYNC_BATCH = 16;

    /** Hands an input to a node's replica (its behaviour acting on the outputs). */
    interface Stepper {
        void step(SimNode node, Input input);
    }

    private final SimWorld world;
    private final NetworkModel network;
    private final Stepper stepper;

    StorageModel(SimWorld world, NetworkModel network, Stepper stepper) {
        this.world = world;
        this.network = network;
        this.stepper = stepper;
    }

    void persist(SimNode node, ReplicaState state) {
        node.storage.persistReplicaState(state);
    }

    /** The node's replica finalized a block: store it once its predecessors are. */
    void finalized(SimNode node, FinalBlock block) {
        if (node.runsHonestCode()) {
            world.checker().onFinal(node, block);
        }
        node.finalizedAhead.put(block.number(), block);
        storeInOrder(node);
    }

    private void storeInOrder(SimNode node) {
        long before = node.lastStored();
        FinalBlock next;
        while ((next = node.finalizedAhead.remove(node.lastStored() + 1)) != null) {
            try {
                node.storage.append(next);
            } catch (StorageException e) {
                world.checker()
                        .fail(
                                "final blocks are stored in order and match their CommitQC",
                                node + ": " + e.getMessage());
                return;
            }
        }
        node.finalizedAhead.headMap(node.lastStored() + 1).clear();
        if (node.lastStored() > before) {
            world.schedule(
                    world.now(),
                    new SimEvent.Answer(
                            node.id, node.life, new Input.BlocksPersisted(node.firstBlock(), node.lastStored())));
        }
    }

    void crash(SimNode node) {
        if (!node.up) {
            return;
        }
        long now = world.now();
        if (node.persisted().isEmpty() && !node.lostData) {
            // Nothing on disk yet (the first moments of a new chain): it would restart without state, as if wiped, and
            // abstain (see Replica.takeReport); the scenario budgets wipes, not crashes, so strike later if still
            // unstable.
            if (now + 500 < world.scenario().faults().gstMillis()) {
                world.schedule(now + 500, new SimEvent.Crash(node.id));
            }
            return;
        }
        if (world.rng().nextBoolean()) {
            node.crashMidStep = true; // dies during its next step
        } else {
            world.note("t=" + now + " " + node + " crashed");
            down(node);
        }
    }

    void wipe(SimNode node) {
        if (!node.up) {
            return;
        }
        long now = world.now();
        if (!world.scenario().committee().guardedAfterDataLoss(node.validator)) {
            world.note("t=" + now + " " + node
                    + " not wiped: the others weigh 2f or less, so no guard can cover its data loss");
            return;
        }
        if (world.nodes().stream().anyMatch(n -> n.runsHonestCode() && viewOnRestart(n) <= 1)) {
            // A validator without state whose reporters show no QC above view 0 cannot tell a wipe from a new chain
            // (see Replica.takeReport): the one window the guard leaves open. Once every honest node is past view 1,
            // any reporters weighing more than 2f include honest ones showing a QC of view 1 or later. That includes
            // nodes that are down, by the view they restart in: seed 24894 wiped validator 1 while validator 4
            // (weight 5 > 2f) was down in view 1, whose report then showed only view 0's QC.
            world.schedule(now + 500, new SimEvent.Wipe(node.id));
            return;
        }
        world.note("t=" + now + " " + node + " crashed and lost its data directory");
        world.markWiped(node.validator);
        down(node);
        node.wipe();
        world.checker().forgetHistoryOf(node);
    }

    /** The node's process dies: everything but its storage is lost, and it restarts a while later. */
    void down(SimNode node) {
        node.up = false;
        node.life++;
        node.replica = null;
        node.crashMidStep = false;
        node.timerDeadline = Long.MAX_VALUE;
        node.finalizedAhead.clear();
        network.forget(node);
        long now = world.now();
        long back = now + 100 + world.rng().nextInt(3_000);
        long gst = world.scenario().faults().gstMillis();
        world.schedule(world.stable() ? back : Math.min(back, Math.max(now + 1, gst)), new SimEvent.Restart(node.id));
    }

    /** The view a node is in, or, while it is down, the view it restarts in (0 without a persisted state). */
    private static long viewOnRestart(SimNode n) {
        return n.replica != null
                ? n.replica.view()
                : n.persisted().map(ReplicaState::view).orElse(0L);
    }

    /** Starts (or restarts) a node from what its storage kept. */
    void restart(SimNode node) {
        if (node.up) {
            return;
        }
        node.up = true;
        ReplicaState state =
                node.persisted().orElse(ReplicaState.initial(world.epoch().number()));
        // A broken replica's own checks are off: the self-check shows what the simulator's checker catches.
        ConsensusConfig config = new ConsensusConfig(node.key, world.epoch(), SimWorld.VIEW_TIMEOUT_MILLIS, MAX_PAYLOAD)
                .withInvariantChecks(node.role != SimNode.Role.BROKEN);
        Breakage breakage = node.role == SimNode.Role.BROKEN ? world.scenario().breakage() : Breakage.NONE;
        node.replica = new Replica(
                config,
                state,
                ConsensusObserver.NONE,
                Broken.verifier(breakage, world.verifier()),
                Broken.leaders(breakage, world.epoch().committee()));
        world.note("t=" + world.now() + " " + node + " starts at view " + state.view() + " with blocks up to "
                + node.lastStored());
        if (node.storage.range().isPresent()) {
            stepper.step(node, new Input.BlocksPersisted(node.firstBlock(), node.lastStored()));
        }
        if (node.up) {
            stepper.step(node, new Input.Start());
        }
    }

    /** After stabilisation nothing stays down for long. */
    void restartDownNodes() {
        for (SimNode node : world.nodes()) {
            if (!node.up) {
                world.schedule(
                        world.now() + 1 + world.rng().nextInt(NetworkModel.STABLE_DELAY_MILLIS),
                        new SimEvent.Restart(node.id));
            }
        }
    }

    /** Block sync, every {@link #SYNC_INTERVAL_MILLIS}: fetch the next missing blocks from a reachable node that has them. */
    void sync(SimEvent.SyncTick tick) {
        sync(world.node(tick.node()));
        world.schedule(world.now() + SYNC_INTERVAL_MILLIS, tick);
    }

    private void sync(SimNode node) {
        if (!node.up) {
            return;
        }
        List<SimNode> nodes = world.nodes();
        int start = world.rng().nextInt(nodes.size());
        for (int i = 0; i < nodes.size(); i++) {
            SimNode peer = nodes.get((start + i) % nodes.size());
            if (peer == node
                    || !peer.up
                    || !peer.runsHonestCode()
                    || !network.reachable(peer.id, node.id)
                    || !world.script().passes(peer.id, node.id, null, world)) {
                continue;
            }
            List<FinalBlock> batch = blocksAfter(peer, node.lastStored());
            if (!batch.isEmpty()) {
                world.schedule(
                        world.now() + network.delayMillis(), new SimEvent.BlocksArrive(node.id, node.life, batch));
                return;
            }
        }
    }

    /** Up to {@link #SYNC_BATCH} consecutive blocks the peer stores after block {@code last}. */
    private static List<FinalBlock> blocksAfter(SimNode peer, long last) {
        List<FinalBlock> batch = new ArrayList<>();
        for (long n = last + 1; n <= last + SYNC_BATCH; n++) {
            Optional<FinalBlock> b = peer.storage.block(n);
            if (b.isEmpty()) {
                break;
            }
            batch.add(b.get());
        }
        return batch;
    }

    /** Blocks fetched by block sync arrived: check each against its CommitQC, then store it. */
    void fetched(SimEvent.BlocksArrive arrived) {
        SimNode node = world.node(arrived.node());
        if (!node.livesIn(arrived.life())) {
            return;
        }
        for (FinalBlock b : arrived.blocks()) {
            if (b.number() != node.lastStored() + 1) {
                continue;
            }
            try {
                InvalidMessageException.check(
                        b.payload().hash().equals(b.justification().header().payload()), "payload hash mismatch");
                world.verifier().verify(b.justification(), world.epoch());
            } catch (InvalidMessageException e) {
                world.note("t=" + world.now() + " " + node + " refused fetched block " + b.number() + ": "
                        + e.getMessage());
                return;
            }
            finalized(node, b);
        }
    }
}
