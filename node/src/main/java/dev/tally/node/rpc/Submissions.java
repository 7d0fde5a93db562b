package dev.tally.node.rpc;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tally.network.TransactionSink;
import dev.tally.node.executor.Node;
import java.util.List;
import java.util.concurrent.Semaphore;

/**
 * Clients' transactions into the node ({@code push_tx}, {@code push_txs}, {@code POST /txs}), with admission control:
 * at most {@link #MAX_IN_FLIGHT} submissions are admitted at once, and one more is refused at once as overloaded
 * rather than queued behind them, so that a client flooding the node gets an answer instead of a stalled connection,
 * and the work waiting for the mempool stays bounded. A transaction the mempool has no room for is refused as
 * overloaded too: the client may send it again later.
 */
final class Submissions {
    /**
     * Submissions admitted at once. The mempool takes one batch at a time; beyond a few waiting batches, more only
     * hold memory and make every answer later.
     */
    static final int MAX_IN_FLIGHT = 16;
    /** The seconds a client refused as overloaded should wait: about a block's time, for the mempool to drain. */
    static final int RETRY_AFTER_SECONDS = 1;

    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private final Node node;
    private final Semaphore inFlight = new Semaphore(MAX_IN_FLIGHT);

    /** A batch's answer, and whether some transaction in it was refused for lack of room (HTTP 429). */
    record Outcome(ObjectNode body, boolean overloaded) {}

    Submissions(Node node) {
        this.node = node;
    }

    /** One transaction: accepted or duplicate; refused or overloaded is an error. */
    TransactionSink.Result submit(byte[] tx) throws RpcException {
        admit();
        try {
            return node.submitTransaction(tx);
        } finally {
            inFlight.release();
        }
    }

    /**
     * A batch, with one result per transaction in order: {@code "accepted"}, {@code "duplicate"}, {@code {"refused":
     * reason}} or {@code {"overloaded": reason}} (each reason names the transaction's index), and the counts of each.
     */
    Outcome submit(List<byte[]> txs) throws RpcException {
        admit();
        List<TransactionSink.Result> results;
        try {
            results = node.submitTransactions(txs);
        } finally {
            inFlight.release();
        }
        ArrayNode items = NODES.arrayNode(results.size());
        int[] counts = new int[4];
        for (int i = 0; i < results.size(); i++) {
            switch (results.get(i)) {
                case TransactionSink.Result.Accepted a -> {
                    items.add("accepted");
                    counts[0]++;
                }
                case TransactionSink.Result.Duplicate d -> {
                    items.add("duplicate");
                    counts[1]++;
                }
                case TransactionSink.Result.Rejected r -> {
                    items.addObject().put("refused", "transaction " + i + ": " + r.reason());
                    counts[2]++;
                }
                case TransactionSink.Result.Overloaded o -> {
                    items.addObject().put("overloaded", "transaction " + i + ": " + o.reason() + "; retry later");
                    counts[3]++;
                }
            }
        }
        ObjectNode body = NODES.objectNode()
                .put("accepted", counts[0])
                .put("duplicate", counts[1])
                .put("refused", counts[2])
                .put("overloaded", counts[3]);
        body.set("results", items);
        return new Outcome(body, counts[3] > 0);
    }

    private void admit() throws RpcException {
        if (!inFlight.tryAcquire()) {
            throw new RpcException(
                    RpcException.OVERLOADED,
                    "overloaded: " + MAX_IN_FLIGHT + " submissions are being admitted; retry in " + RETRY_AFTER_SECONDS
                            + " s");
        }
    }
}
