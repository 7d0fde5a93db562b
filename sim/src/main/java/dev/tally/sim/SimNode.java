package dev.tally.sim;

import dev.tally.consensus.Replica;
import dev.tally.crypto.BlsSecretKey;
import dev.tally.protocol.FinalBlock;
import dev.tally.protocol.ReplicaState;
import java.util.ArrayList;
import java.util.List;
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

    // Durable: what storage keeps across crashes.
    Optional<ReplicaState> persisted = Optional.empty();
    final List<FinalBlock> blocks = new ArrayList<>();

    SimNode(int id, int validator, BlsSecretKey key, Role role, Behaviour behaviour) {
        this.id = id;
        this.validator = validator;
        this.key = key;
        this.role = role;
        this.behaviour = behaviour;
    }

    /** Honest code runs here, so agreement and the replica-state invariants apply to it. */
    boolean runsHonestCode() {
        return role != Role.BYZANTINE;
    }

    long firstBlock(long genesisFirst) {
        return blocks.isEmpty() ? genesisFirst : blocks.get(0).number();
    }

    long lastStored(long genesisFirst) {
        return blocks.isEmpty() ? genesisFirst - 1 : blocks.get(blocks.size() - 1).number();
    }

    Optional<FinalBlock> block(long number, long genesisFirst) {
        long i = number - genesisFirst;
        return i >= 0 && i < blocks.size() ? Optional.of(blocks.get((int) i)) : Optional.empty();
    }

    @Override
    public String toString() {
        return "node " + id + " (validator " + validator + (role == Role.HONEST ? "" : ", " + role.name().toLowerCase()) + ")";
    }
}
