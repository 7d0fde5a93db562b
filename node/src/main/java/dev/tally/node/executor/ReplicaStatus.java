package dev.tally.node.executor;

import dev.tally.protocol.Phase;

/**
 * The replica's position, published by its loop after every step for RPC, metrics and the stall warning.
 *
 * @param view the current view
 * @param phase where the replica stands in it
 * @param viewStartedMillis when this replica entered the view (monotonic clock, milliseconds)
 * @param highCommitQcBlock the block certified by the newest commit QC seen, {@code -1} when none
 */
public record ReplicaStatus(long view, Phase phase, long viewStartedMillis, long highCommitQcBlock) {}
