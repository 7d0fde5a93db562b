package dev.tally.storage.execution;

import dev.tally.crypto.Keccak256;
import dev.tally.protocol.Epoch;
import dev.tally.protocol.FinalBlock;
import dev.tally.protocol.Genesis;
import dev.tally.protocol.Payload;
import dev.tally.storage.BlockRange;
import dev.tally.storage.Storage;
import java.util.ArrayList;
import java.util.Comparator;
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
 * Not done here (an embedder's job): re-submission protection for transactions that were already finalized, and
 * any execution or validity rule beyond the payload format.
 */
public class MempoolExecutionLayer implements ExecutionLayer {
    /** The mempool capacity used when none is given. */
    public static final int DEFAULT_MEMPOOL_CAPACITY = 100_000;

    private static final Logger log = LoggerFactory.getLogger(MempoolExecutionLayer.class);

    private final Storage storage;
    private final Genesis genesis;
    private final int maxTransactionSize;
    private final int mempoolCapacity;
    private final List<Epoch> epochs; // by first block, ascending
    private final LinkedHashMap<Keccak256, byte[]> mempool = new LinkedHashMap<>(); // guarded by itself

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
        this.epochs = epochs(genesis, committees);
    }

    private static List<Epoch> epochs(Genesis genesis, List<ScheduledCommittee> committees) {
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
        return List.copyOf(epochs);
    }

    @Override
    public Genesis genesis() {
        return genesis;
    }

    @Override
    public Epoch epochAt(long blockNumber) {
        if (blockNumber < genesis.firstBlock()) {
            throw new IllegalArgumentException("block " + blockNumber + " is before the genesis' first block "
                    + genesis.firstBlock());
        }
        for (int i = epochs.size() - 1; i > 0; i--) {
            if (epochs.get(i).firstBlock() <= blockNumber) {
                return epochs.get(i);
            }
        }
        return epochs.getFirst();
    }

    @Override
    public Optional<Epoch> pendingEpoch(long lastFinal) {
        return epochs.stream().filter(e -> e.firstBlock() > lastFinal).findFirst();
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
        List<byte[]> included;
        try {
            included = TransactionPayload.decode(block.payload(), maxTransactionSize);
        } catch (IllegalArgumentException e) {
            log.warn("Final block {} has a payload this layer cannot read ({}); no transaction leaves the mempool",
                    block.number(), e.getMessage());
            return;
        }
        synchronized (mempool) {
            for (byte[] tx : included) {
                mempool.remove(Keccak256.of(tx));
            }
        }
    }

    @Override
    public PayloadVerdict verifyPayload(long blockNumber, Payload payload) {
        try {
            TransactionPayload.decode(payload, maxTransactionSize);
            return PayloadVerdict.VALID;
        } catch (IllegalArgumentException e) {
            return PayloadVerdict.invalid(e.getMessage());
        }
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
            if (mempool.containsKey(hash)) {
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
