package dev.tally.node.executor;

import dev.tally.consensus.ConsensusConfig;
import dev.tally.consensus.ConsensusObserver;
import dev.tally.consensus.Input;
import dev.tally.consensus.Output;
import dev.tally.consensus.Rejection;
import dev.tally.consensus.Replica;
import dev.tally.execution.ExecutionLayer;
import dev.tally.execution.PayloadVerdict;
import dev.tally.network.ConsensusInbox;
import dev.tally.network.Network;
import dev.tally.node.metrics.NodeMetrics;
import dev.tally.protocol.FinalBlock;
import dev.tally.protocol.LeaderProposal;
import dev.tally.protocol.Payload;
import dev.tally.protocol.ProposalJustification;
import dev.tally.protocol.ReplicaCommit;
import dev.tally.protocol.ReplicaState;
import dev.tally.storage.Storage;
import dev.tally.storage.SyncGroup;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The single owner of the {@link Replica}: takes inputs from one queue (network messages, timer expiries, the
 * execution layer's answers, stored-block notices), steps the replica, and executes its outputs in order. A
 * {@link Output.PersistState} is synced to disk before the next output runs, so a vote never leaves before the
 * state that forbids a conflicting one. Consecutive storage outputs (the final block and the next view's state, from
 * one commit QC) are written in one {@link Storage#syncGroup}: one sync for both, before any later output runs. In
 * between, gossip may already advertise the block: after a crash that lost it, this node advertises what it has again,
 * and a peer that asked meanwhile is told the block is absent and fetches it elsewhere.
 */
final class ReplicaLoop {
    private static final Logger log = LoggerFactory.getLogger(ReplicaLoop.class);
    /** Network messages queued for the replica at most; beyond, the inbox keeps them (and applies back-pressure). */
    private static final int MAX_QUEUED_MESSAGES = 64;

    private final ConsensusConfig config;
    /** How long a proposal with an empty mempool waits for a first transaction (NodeConfig.emptyBlockInterval). */
    private final Duration emptyBlockInterval;
    /** The most payload bytes a proposal of this node carries (NodeConfig.proposalPayloadSize). */
    private final int proposalPayloadSize;

    private final Replica replica;
    private final Storage states;
    private final ExecutionLayer execution;
    private final Network network;
    private final BlockPipeline blocks;
    private final NodeMetrics metrics;
    private final Scope scope;
    private final LinkedBlockingQueue<Input> inputs = new LinkedBlockingQueue<>();
    private final Semaphore messageSlots = new Semaphore(MAX_QUEUED_MESSAGES);
    private final ScheduledExecutorService timer;
    private ScheduledFuture<?> pendingTimer;
    private boolean rejectedInStep;
    private volatile ReplicaStatus status;
    /** The replica's position as the network's inbox last heard it (see ConsensusInbox.replicaAt). */
    private ConsensusInbox.ReplicaPosition reported;

    private volatile boolean stopped;
    private volatile Thread loopThread;
    private volatile Thread inboxThread;

    ReplicaLoop(
            ConsensusConfig config,
            Storage states,
            ExecutionLayer execution,
            Network network,
            BlockPipeline blocks,
            NodeMetrics metrics,
            Scope scope,
            Duration emptyBlockInterval,
            int proposalPayloadSize) {
        this.config = config;
        this.emptyBlockInterval = emptyBlockInterval;
        this.proposalPayloadSize = proposalPayloadSize;
        this.states = states;
        this.execution = execution;
        this.network = network;
        this.blocks = blocks;
        this.metrics = metrics;
        this.scope = scope;
        long epoch = config.epoch().number();
        // A state of an earlier epoch is that epoch's business: this epoch starts from the initial state.
        ReplicaState persisted =
                states.replicaState().filter(s -> s.epoch() >= epoch).orElse(ReplicaState.initial(epoch));
        this.replica = new Replica(config, persisted, new Events(), new NetworkVerified(network.qcVerifier()));
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "replica-timer");
            t.setDaemon(true);
            return t;
        });
        scope.onShutdown(timer::shutdownNow);
        publishStatus(now());
        log.info(
                "replica of epoch {} starts at view {} ({}), high vote {}",
                epoch,
                persisted.view(),
                persisted.phase(),
                persisted.highVote().map(Object::toString).orElse("none"));
    }

    /** The epoch this replica runs. */
    dev.tally.protocol.Epoch epoch() {
        return config.epoch();
    }

    /**
     * Stops the loop at the end of its current step (an epoch ended) and waits for it: its inputs are dropped, its
     * timer cancelled; the network's inbox is left to the next replica.
     */
    void stop() throws InterruptedException {
        stopped = true;
        Thread inbox = inboxThread;
        if (inbox != null) {
            inbox.interrupt();
            inbox.join(5_000);
        }
        Thread loop = loopThread;
        if (loop != null) {
            loop.join(5_000);
        }
        timer.shutdownNow();
        log.info("replica of epoch {} stopped at view {}", config.epoch().number(), status.view());
    }

    /** The replica's position after its last step. */
    ReplicaStatus status() {
        return status;
    }

    /** Storage moved on: tell the replica (its proposer and verifier wait for predecessors to be stored). */
    void blocksPersisted(StoredRange range) {
        inputs.add(new Input.BlocksPersisted(range.first(), range.last()));
    }

    /** Moves verified messages from the network's inbox into the input queue, keeping at most a few queued. */
    void forwardInbox() throws InterruptedException {
        inboxThread = Thread.currentThread();
        try {
            while (!stopped) {
                messageSlots.acquire();
                inputs.add(new Input.MessageReceived(network.inbox().take()));
            }
        } catch (InterruptedException e) {
            if (!stopped) {
                throw e;
            }
        }
    }

    /** The loop: runs until interrupted; any exception (storage, a bug) stops the node. */
    void run() throws InterruptedException {
        loopThread = Thread.currentThread();
        StoredRange stored = blocks.persisted();
        step(new Input.BlocksPersisted(stored.first(), stored.last()));
        step(new Input.Start());
        while (!stopped) {
            Input input = inputs.poll(100, TimeUnit.MILLISECONDS);
            if (input != null && !stopped) {
                step(input);
            }
        }
    }

    /** Whether block {@code n} belongs to a later epoch than this replica's: it must not propose, vote or finalize it. */
    private boolean beyondEpoch(long n) {
        return execution.epochAt(n).number() != config.epoch().number();
    }

    private void step(Input input) {
        ReplicaStepEvent event = ReplicaStepEvent.start(input);
        long now = now();
        rejectedInStep = false;
        List<Output> outputs = replica.step(input, now);
        if (input instanceof Input.MessageReceived m) {
            messageSlots.release();
            metrics.messageProcessed(m.message().message().getClass().getSimpleName(), !rejectedInStep);
        }
        publishStatus(now);
        executeAll(outputs);
        ReplicaStepEvent.end(event, replica.view(), replica.phase(), outputs.size());
    }

    private void publishStatus(long now) {
        ReplicaStatus old = status;
        long view = replica.view();
        long started = old != null && old.view() == view ? old.viewStartedMillis() : now;
        long highQcBlock =
                replica.highCommitQc().map(qc -> qc.header().number()).orElse(-1L);
        status = new ReplicaStatus(view, replica.phase(), started, highQcBlock);
        var position = new ConsensusInbox.ReplicaPosition(
                config.epoch().number(),
                view,
                config.epoch().committee().leader(view),
                replica.highCommitQcView(),
                replica.highTimeoutQcView(),
                replica.lacksHighQcBlock(),
                replica.awaitingReports());
        if (!position.equals(reported)) {
            reported = position;
            network.inbox().replicaAt(position);
        }
        metrics.view(view);
    }

    /**
     * Executes the outputs in order, each run of several storage outputs in one sync group, closed before the next
     * output (a lone write is synced by itself).
     */
    private void executeAll(List<Output> outputs) {
        SyncGroup group = null;
        try {
            for (int i = 0; i < outputs.size(); i++) {
                Output o = outputs.get(i);
                if (!stores(o) && group != null) {
                    closeGroup(group);
                    group = null;
                } else if (stores(o) && group == null && i + 1 < outputs.size() && stores(outputs.get(i + 1))) {
                    group = states.syncGroup();
                }
                execute(o);
            }
        } catch (RuntimeException e) {
            if (group != null) {
                try {
                    group.close(); // ends the group: the node stops on e
                } catch (RuntimeException closing) {
                    e.addSuppressed(closing);
                }
            }
            throw e;
        }
        if (group != null) {
            closeGroup(group);
        }
    }

    private static boolean stores(Output o) {
        return o instanceof Output.PersistState || o instanceof Output.FinalizeBlock;
    }

    private void closeGroup(SyncGroup group) {
        long start = System.nanoTime();
        group.close();
        metrics.storageLatency("sync_group", System.nanoTime() - start);
    }

    private void execute(Output output) {
        switch (output) {
            case Output.PersistState p -> {
                long start = System.nanoTime();
                states.persistReplicaState(p.state());
                metrics.storageLatency("persist_replica_state", System.nanoTime() - start);
            }
            case Output.Broadcast b -> {
                if (b.message().message() instanceof ReplicaCommit c
                        && beyondEpoch(c.proposal().number())) {
                    log.info(
                            "not voting for block {}: it belongs to the next epoch",
                            c.proposal().number());
                } else if (b.message().message() instanceof LeaderProposal lp
                        && lp.proposalPayload().isEmpty()
                        && beyondEpoch(
                                lp.justification().impliedBlock(config.epoch()).number())) {
                    log.info("not reproposing a block of the next epoch");
                } else {
                    network.broadcast(b.message());
                }
            }
            case Output.FinalizeBlock f -> {
                if (beyondEpoch(f.block().number())) {
                    log.warn(
                            "block {} was finalized by the committee of epoch {}, but belongs to a later epoch: dropped",
                            f.block().number(),
                            config.epoch().number());
                } else {
                    blocks.queueBlock(f.block());
                }
            }
            case Output.ProposePayload p
            when beyondEpoch(p.blockNumber()) ->
                log.info("not proposing block {} in view {}: it belongs to the next epoch", p.blockNumber(), p.view());
            case Output.VerifyPayload v
            when beyondEpoch(v.blockNumber()) ->
                inputs.add(new Input.PayloadVerified(
                        v.view(),
                        v.blockNumber(),
                        v.payload(),
                        false,
                        "block " + v.blockNumber() + " belongs to the next epoch"));
            case Output.ProposePayload p ->
                scope.fork("propose-payload " + p.blockNumber(), () -> {
                    // Off the loop's thread: the answer may wait for a first transaction (an idle chain).
                    Payload payload = proposedPayload(p.blockNumber());
                    inputs.add(new Input.PayloadProposed(p.view(), p.blockNumber(), payload));
                });
            case Output.VerifyPayload v ->
                scope.fork("verify-payload " + v.blockNumber(), () -> {
                    PayloadVerdict verdict = execution.verifyPayload(v.blockNumber(), v.payload());
                    String reason = verdict instanceof PayloadVerdict.Invalid i ? i.reason() : "";
                    inputs.add(new Input.PayloadVerified(
                            v.view(), v.blockNumber(), v.payload(), verdict instanceof PayloadVerdict.Valid, reason));
                });
            case Output.SetTimer t -> setTimer(t.deadlineMillis());
        }
    }

    /** The execution layer's payload, once it answers; its failure is the task's (it stops the node). */
    private Payload proposedPayload(long blockNumber) throws InterruptedException {
        try {
            return execution
                    .proposePayloadWhenReady(blockNumber, proposalPayloadSize, emptyBlockInterval)
                    .get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new IllegalStateException("proposing a payload for block " + blockNumber, e.getCause());
        }
    }

    private void setTimer(long deadlineMillis) {
        if (stopped) {
            return;
        }
        if (pendingTimer != null) {
            pendingTimer.cancel(false);
        }
        pendingTimer = timer.schedule(
                () -> inputs.add(new Input.TimerExpired()), Math.max(0, deadlineMillis - now()), TimeUnit.MILLISECONDS);
    }

    /** The loop's clock: monotonic milliseconds. */
    static long now() {
        return System.nanoTime() / 1_000_000;
    }

    /** What the replica reports, into logs and metrics. Runs on the loop's thread, inside a step. */
    private final class Events implements ConsensusObserver {
        @Override
        public void messageRejected(String kind, Rejection rejection) {
            rejectedInStep = true;
            metrics.rejected(kind, rejection.reason());
            log.debug("rejected {}: {}", kind, rejection.message());
        }

        @Override
        public void viewStarted(long view, ProposalJustification justification) {
            metrics.viewStarted(view);
            log.debug(
                    "view {} started, justified by {}",
                    view,
                    justification.getClass().getSimpleName());
        }

        @Override
        public void timedOut(long view) {
            metrics.timedOut();
            log.debug("view {} timed out", view);
        }

        @Override
        public void voted(long view, long blockNumber) {
            metrics.blockSeen(blockNumber);
        }

        @Override
        public void proposed(long view, long blockNumber, boolean reproposal) {
            metrics.blockSeen(blockNumber);
            log.debug("proposing block {} in view {}{}", blockNumber, view, reproposal ? " (reproposal)" : "");
        }

        @Override
        public void abstaining(long firstVotingView, String reason) {
            if (firstVotingView == Long.MAX_VALUE) {
                // Every validator of a new chain starts so; only a floor above view 0 (below) shows lost data.
                log.info("not voting yet: {}", reason);
            } else if (firstVotingView == 0) {
                log.info("voting: {}", reason);
            } else {
                log.warn("not voting before view {}: {}", firstVotingView, reason);
            }
        }

        @Override
        public void finalizedByLateProposal(long number) {
            metrics.finalizedByLateProposal();
        }

        @Override
        public void finalized(FinalBlock block) {
            metrics.finalized(block);
            log.debug(
                    "finalized block {} in view {} ({} bytes)",
                    block.number(),
                    block.justification().view().number(),
                    block.payload().size());
        }
    }
}
