package dev.tally.storage.execution;

import dev.tally.crypto.Keccak256;
import dev.tally.protocol.Epoch;
import dev.tally.protocol.FinalBlock;
import dev.tally.protocol.Genesis;
import dev.tally.protocol.Payload;
import dev.tally.storage.BlockRange;
import dev.tally.storage.Storage;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The default {@link ExecutionLayer}: opaque transactions, ordered by consensus, nothing executed. It is the
 * starting point for embedders: keep the committee schedule and the storage plumbing, replace the transaction
 * checks in {@link #pushTransaction} and {@link #verifyPayload}, and apply blocks to your state in
 * {@link #queueBlock}.
 *
 * <ul>
 *   <li><b>Committees.</b> Epoch 0 is the genesis committee from the genesis' first block; each
 *       {@link ScheduledCommittee} opens the next epoch (1, 2, ... in activation order) at its activation block. With
 *       no scheduled committee, the genesis committee rules forever. A genesis without a schedule needs a committee
 *       scheduled at its first block, which is then epoch 0.</li>
 *   <li><b>Mempool.</b> Bounded ({@code mempoolCapacity} transactions; beyond it: "mempool full"), de-duplicated by
 *       keccak-256, first in first out, thread-safe. A transaction leaves it when a final block includes it.</li>
 *   <li><b>Payloads.</b> {@link TransactionPayload}: a count, then length-prefixed transactions. Proposals pack
 *       mempool transactions in arrival order, skipping those that no longer fit, up to the size limit.</li>
 *   <li><b>Blocks.</b> {@link #queueBlock} appends to the {@link Storage} (durable on return), then drops the block's
 *       transactions from the mempool.</li>
 * </ul>
 * <ul>
 *   <li><b>Finalized transactions.</b> The hashes of the transactions of the last {@link #FINALIZED_WINDOW_BLOCKS}
 *       final blocks (at most {@link #FINALIZED_WINDOW_HASHES} hashes; the oldest blocks leave first) are kept, and
 *       seeded from storage at start: a transaction that gossip delivers after it became final is refused as a
 *       duplicate instead of being proposed again, and {@link #verifyPayload} refuses a payload for block {@code n}
 *       that repeats a transaction final in the window before {@code n}.</li>
 * </ul>
 * Not done here (an embedder's job): replay protection beyond that window (e.g. nonces), and any execution or
 * validity rule beyond the payload format.
 */
public class MempoolExecutionLayer implements ExecutionLayer {
    /** The mempool capacity used when none is given. */
    public static final int DEFAULT_MEMPOOL_CAPACITY = 100_000;

    /** How many recent final blocks' transaction hashes are remembered. */
    public static final int FINALIZED_WINDOW_BLOCKS = 1024;
    /** The most transaction hashes remembered over that window. */
    public static final int FINALIZED_WINDOW_HASHES = 1_000_000;

    private static final Logger log = LoggerFactory.getLogger(MempoolExecutionLayer.class);

    private final Storage storage;
    private final Genesis genesis;
    private final int maxTransactionSize;
    private final int mempoolCapacity;
    private final EpochSchedule epochs;
    private final LinkedHashMap<Keccak256, byte[]> mempool = new LinkedHashMap<>(); // guarded by itself
    // The window of final transactions, guarded by mempool: hash -> block number, and each block's hashes in order.
    private final HashMap<Keccak256, Long> finalizedAt = new HashMap<>();
    private final ArrayDeque<FinalizedBlock> finalizedBlocks = new ArrayDeque<>();

    private record FinalizedBlock(long number, List<Keccak256> hashes) {}

    public MempoolExecutionLayer(Storage storage, Genesis genesis, int maxTransactionSize,
            List<ScheduledCommittee> committees) {
        this(storage, genesis, maxTransactionSize, DEFAULT_MEMPOOL_CAPACITY, committees);
    }

    public MempoolExecutionLayer(Storage storage, Genesis genesis, int maxTransactionSize, int mempoolCapacity,
            List<ScheduledCommittee> committees) {
        this.storage = Objects.requireNonNull(storage, "storage");
        this.genesis = Objects.requireNonNull(genesis, "genesis");
        if (!storage.genesis().equals(genesis)) {
            throw new IllegalArgumentException("storage is for " + storage.genesis().hash() + ", not " + genesis.hash());
        }
        if (maxTransactionSize < 1) {
            throw new IllegalArgumentException("maxTransactionSize must be positive, got " + maxTransactionSize);
        }
        if (mempoolCapacity < 1) {
            throw new IllegalArgumentException("mempoolCapacity must be positive, got " + mempoolCapacity);
        }
        this.maxTransactionSize = maxTransactionSize;
        this.mempoolCapacity = mempoolCapacity;
        this.epochs = EpochSchedule.of(genesis, committees);
        seedFinalizedWindow();
    }

    /** Reads the window of final transactions back from the newest stored blocks (after a restart). */
    private void seedFinalizedWindow() {
        Optional<BlockRange> range = storage.range();
        if (range.isEmpty()) {
            return;
        }
        long from = Math.max(range.get().first(), range.get().last() - FINALIZED_WINDOW_BLOCKS + 1);
        for (long n = from; n <= range.get().last(); n++) {
            Optional<FinalBlock> b = storage.block(n);
            if (b.isPresent()) {
                rememberFinal(n, transactions(b.get()));
            }
        }
    }

    private List<byte[]> transactions(FinalBlock block) {
        try {
            return TransactionPayload.decode(block.payload(), maxTransactionSize);
        } catch (IllegalArgumentException e) {
            log.warn("Final block {} has a payload this layer cannot read ({}); no transaction leaves the mempool",
                    block.number(), e.getMessage());
            return List.of();
        }
    }

    /** Adds a final block's transactions to the window and evicts what falls out of it. */
    private void rememberFinal(long number, List<byte[]> included) {
        synchronized (mempool) {
            List<Keccak256> hashes = new ArrayList<>(included.size());
            for (byte[] tx : included) {
                Keccak256 h = Keccak256.of(tx);
                hashes.add(h);
                mempool.remove(h);
                finalizedAt.put(h, number);
            }
            finalizedBlocks.addLast(new FinalizedBlock(number, hashes));
            while (finalizedBlocks.size() > FINALIZED_WINDOW_BLOCKS
                    || (finalizedAt.size() > FINALIZED_WINDOW_HASHES && finalizedBlocks.size() > 1)) {
                FinalizedBlock old = finalizedBlocks.removeFirst();
                old.hashes().forEach(h -> finalizedAt.remove(h, old.number()));
            }
        }
    }

    @Override
    public Genesis genesis() {
        return genesis;
    }

    @Override
    public Epoch epochAt(long blockNumber) {
        return epochs.at(blockNumber);
    }

    @Override
    public Optional<Epoch> pendingEpoch(long lastFinal) {
        return epochs.after(lastFinal);
    }

    @Override
    public Optional<BlockRange> persistedRange() {
        return storage.range();
    }

    @Override
    public Optional<FinalBlock> block(long number) {
        return storage.block(number);
    }

    @Override
    public void queueBlock(FinalBlock block) {
        storage.append(block);
        rememberFinal(block.number(), transactions(block));
    }

    /**
     * Checks the format, and that no transaction was already final in a block of the window before
     * {@code blockNumber}. That check is deterministic across honest nodes: consensus verifies block {@code n} only
     * once block {@code n - 1} is stored, so every node judges it against the same preceding blocks, and the window
     * (the last {@link #FINALIZED_WINDOW_BLOCKS} blocks, bounded by hash count, oldest blocks evicted first) is a
     * function of those blocks alone. Only a node whose storage was pruned below the window since its last start
     * knows fewer blocks; it then accepts more, never less, which cannot stall the committee.
     */
    @Override
    public PayloadVerdict verifyPayload(long blockNumber, Payload payload) {
        List<byte[]> txs;
        try {
            txs = TransactionPayload.decode(payload, maxTransactionSize);
        } catch (IllegalArgumentException e) {
            return PayloadVerdict.invalid(e.getMessage());
        }
        synchronized (mempool) {
            for (int i = 0; i < txs.size(); i++) {
                Long at = finalizedAt.get(Keccak256.of(txs.get(i)));
                if (at != null && at < blockNumber) {
                    return PayloadVerdict.invalid("transaction " + i + " is already final in block " + at);
                }
            }
        }
        return PayloadVerdict.VALID;
    }

    @Override
    public Payload proposePayload(long blockNumber, int maxPayloadSize) {
        if (maxPayloadSize < TransactionPayload.HEADER_SIZE) {
            throw new IllegalArgumentException("maxPayloadSize " + maxPayloadSize + " cannot hold even the "
                    + TransactionPayload.HEADER_SIZE + "-byte transaction count");
        }
        List<byte[]> picked = new ArrayList<>();
        long size = TransactionPayload.HEADER_SIZE;
        synchronized (mempool) {
            for (byte[] tx : mempool.values()) {
                if (maxPayloadSize - size < TransactionPayload.PREFIX_SIZE + 1) {
                    break; // not even a one-byte transaction fits any more
                }
                long withTx = size + TransactionPayload.PREFIX_SIZE + tx.length;
                if (withTx <= maxPayloadSize) {
                    picked.add(tx);
                    size = withTx;
                }
            }
        }
        return TransactionPayload.encode(picked);
    }

    @Override
    public TransactionResult pushTransaction(byte[] transaction) {
        Objects.requireNonNull(transaction, "transaction");
        if (transaction.length == 0) {
            return new TransactionResult.Rejected("empty transaction");
        }
        if (transaction.length > maxTransactionSize) {
            return new TransactionResult.Rejected("transaction of " + transaction.length
                    + " bytes exceeds the limit of " + maxTransactionSize);
        }
        Keccak256 hash = Keccak256.of(transaction);
        synchronized (mempool) {
            if (mempool.containsKey(hash) || finalizedAt.containsKey(hash)) {
                return new TransactionResult.Duplicate();
            }
            if (mempool.size() >= mempoolCapacity) {
                return new TransactionResult.Rejected("mempool full (" + mempoolCapacity + " transactions)");
            }
            mempool.put(hash, transaction.clone());
        }
        return new TransactionResult.Accepted();
    }

    /** How many transactions wait in the mempool. */
    public int mempoolSize() {
        synchronized (mempool) {
            return mempool.size();
        }
    }
}
