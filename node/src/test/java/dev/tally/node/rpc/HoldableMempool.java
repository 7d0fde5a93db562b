package dev.tally.node.rpc;

import dev.tally.execution.MempoolExecutionLayer;
import dev.tally.execution.TransactionResult;
import dev.tally.node.SoloNode;
import dev.tally.protocol.Genesis;
import dev.tally.storage.Storage;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The default mempool, whose pushes wait while {@code hold} is set (a latch, not a delay: a test that uses it does not
 * depend on the machine's speed), and count themselves in {@code held} while they wait.
 */
class HoldableMempool extends MempoolExecutionLayer {
    volatile CountDownLatch hold;
    final AtomicInteger held = new AtomicInteger();

    HoldableMempool(Storage storage, Genesis genesis, int capacity) {
        super(storage, genesis, SoloNode.MAX_TX_SIZE, capacity, List.of());
    }

    @Override
    public List<TransactionResult> pushTransactions(List<byte[]> transactions) {
        CountDownLatch h = hold;
        if (h != null) {
            held.incrementAndGet();
            try {
                h.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            held.decrementAndGet();
        }
        return super.pushTransactions(transactions);
    }
}
