package dev.tally.node.executor;

import dev.tally.crypto.BlsPublicKey;
import dev.tally.network.BlockStoreState;
import dev.tally.network.Network;
import dev.tally.protocol.Epoch;
import java.time.Duration;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Warns when no block was stored for {@link #TIMEOUTS} view timeouts, saying where the replica stands and what it
 * is waiting for: blocks that peers have, a proposal, or a quorum of votes. Repeats while the stall lasts.
 */
final class StallWatch {
    private static final Logger log = LoggerFactory.getLogger(StallWatch.class);
    static final int TIMEOUTS = 3;

    private final ReplicaLoop replica;
    private final BlockPipeline blocks;
    private final Network network;
    private final Epoch epoch;
    private final long stallMillis;

    StallWatch(ReplicaLoop replica, BlockPipeline blocks, Network network, Epoch epoch, Duration viewTimeout) {
        this.replica = replica;
        this.blocks = blocks;
        this.network = network;
        this.epoch = epoch;
        this.stallMillis = TIMEOUTS * viewTimeout.toMillis();
    }

    void run() throws InterruptedException {
        long lastBlock = blocks.persisted().last();
        long progressAt = ReplicaLoop.now();
        while (true) {
            Thread.sleep(stallMillis / TIMEOUTS);
            long now = ReplicaLoop.now();
            long last = blocks.persisted().last();
            if (last != lastBlock) {
                lastBlock = last;
                progressAt = now;
            } else if (now - progressAt >= stallMillis) {
                log.warn("no block finalized for {} s ({} view timeouts): {}", String.format("%.1f", (now - progressAt) / 1000.0),
                        (now - progressAt) / (stallMillis / TIMEOUTS), diagnosis(last));
                progressAt = now;
            }
        }
    }

    private String diagnosis(long last) {
        ReplicaStatus s = replica.status();
        long peersLast = network.gossip().peers().stream()
                .map(k -> network.gossip().peerState(k)).flatMap(Optional::stream)
                .mapToLong(BlockStoreState::last).max().orElse(last);
        int connected = network.consensus().map(m -> m.connectedOutbound().size()).orElse(0);
        String where = "view " + s.view() + ", phase " + s.phase() + ", last stored block " + last
                + ", connected to " + connected + " of " + (epoch.committee().size() - 1) + " other validators";
        if (peersLast > last || s.highCommitQcBlock() > last) {
            return where + "; missing blocks: peers have up to " + Math.max(peersLast, s.highCommitQcBlock())
                    + " (block sync is fetching them)";
        }
        BlsPublicKey leader = epoch.committee().leader(s.view());
        return where + switch (s.phase()) {
            case PREPARE -> "; no proposal from the leader " + leader + " of view " + s.view();
            case COMMIT -> "; voted, but no quorum of commit votes in view " + s.view();
            case TIMEOUT -> "; timed out, but no quorum of timeout votes in view " + s.view();
        };
    }
}
