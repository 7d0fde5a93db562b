package dev.tally.storage;

import dev.tally.protocol.ReplicaState;
import java.util.Optional;

/**
 * The replica's safety state: what it voted for, and in which view. It must reach disk before any vote that
 * depends on it leaves the node, so that after a crash the replica never signs a conflicting vote.
 */
public interface ReplicaStateStore {
    /** The last persisted replica state, empty when the replica has never persisted one. */
    Optional<ReplicaState> replicaState();

    /**
     * Replaces the replica state; durable (fsync'd) before it returns, or in a {@link Storage#syncGroup} when the group
     * closes.
     */
    void persistReplicaState(ReplicaState state);
}
