package dev.tally.execution;

import dev.tally.protocol.Epoch;
import dev.tally.protocol.Genesis;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * The epochs of a chain: the genesis committee (epoch 0) and the committees scheduled to take over at their
 * activation blocks (epochs 1, 2, ... in activation order). Immutable.
 */
public final class EpochSchedule {
    private final Genesis genesis;
    private final List<Epoch> epochs; // by first block, ascending

    private EpochSchedule(Genesis genesis, List<Epoch> epochs) {
        this.genesis = genesis;
        this.epochs = List.copyOf(epochs);
    }

    /**
     * The schedule of {@code committees}, in activation order.
     *
     * @throws IllegalArgumentException if the committees do not follow each other after the genesis' first block
     */
    public static EpochSchedule of(Genesis genesis, List<ScheduledCommittee> committees) {
        List<ScheduledCommittee> sorted = new ArrayList<>(committees);
        sorted.sort(Comparator.comparingLong(ScheduledCommittee::activationBlock));
        List<Epoch> epochs = new ArrayList<>();
        genesis.schedule().ifPresent(s -> epochs.add(new Epoch(genesis.hash(), 0, genesis.firstBlock(), s)));
        for (ScheduledCommittee c : sorted) {
            if (epochs.isEmpty() && c.activationBlock() != genesis.firstBlock()) {
                throw new IllegalArgumentException("the genesis has no validator schedule: the first committee must "
                        + "activate at its first block " + genesis.firstBlock() + ", not " + c.activationBlock());
            }
            if (!epochs.isEmpty() && c.activationBlock() <= epochs.getLast().firstBlock()) {
                throw new IllegalArgumentException("committee activating at block " + c.activationBlock()
                        + " does not come after epoch " + epochs.getLast().number() + " starting at block "
                        + epochs.getLast().firstBlock());
            }
            epochs.add(new Epoch(genesis.hash(), epochs.size(), c.activationBlock(), c.committee()));
        }
        if (epochs.isEmpty()) {
            throw new IllegalArgumentException("the genesis has no validator schedule and no committee is scheduled");
        }
        return new EpochSchedule(genesis, epochs);
    }

    /** The epoch whose committee certifies this block. */
    public Epoch at(long blockNumber) {
        if (blockNumber < genesis.firstBlock()) {
            throw new IllegalArgumentException(
                    "block " + blockNumber + " is before the genesis' first block " + genesis.firstBlock());
        }
        for (int i = epochs.size() - 1; i > 0; i--) {
            if (epochs.get(i).firstBlock() <= blockNumber) {
                return epochs.get(i);
            }
        }
        return epochs.getFirst();
    }

    /** The first epoch that starts after block {@code lastFinal}, if one is scheduled. */
    public Optional<Epoch> after(long lastFinal) {
        return epochs.stream().filter(e -> e.firstBlock() > lastFinal).findFirst();
    }
}
