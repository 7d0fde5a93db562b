package dev.tally.node.executor;

import java.util.Locale;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * What the node says about itself to operators and load balancers (RPC {@code health_check}, GET {@code /health},
 * {@code /ready}). See {@link HealthCheck} for when each status applies.
 *
 * @param status the verdict
 * @param reason why, in a sentence; empty when ok
 * @param lastBlock the newest final block stored, empty when none is
 * @param lastBlockAgeMillis since this node stored that block (or started, if it stored none since)
 * @param peersLastBlock the newest block a gossip peer advertises, empty when none does
 * @param gossipPeers gossip connections open
 * @param consensusPeers on a validator, other validators connected for consensus (outbound); empty on a full node
 * @param storage the data store
 */
public record NodeHealth(
        Status status,
        String reason,
        OptionalLong lastBlock,
        long lastBlockAgeMillis,
        OptionalLong peersLastBlock,
        int gossipPeers,
        OptionalInt consensusPeers,
        StorageState storage) {

    /** The verdicts, from good to bad; {@link #name} in lower case is how they are written. */
    public enum Status {
        /** Final blocks keep coming and this node has the newest its peers advertise. */
        OK,
        /** Behind its peers, and block sync is bringing the missing blocks. */
        CATCHING_UP,
        /** No block stored for 3 view timeouts. */
        STALLED,
        /** Something is wrong with the node itself (its storage), whether or not blocks come. */
        DEGRADED;

        public String text() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /**
     * The data store's state.
     *
     * @param kind "rocksdb" or "memory" (or the class of an embedder's storage)
     * @param freeBytes usable space on the data directory's file system, for storage on disk
     * @param problem what is wrong with it, empty when nothing is
     */
    public record StorageState(String kind, OptionalLong freeBytes, String problem) {}
}
