package dev.tally.execution;

import dev.tally.protocol.Epoch;
import dev.tally.protocol.FinalBlock;
import dev.tally.protocol.Genesis;
import dev.tally.protocol.Payload;
import dev.tally.storage.BlockRange;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * What consensus needs from the chain it orders, modelled on the engine interface of the reference implementation
 * (era-consensus {@code node/libs/engine}): the committees, the final blocks, and the payloads. Embedders implement
 * it for their state machine; {@link MempoolExecutionLayer} is a complete starting point.
 *
 * <p>Implementations must be thread-safe: consensus, block sync and the transaction API call concurrently.
 */
public interface ExecutionLayer {
    /** The chain this layer executes. */
    Genesis genesis();

    /**
     * The epoch (committee) that finalizes block {@code blockNumber}.
     *
     * @throws IllegalArgumentException if the block is before the genesis' first block
     */
    Epoch epochAt(long blockNumber);

    /** The next epoch, if already announced: the one whose first block is the smallest above {@code lastFinal}. */
    Optional<Epoch> pendingEpoch(long lastFinal);

    /** The final blocks this layer has persisted, empty when none. */
    Optional<BlockRange> persistedRange();

    /** The persisted final block {@code number}, if any. */
    Optional<FinalBlock> block(long number);

    /**
     * Hands over the next final block, in order, from consensus or block sync: the layer applies it and persists
     * it. The caller has verified the block against {@link #epochAt(long) its epoch}.
     *
     * @throws dev.tally.storage.StorageException if the block is not the next one or conflicts with a stored one
     */
    void queueBlock(FinalBlock block);

    /** Whether {@code payload} may be block {@code blockNumber}; called before voting for a proposal. */
    PayloadVerdict verifyPayload(long blockNumber, Payload payload);

    /** A payload for block {@code blockNumber} of at most {@code maxPayloadSize} bytes; called when leading. */
    Payload proposePayload(long blockNumber, int maxPayloadSize);

    /**
     * A payload for block {@code blockNumber}, as {@link #proposePayload}, but one that would carry no transaction may
     * wait up to {@code emptyBlockWait} for a first transaction: the answer comes at once when transactions wait,
     * as soon as one arrives, or when the wait ends (then as {@link #proposePayload} would answer, empty or not). That
     * keeps an idle chain from making empty blocks as fast as it can. The caller (the node) keeps the wait well below
     * the view timeout. The default answers at once.
     */
    default CompletableFuture<Payload> proposePayloadWhenReady(
            long blockNumber, int maxPayloadSize, Duration emptyBlockWait) {
        return CompletableFuture.completedFuture(proposePayload(blockNumber, maxPayloadSize));
    }

    /** Offers a transaction for a future block. */
    TransactionResult pushTransaction(byte[] transaction);

    /**
     * Offers several transactions at once (a gossip batch, a client's batch): the result of each, in order, as
     * {@link #pushTransaction} would give them one after the other. The default does exactly that; an implementation
     * may take its locks once per batch.
     */
    default List<TransactionResult> pushTransactions(List<byte[]> transactions) {
        List<TransactionResult> results = new ArrayList<>(transactions.size());
        for (byte[] tx : transactions) {
            results.add(pushTransaction(tx));
        }
        return results;
    }
}
