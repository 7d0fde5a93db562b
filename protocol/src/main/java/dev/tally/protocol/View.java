package dev.tally.protocol;

/** One attempt to finalize a block: the chain (genesis), the committee's epoch and the view number. */
public record View(GenesisHash genesis, long epoch, long number) {
    public View {
        if (number < 0 || epoch < 0) {
            throw new IllegalArgumentException("view and epoch numbers are unsigned; got " + epoch + "/" + number);
        }
    }

    /** A view belongs to one chain and one epoch; anything else is another network's message. */
    public void verify(Epoch epoch) throws InvalidMessageException {
        InvalidMessageException.check(genesis.equals(epoch.genesis()), "view is for another chain: " + genesis);
        InvalidMessageException.check(
                this.epoch == epoch.number(), "view is for epoch " + this.epoch + ", not " + epoch.number());
    }

    public View next() {
        return new View(genesis, epoch, Math.addExact(number, 1));
    }

    public View withNumber(long n) {
        return new View(genesis, epoch, n);
    }

    @Override
    public String toString() {
        return "view " + number + (epoch == 0 ? "" : " (epoch " + epoch + ")");
    }
}
