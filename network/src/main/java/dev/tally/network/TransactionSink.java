package dev.tally.network;

import java.util.ArrayList;
import java.util.List;

/** The mempool, as gossip sees it: transactions pushed by clients or peers go here. Thread-safe. */
public interface TransactionSink {
    /** What the mempool made of a transaction. Only accepted ones are rebroadcast. */
    sealed interface Result {
        Result ACCEPTED = new Accepted();
        Result DUPLICATE = new Duplicate();

        record Accepted() implements Result {}

        record Duplicate() implements Result {}

        record Rejected(String reason) implements Result {}

        /** Not taken for lack of room (a full mempool), not for what it is: the same bytes may be sent again later. */
        record Overloaded(String reason) implements Result {}
    }

    Result push(byte[] transaction);

    /**
     * Several transactions at once (a gossip batch): one result each, in order, as {@link #push} would give them one
     * after the other. The default calls {@link #push} for each; a mempool can take its lock once per batch.
     */
    default List<Result> pushAll(List<byte[]> transactions) {
        List<Result> results = new ArrayList<>(transactions.size());
        for (byte[] tx : transactions) {
            results.add(push(tx));
        }
        return results;
    }
}
