package dev.tally.network;

/** The mempool, as gossip sees it: transactions pushed by clients or peers go here. Thread-safe. */
public interface TransactionSink {
    /** What the mempool made of a transaction. Only accepted ones are rebroadcast. */
    sealed interface Result {
        Result ACCEPTED = new Accepted();
        Result DUPLICATE = new Duplicate();

        record Accepted() implements Result {}

        record Duplicate() implements Result {}

        record Rejected(String reason) implements Result {}
    }

    Result push(byte[] transaction);
}
