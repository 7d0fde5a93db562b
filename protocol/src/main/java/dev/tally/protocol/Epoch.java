package dev.tally.protocol;

/**
 * Everything needed to judge a message on its own: the chain, the epoch number, the first block consensus
 * may finalize, and the committee that votes in this epoch.
 */
public record Epoch(GenesisHash genesis, long number, long firstBlock, ValidatorSchedule committee) {
    /** The static-schedule epoch 0 of a genesis that carries its schedule. */
    public static Epoch of(Genesis genesis) {
        return new Epoch(
                genesis.hash(),
                0,
                genesis.firstBlock(),
                genesis.schedule()
                        .orElseThrow(() -> new IllegalArgumentException("genesis has no validator schedule")));
    }

    public View view(long number) {
        return new View(genesis, this.number, number);
    }
}
