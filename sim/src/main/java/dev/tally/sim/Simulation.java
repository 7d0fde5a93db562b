package dev.tally.sim;

import dev.tally.consensus.BrokenInvariantException;
import dev.tally.consensus.Input;
import dev.tally.consensus.Output;
import dev.tally.consensus.Replica;
import dev.tally.protocol.ChonkyMessage;
import dev.tally.protocol.Signed;
import java.util.List;

/**
 * A deterministic simulation of a committee running the real {@link Replica}: a seeded network (delay, loss,
 * duplication, changing partitions until a stabilisation time), a simulated clock, storage that keeps only what
 * was persisted across crashes, a simulated execution layer and block sync. One thread, one seed, one run: the
 * same seed replays the same run, which {@link SimResult#fingerprint()} shows.
 *
 * <p>The run's shared state is a {@link SimWorld}; {@link EventLoop} keeps its clock and events, {@link NetworkModel}
 * and {@link StorageModel} model the network and the nodes' disks, {@link LivenessCheck} watches for blocks after
 * stabilisation. This class wires them, runs the events and drives each node's replica through its behaviour.
 */
public final class Simulation {
    private final SimWorld world;
    private final NetworkModel network;
    private final StorageModel storage;
    private final LivenessCheck liveness;

    public Simulation(Scenario scenario) {
        this(scenario, scenario.livenessExpected());
    }

    /** Beyond f the protocol promises no liveness; tests may still demand it, to see the check fire. */
    Simulation(Scenario scenario, boolean expectLiveness) {
        this(scenario, expectLiveness, Script.NONE);
    }

    Simulation(Scenario scenario, boolean expectLiveness, Script script) {
        this.world = new SimWorld(scenario, script);
        this.network = new NetworkModel(world, this::receive);
        this.storage = new StorageModel(world, network, this::step);
        this.liveness = new LivenessCheck(world, expectLiveness);
    }

    /** The node's replica, null while it is down. */
    Replica replicaOf(int node) {
        return world.node(node).replica;
    }

    public static SimResult run(Scenario scenario) {
        return new Simulation(scenario).run();
    }

    public SimResult run() {
        scheduleStartAndFaults();
        InvariantChecker checker = world.checker();
        long hardStop = liveness.hardStopMillis();
        while (checker.violation().isEmpty()) {
            SimEvent event = world.events().next(hardStop);
            if (event == null) {
                break;
            }
            checker.at(world.now());
            handle(event);
            if (checker.violation().isEmpty()) {
                liveness.check();
            }
            if (liveness.finished()) {
                break;
            }
        }
        liveness.atEnd();
        return new SimResult(
                world.scenario(),
                checker.highestFinal(),
                world.highestView(),
                checker.viewsTimedOut(),
                network.messages(),
                world.now(),
                checker.violation(),
                liveness.excused(),
                network.fingerprint(),
                world.trace());
    }

    /** Every node starts and syncs at a random moment; the scenario's partitions, crashes and wipes come before gst. */
    private void scheduleStartAndFaults() {
        Faults faults = world.scenario().faults();
        var rng = world.rng();
        for (SimNode node : world.nodes()) {
            world.schedule(rng.nextInt(50), new SimEvent.Restart(node.id));
            world.schedule(rng.nextInt((int) StorageModel.SYNC_INTERVAL_MILLIS), new SimEvent.SyncTick(node.id));
        }
        if (faults.partitions() && faults.gstMillis() > 0) {
            world.schedule(0, new SimEvent.Repartition());
        }
        int nodes = world.nodes().size();
        for (int c = 0; c < faults.crashes() && faults.gstMillis() > 0; c++) {
            world.schedule(rng.nextLong(faults.gstMillis()), new SimEvent.Crash(rng.nextInt(nodes)));
        }
        for (int w = 0; w < faults.wipes() && faults.gstMillis() > 0; w++) {
            world.schedule(rng.nextLong(faults.gstMillis()), new SimEvent.Wipe(rng.nextInt(nodes)));
        }
        world.schedule(faults.gstMillis(), new SimEvent.Stabilise());
    }

    private void handle(SimEvent event) {
        switch (event) {
            case SimEvent.Deliver d -> network.deliver(d);
            case SimEvent.Timer t -> {
                SimNode node = world.node(t.node());
                if (node.livesIn(t.life()) && node.timerDeadline == world.now()) {
                    step(node, new Input.TimerExpired());
                }
            }
            case SimEvent.Answer a -> {
                SimNode node = world.node(a.node());
                if (node.livesIn(a.life())) {
                    step(node, a.input());
                }
            }
            case SimEvent.Crash c -> storage.crash(world.node(c.node()));
            case SimEvent.Wipe w -> storage.wipe(world.node(w.node()));
            case SimEvent.Restart r -> storage.restart(world.node(r.node()));
            case SimEvent.SyncTick s -> storage.sync(s);
            case SimEvent.BlocksArrive b -> storage.fetched(b);
            case SimEvent.Repartition p -> network.repartition();
            case SimEvent.Stabilise s -> {
                world.stabilise();
                liveness.onStable();
                storage.restartDownNodes();
            }
            case SimEvent.Release r -> network.release(r.node(), Long.MAX_VALUE);
        }
    }

    // ------------------------------------------------------------------ nodes

    /** A message reached the node: its behaviour sees it first, then its replica gets what the behaviour passes on. */
    private void receive(SimNode node, Signed<? extends ChonkyMessage> message) {
        for (Action a : node.behaviour.observe(message, node, world)) {
            execute(node, a);
        }
        step(node, new Input.MessageReceived(node.behaviour.receive(message, node, world)));
    }

    private void step(SimNode node, Input input) {
        List<Output> outputs;
        try {
            outputs = node.replica.step(input, world.now());
        } catch (BrokenInvariantException e) {
            world.checker().fail("the replica keeps its own invariants", node + ": " + e.getMessage());
            return;
        }
        List<Action> actions = node.behaviour.act(outputs, node, world);
        int cut = actions.size();
        boolean crashing = node.crashMidStep && !actions.isEmpty();
        if (crashing) {
            cut = world.rng().nextInt(actions.size()); // the process dies after this many actions
        }
        for (int i = 0; i < cut; i++) {
            execute(node, actions.get(i));
        }
        if (node.runsHonestCode()) {
            world.checker().afterStep(node);
        }
        if (crashing) {
            world.note(node + " crashed in the middle of a step, after " + cut + " of " + actions.size() + " actions");
            storage.down(node);
        }
    }

    private void execute(SimNode node, Action action) {
        switch (action) {
            case Action.SendTo s -> network.send(node, s.nodes(), s.message());
            case Action.Execute e -> execute(node, e.output());
        }
    }

    /** Carries out a replica's output as an honest node does, in the order given. */
    private void execute(SimNode node, Output output) {
        var rng = world.rng();
        long now = world.now();
        switch (output) {
            case Output.PersistState p -> storage.persist(node, p.state());
            case Output.Broadcast b -> {
                if (node.runsHonestCode()) {
                    world.verifier().signedByHonestCode(b.message());
                }
                network.send(node, world.allNodes(), b.message());
            }
            case Output.FinalizeBlock f -> storage.finalized(node, f.block());
            case Output.ProposePayload p ->
                world.schedule(
                        now + 1 + rng.nextInt(3),
                        new SimEvent.Answer(
                                node.id,
                                node.life,
                                new Input.PayloadProposed(
                                        p.view(),
                                        p.blockNumber(),
                                        SimExecution.propose(p.blockNumber(), node.id, rng))));
            case Output.VerifyPayload v -> {
                String refusal = SimExecution.verify(v.blockNumber(), v.payload());
                world.schedule(
                        now + 1 + rng.nextInt(3),
                        new SimEvent.Answer(
                                node.id,
                                node.life,
                                new Input.PayloadVerified(
                                        v.view(),
                                        v.blockNumber(),
                                        v.payload(),
                                        refusal == null,
                                        refusal == null ? "" : refusal)));
            }
            case Output.SetTimer t -> {
                node.timerDeadline = t.deadlineMillis();
                world.schedule(t.deadlineMillis(), new SimEvent.Timer(node.id, node.life));
            }
        }
    }
}
