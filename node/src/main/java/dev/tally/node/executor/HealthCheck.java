package dev.tally.node.executor;

import dev.tally.network.Network;
import dev.tally.node.executor.NodeHealth.Status;
import dev.tally.node.executor.NodeHealth.StorageState;
import dev.tally.storage.InMemoryStorage;
import dev.tally.storage.RocksStorage;
import dev.tally.storage.Storage;
import java.io.File;
import java.util.Locale;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.SortedSet;

/**
 * Decides the node's {@link NodeHealth}, in this order:
 *
 * <ol>
 *   <li><b>degraded</b> when the node itself is unwell: its data directory's disk is low (the threshold of the
 *       disk warning), or reads found stored blocks corrupt that block sync has not repaired yet, whatever blocks do;
 *   <li><b>stalled</b> when no final block was stored for {@link ProgressWatch#STALL_TIMEOUTS} (3) view timeouts,
 *       with the stall warning's diagnosis as the reason (the view and phase, how many validators are connected,
 *       what is missing). Three, because a view that ends well ends within one timeout and each crashed leader
 *       costs one, so a healthy chain with its f faulty validators spread over the leader rotation never goes that
 *       long without a block, while a real halt shows within 6 s at the default 2 s timeout. It is the same rule as
 *       the stall warning in the log, so the log and the health agree. A behind node whose block sync brings no
 *       block for that long is stalled too: block sync is not working;
 *   <li><b>catching_up</b> when a gossip peer advertises, or the replica has seen a commit QC for, a block more than
 *       {@link #IN_FLIGHT_BLOCKS} above the newest stored one, and blocks arrive. Up to that many are in flight on a
 *       healthy node (the block its replica just finalized and is storing, one a peer stored a moment earlier): a
 *       leader proposes only after it stored the previous block, so the chain never runs further ahead of anyone
 *       who keeps up;
 *   <li><b>ok</b> otherwise.
 * </ol>
 *
 * The age of the last block is measured from when this node stored it (blocks carry no time), or from the node's
 * start when it stored none since.
 */
final class HealthCheck {
    /** How far behind the newest known final block a node that keeps up may be. */
    static final int IN_FLIGHT_BLOCKS = 2;

    private final BlockPipeline blocks;
    private final Network network;
    private final ProgressWatch progress;
    private final Storage storage;
    private final long viewTimeoutMillis;
    private long lastBlock; // guarded by this
    private long lastBlockAtMillis = ReplicaLoop.now(); // guarded by this

    HealthCheck(
            BlockPipeline blocks, Network network, ProgressWatch progress, Storage storage, long viewTimeoutMillis) {
        this.blocks = blocks;
        this.network = network;
        this.progress = progress;
        this.storage = storage;
        this.viewTimeoutMillis = viewTimeoutMillis;
        this.lastBlock = blocks.persisted().last();
        blocks.addListener(this::persisted);
    }

    private synchronized void persisted(StoredRange range) {
        if (range.last() != lastBlock) { // pruning announces the range too, with the same last block
            lastBlock = range.last();
            lastBlockAtMillis = ReplicaLoop.now();
        }
    }

    private synchronized long lastBlockAgeMillis() {
        return ReplicaLoop.now() - lastBlockAtMillis;
    }

    NodeHealth check() {
        StoredRange stored = blocks.persisted();
        long age = lastBlockAgeMillis();
        OptionalLong peersLast = ProgressWatch.peersLast(network);
        long certified =
                progress.replicaStatus().map(ReplicaStatus::highCommitQcBlock).orElse(-1L);
        long ahead = Math.max(peersLast.orElse(-1), certified);
        StorageState storageState = storageState();
        Status status;
        String reason;
        if (!storageState.problem().isEmpty()) {
            status = Status.DEGRADED;
            reason = "storage: " + storageState.problem();
        } else if (age >= ProgressWatch.STALL_TIMEOUTS * viewTimeoutMillis) {
            status = Status.STALLED;
            reason = String.format(
                            Locale.ROOT,
                            "no block stored for %.1f s (%d view timeouts): ",
                            age / 1000.0,
                            age / viewTimeoutMillis)
                    + progress.diagnosis(stored.last());
        } else if (ahead - stored.last() > IN_FLIGHT_BLOCKS) {
            status = Status.CATCHING_UP;
            reason = (ahead - stored.last()) + " blocks behind: the newest known final block is " + ahead
                    + " (block sync is fetching them)";
        } else {
            status = Status.OK;
            reason = "";
        }
        return new NodeHealth(
                status,
                reason,
                stored.isEmpty() ? OptionalLong.empty() : OptionalLong.of(stored.last()),
                age,
                peersLast,
                network.gossip().peers().size(),
                network.consensus()
                        .map(m -> OptionalInt.of(m.links().sendingTo().size()))
                        .orElse(OptionalInt.empty()),
                storageState);
    }

    /** The store's state: a low disk or corrupt blocks are problems. */
    private StorageState storageState() {
        StorageState disk = diskState();
        SortedSet<Long> corrupt = storage.corruptBlocks();
        if (corrupt.isEmpty()) {
            return disk;
        }
        String problem = "corrupt block " + corrupt.first()
                + (corrupt.size() > 1 ? " (and " + (corrupt.size() - 1) + " more)" : "")
                + ", being fetched again from peers by block sync";
        return new StorageState(
                disk.kind(), disk.freeBytes(), disk.problem().isEmpty() ? problem : disk.problem() + "; " + problem);
    }

    private StorageState diskState() {
        return switch (storage) {
            case RocksStorage rocks -> {
                File fs = rocks.directory().toFile();
                long free = fs.getUsableSpace();
                yield new StorageState(
                        "rocksdb",
                        OptionalLong.of(free),
                        free < Node.lowDiskThreshold(fs)
                                ? "only " + (free >> 20) + " MB free on the data directory's disk"
                                : "");
            }
            case InMemoryStorage m -> new StorageState("memory", OptionalLong.empty(), "");
            default ->
                new StorageState(storage.getClass().getSimpleName().toLowerCase(Locale.ROOT), OptionalLong.empty(), "");
        };
    }
}
