package dev.tally.sim;

import dev.tally.consensus.Replica;
import dev.tally.crypto.BlsSecretKey;
import dev.tally.protocol.FinalBlock;
import dev.tally.protocol.Genesis;
import dev.tally.protocol.ReplicaState;
import dev.tally.storage.BlockRange;
import dev.tally.storage.InMemoryStorage;
import java.util.Locale;
import java.util.Optional;
import java.util.TreeMap;

/**
 * One simulated node: a replica (the node's real consensus code), its durable storage (what survives a crash)
 * and its behaviour. Owned by the simulation's single thread.
 */
final class SimNode {
    enum Role {
        /** Honest code under its own key: every invariant applies. */
        HONEST,
        /** Honest code under a key shared with another node: counted faulty. */
        TWIN,
        /** Misbehaves on purpose: counted faulty. */
        BYZANTINE,
        /** Honest by assumption but deliberately broken: the checker must catch it. */
        BROKEN
    }

    final int id;
    final int validator;
    final BlsSecretKey key;
    final Role role;
    final Behaviour behaviour;

    // Volatile: lost on a crash.
    Replica replica;
    boolean up;
    int life;
    long timerDeadline = Long.MAX_VALUE;
    boolean crashMidStep;
    final TreeMap<Long, FinalBlock> finalizedAhead = new TreeMap<>();

    /** Durable: what survives a crash (the node's real in-memory store, kept across the node's lives). */
    InMemoryStorage storage;

    SimNode(int id, int validator, BlsSecretKey key, Role role, Behaviour behaviour, Genesis genesis) {
        this.id = id;
        this.validator = validator;
        this.key = key;
        this.role = role;
        this.behaviour = behaviour;
        this.storage = InMemoryStorage.create(genesis);
    }

    /** Whether this node lost its data directory at least once. */
    boolean lostData;

    /** The data directory is lost: the node comes back with nothing. */
    void wipe() {
        storage = InMemoryStorage.create(storage.genesis());
        lostData = true;
    }

    Optional<ReplicaState> persisted() {
        return storage.replicaState();
    }

    /** Whether the node is up in the life an event was scheduled for (it did not crash since). */
    boolean livesIn(int life) {
        return up && this.life == life;
    }

    /** Honest code runs here, so agreement and the replica-state invariants apply to it. */
    boolean runsHonestCode() {
        return role != Role.BYZANTINE;
    }

    /** The stored range as the replica's {@code BlocksPersisted} input wants it: last = first - 1 when empty. */
    long firstBlock() {
        return storage.range().map(BlockRange::first).orElse(storage.genesis().firstBlock());
    }

    long lastStored() {
        return storage.range().map(BlockRange::last).orElse(storage.genesis().firstBlock() - 1);
    }

    @Override
    public String toString() {
        return "node " + id + " (validator " + validator
                + (role == Role.HONEST ? "" : ", " + role.name().toLowerCase(Locale.ROOT)) + ")";
    }
}
