package dev.tally.node.executor;

import dev.tally.crypto.BlsPublicKey;
import dev.tally.network.BlockStoreState;
import dev.tally.network.Network;
import dev.tally.protocol.Epoch;
import java.time.Duration;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Logs the node's progress every {@link #REPORT_INTERVAL} (blocks stored, and on validators the view), and warns
 * when no block was stored for {@link #STALL_TIMEOUTS} view timeouts, saying where the replica stands and what it
 * is waiting for: blocks that peers have, a proposal, or a quorum of votes. The warning repeats while the stall lasts.
 */
final class ProgressWatch {
    private static final Logger log = LoggerFactory.getLogger(ProgressWatch.class);
    static final int STALL_TIMEOUTS = 3;
    static final Duration REPORT_INTERVAL = Duration.ofSeconds(10);

    private final Supplier<Optional<ReplicaLoop>> replica;
    private final BlockPipeline blocks;
    private final Network network;
    private final Supplier<Epoch> epoch;
    private final long viewTimeoutMillis;

    ProgressWatch(
            Supplier<Optional<ReplicaLoop>> replica,
            BlockPipeline blocks,
            Network network,
            Supplier<Epoch> epoch,
            Duration viewTimeout) {
        this.replica = replica;
        this.blocks = blocks;
        this.network = network;
        this.epoch = epoch;
        this.viewTimeoutMillis = viewTimeout.toMillis();
    }

    void run() throws InterruptedException {
        long stallMillis = STALL_TIMEOUTS * viewTimeoutMillis;
        long tick = Math.min(viewTimeoutMillis, REPORT_INTERVAL.toMillis());
        long lastBlock = blocks.persisted().last();
        long progressAt = ReplicaLoop.now();
        long reportedBlock = lastBlock;
        long reportedAt = progressAt;
        while (true) {
            Thread.sleep(tick);
            long now = ReplicaLoop.now();
            long last = blocks.persisted().last();
            if (last != lastBlock) {
                lastBlock = last;
                progressAt = now;
            } else if (now - progressAt >= stallMillis) {
                log.warn(
                        "no block finalized for {} s ({} view timeouts): {}",
                        String.format("%.1f", (now - progressAt) / 1000.0),
                        (now - progressAt) / viewTimeoutMillis,
                        diagnosis(last));
                progressAt = now;
            }
            if (now - reportedAt >= REPORT_INTERVAL.toMillis() && last != reportedBlock) {
                log.info(
                        "stored blocks up to {}: {} in the last {} s{}",
                        last,
                        last - reportedBlock,
                        (now - reportedAt) / 1000,
                        replica.get().map(r -> ", view " + r.status().view()).orElse(""));
                reportedBlock = last;
                reportedAt = now;
            }
        }
    }

    /** The newest block a gossip peer advertises, if any peer advertises one. */
    static OptionalLong peersLast(Network network) {
        return network.gossip().peers().stream()
                .map(k -> network.gossip().peerState(k))
                .flatMap(Optional::stream)
                .mapToLong(BlockStoreState::last)
                .max();
    }

    Optional<ReplicaStatus> replicaStatus() {
        return replica.get().map(ReplicaLoop::status);
    }

    /** Where the node stands and what it waits for, given its last stored block. */
    String diagnosis(long last) {
        long peersLast = peersLast(network).orElse(last);
        Optional<ReplicaLoop> replica = this.replica.get();
        Epoch epoch = this.epoch.get();
        if (replica.isEmpty()) {
            return "last stored block " + last + ", " + network.gossip().peers().size() + " gossip peers"
                    + (peersLast > last
                            ? "; missing blocks: peers have up to " + peersLast + " (block sync is fetching them)"
                            : "; no peer has newer blocks");
        }
        ReplicaStatus s = replica.get().status();
        int connected =
                network.consensus().map(m -> m.links().sendingTo().size()).orElse(0);
        String where = "view " + s.view() + " (for "
                + String.format("%.1f", (ReplicaLoop.now() - s.viewStartedMillis()) / 1000.0)
                + " s), phase " + s.phase() + ", last stored block " + last
                + ", connected to " + connected + " of " + (epoch.committee().size() - 1) + " other validators";
        if (peersLast > last || s.highCommitQcBlock() > last) {
            return where + "; missing blocks: peers have up to " + Math.max(peersLast, s.highCommitQcBlock())
                    + " (block sync is fetching them)";
        }
        BlsPublicKey leader = epoch.committee().leader(s.view());
        return where
                + switch (s.phase()) {
                    case PREPARE -> "; no proposal from the leader " + leader + " of view " + s.view();
                    case COMMIT -> "; voted, but no quorum of commit votes in view " + s.view();
                    case TIMEOUT -> "; timed out, but no quorum of timeout votes in view " + s.view();
                };
    }
}
