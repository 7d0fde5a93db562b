package dev.tally.node.executor;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tally.execution.MempoolExecutionLayer;
import dev.tally.execution.TransactionPayload;
import dev.tally.node.SoloNode;
import dev.tally.node.config.NodeConfig;
import dev.tally.protocol.FinalBlock;
import dev.tally.protocol.TestChain;
import dev.tally.storage.InMemoryStorage;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A leader puts at most proposal_payload_size bytes in a block, while max_payload_size stays what it accepts. */
class ProposalPayloadSizeTest {
    static final int TX = 100;
    static final int TXS = 20;
    /** Three transactions of TX bytes, each with its length prefix, after the payload's count. */
    static final int PROPOSAL = TransactionPayload.HEADER_SIZE + 3 * (TransactionPayload.PREFIX_SIZE + TX);

    @Test
    void proposalsStopAtTheProposalPayloadSize() throws Exception {
        TestChain chain = new TestChain(1);
        NodeConfig config = SoloNode.config(chain).toBuilder()
                .maxTxSize(TX)
                .proposalPayloadSize(PROPOSAL)
                .build();
        assertThat(config.maxPayloadSize()).isGreaterThan(TXS * (TX + TransactionPayload.PREFIX_SIZE));
        var storage = InMemoryStorage.create(chain.genesis);
        var execution = new MempoolExecutionLayer(storage, chain.genesis, TX, 1_000, List.of());
        List<byte[]> txs = new ArrayList<>();
        for (int i = 0; i < TXS; i++) {
            byte[] tx = new byte[TX];
            tx[0] = (byte) i;
            tx[1] = 7;
            txs.add(tx);
        }
        try (Node node = Node.start(config, storage, execution)) {
            node.submitTransactions(txs);
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            int finalTxs = 0;
            long next = node.storedBlocks().first();
            while (finalTxs < TXS && System.nanoTime() < deadline) {
                if (node.storedBlocks().last() < next) {
                    Thread.sleep(10);
                    continue;
                }
                FinalBlock b = execution.block(next++).orElseThrow();
                assertThat(b.payload().size())
                        .as("the payload of block %d", b.number())
                        .isLessThanOrEqualTo(PROPOSAL);
                finalTxs += TransactionPayload.decode(b.payload(), TX).size();
            }
            assertThat(finalTxs).as("every transaction final").isEqualTo(TXS);
        }
    }
}
