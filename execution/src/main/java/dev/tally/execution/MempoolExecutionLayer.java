package dev.tally.execution;

import dev.tally.crypto.Keccak256;
import dev.tally.protocol.Epoch;
import dev.tally.protocol.FinalBlock;
import dev.tally.protocol.Genesis;
import dev.tally.protocol.Payload;
import dev.tally.storage.BlockRange;
import dev.tally.storage.Storage;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
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
 *   <li><b>Mempool.</b> Bounded in count ({@code mempoolCapacity} transactions) and in bytes
 *       ({@code mempoolMaxBytes}, the sum of the waiting transactions' sizes; beyond either: "mempool full"), so
 *       large transactions cannot fill the heap before the count limit is reached; de-duplicated
 *       (byte for byte, and by keccak-256 against the final transactions below), first in first out, thread-safe. A
 *       transaction leaves it when a final block includes it. Each transaction is hashed (keccak-256) once, when it
 *       enters; a copy that arrives again while it waits, a payload that carries it and the final block that holds it
 *       find it by its bytes. Only transactions this node does not hold are hashed when a payload or block carries
 *       them.</li>
 *   <li><b>Payloads.</b> {@link TransactionPayload}: a count, then length-prefixed transactions. Proposals pack
 *       mempool transactions in arrival order, skipping those that no longer fit, up to the size limit. While the
 *       mempool is empty, {@link #proposePayloadWhenReady} waits for the first accepted transaction, or until its
 *       wait ends, before answering.</li>
 *   <li><b>Blocks.</b> {@link #queueBlock} appends to the {@link Storage} (durable on return, or when the caller's
 *       {@link Storage#syncGroup} closes), then drops the block's transactions from the mempool.</li>
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
    /**
     * The mempool's byte bound used when none is given: 64 MiB, a quarter of a 256 MiB heap, and some 60 full 1 MiB
     * payloads, far more than a leader proposes before the mempool drains.
     */
    public static final long DEFAULT_MEMPOOL_MAX_BYTES = 64L * 1024 * 1024;

    /** How many recent final blocks' transaction hashes are remembered. */
    public static final int FINALIZED_WINDOW_BLOCKS = 1024;
    /**
     * The most transaction hashes remembered over that window: 250,000, about 30 MB of heap (a remembered hash takes
     * about 120 bytes in its map). It fills in 15-25 s at this node's capacity (10,000-16,000 transactions a second on
     * two cores), which still covers gossip's echoes and clients' prompt resubmissions. With a million a
     * node under sustained load held some 120 MB of hashes, and in a 256 MB heap spent half its CPU collecting
     * garbage (BENCHMARKS.md, "The steady state").
     */
    public static final int FINALIZED_WINDOW_HASHES = 250_000;

    private static final Logger log = LoggerFactory.getLogger(MempoolExecutionLayer.class);

    private final Storage storage;
    private final Genesis genesis;
    private final int maxTransactionSize;
    private final int mempoolCapacity;
    private final long mempoolMaxBytes;
    private long mempoolBytes; // guarded by mempool: the sum of the waiting transactions' sizes
    private final EpochSchedule epochs;
    // Waiting transactions in arrival order: each one's bytes (a private copy, as the key) -> its keccak-256.
    private final LinkedHashMap<TransactionKey, Keccak256> mempool = new LinkedHashMap<>(); // guarded by itself
    // The window of final transactions, guarded by mempool: hash -> block number, and each block's hashes in order.
    private final HashMap<Keccak256, Long> finalizedAt = new HashMap<>();
    private final ArrayDeque<FinalizedBlock> finalizedBlocks = new ArrayDeque<>();

    // Proposals waiting for a first transaction (see proposePayloadWhenReady), guarded by mempool.
    private final List<Waiter> waiting = new ArrayList<>();
    private final Delays delays;

    private record FinalizedBlock(long number, List<Keccak256> hashes) {}

    /** A proposal waiting for a first transaction; answered once, by the first transaction or the end of its wait. */
    private record Waiter(long blockNumber, int maxPayloadSize, CompletableFuture<Payload> answer) {}

    /** Runs a task after a delay: the layer's only use of time, a parameter so that tests can drive it by hand. */
    @FunctionalInterface
    interface Delays {
        void schedule(Runnable task, Duration delay);
    }

    private static final Delays SYSTEM_DELAYS =
            (task, delay) -> CompletableFuture.delayedExecutor(delay.toNanos(), TimeUnit.NANOSECONDS)
                    .execute(task);

    public MempoolExecutionLayer(
            Storage storage, Genesis genesis, int maxTransactionSize, List<ScheduledCommittee> committees) {
        this(storage, genesis, maxTransactionSize, DEFAULT_MEMPOOL_CAPACITY, committees);
    }

    public MempoolExecutionLayer(
            Storage storage,
            Genesis genesis,
            int maxTransactionSize,
            int mempoolCapacity,
            List<ScheduledCommittee> committees) {
        this(storage, genesis, maxTransactionSize, mempoolCapacity, DEFAULT_MEMPOOL_MAX_BYTES, committees);
    }

    public MempoolExecutionLayer(
            Storage storage,
            Genesis genesis,
            int maxTransactionSize,
            int mempoolCapacity,
            long mempoolMaxBytes,
            List<ScheduledCommittee> committees) {
        this(storage, genesis, maxTransactionSize, mempoolCapacity, mempoolMaxBytes, committees, SYSTEM_DELAYS);
    }

    MempoolExecutionLayer(
            Storage storage,
            Genesis genesis,
            int maxTransactionSize,
            int mempoolCapacity,
            long mempoolMaxBytes,
            List<ScheduledCommittee> committees,
            Delays delays) {
        this.delays = Objects.requireNonNull(delays, "delays");
        this.storage = Objects.requireNonNull(storage, "storage");
        this.genesis = Objects.requireNonNull(genesis, "genesis");
        if (!storage.genesis().equals(genesis)) {
            throw new IllegalArgumentException(
                    "storage is for " + storage.genesis().hash() + ", not " + genesis.hash());
        }
        if (maxTransactionSize < 1) {
            throw new IllegalArgumentException("maxTransactionSize must be positive, got " + maxTransactionSize);
        }
        if (mempoolCapacity < 1) {
            throw new IllegalArgumentException("mempoolCapacity must be positive, got " + mempoolCapacity);
        }
        if (mempoolMaxBytes < maxTransactionSize) {
            throw new IllegalArgumentException("mempoolMaxBytes " + mempoolMaxBytes
                    + " cannot hold one transaction of the largest size, " + maxTransactionSize);
        }
        this.maxTransactionSize = maxTransactionSize;
        this.mempoolCapacity = mempoolCapacity;
        this.mempoolMaxBytes = mempoolMaxBytes;
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

    private List<TransactionKey> transactions(FinalBlock block) {
        try {
            return TransactionPayload.decodeKeys(block.payload(), maxTransactionSize);
        } catch (IllegalArgumentException e) {
            log.warn(
                    "Final block {} has a payload this layer cannot read ({}); no transaction leaves the mempool",
                    block.number(),
                    e.getMessage());
            return List.of();
        }
    }

    /**
     * Adds a final block's transactions to the window, takes them out of the mempool and evicts what falls out of
     * the window. A transaction the mempool holds moves into the window at once, with the hash computed when it
     * arrived (one removal, one insertion); only the others are hashed, outside the lock, and enter the window after.
     */
    private void rememberFinal(long number, List<TransactionKey> included) {
        Long at = number; // boxed once for all of the block's transactions
        Keccak256[] hashes = new Keccak256[included.size()];
        List<Integer> unknown = new ArrayList<>();
        synchronized (mempool) {
            for (int i = 0; i < hashes.length; i++) {
                hashes[i] = takeFromMempool(included.get(i));
                if (hashes[i] != null) {
                    finalizedAt.put(hashes[i], at);
                } else {
                    unknown.add(i);
                }
            }
        }
        for (int i : unknown) {
            hashes[i] = Keccak256.of(included.get(i).bytes());
        }
        synchronized (mempool) {
            for (int i : unknown) {
                takeFromMempool(included.get(i)); // it may have arrived since the first pass
                finalizedAt.put(hashes[i], at);
            }
            finalizedBlocks.addLast(new FinalizedBlock(number, Arrays.asList(hashes)));
            while (finalizedBlocks.size() > FINALIZED_WINDOW_BLOCKS
                    || (finalizedAt.size() > FINALIZED_WINDOW_HASHES && finalizedBlocks.size() > 1)) {
                FinalizedBlock old = finalizedBlocks.removeFirst();
                old.hashes().forEach(h -> finalizedAt.remove(h, old.number()));
            }
        }
    }

    /** Removes a waiting transaction, if it waits: its hash, or null. Under the mempool's lock. */
    private Keccak256 takeFromMempool(TransactionKey key) {
        Keccak256 hash = mempool.remove(key);
        if (hash != null) {
            mempoolBytes -= key.bytes().length;
        }
        return hash;
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

    /** Makes the blocks appended in this thread's open {@link Storage#syncGroup} durable now (nothing without one). */
    void syncAppendedBlocks() {
        storage.syncGroupNow();
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
        List<TransactionKey> txs;
        try {
            txs = TransactionPayload.decodeKeys(payload, maxTransactionSize);
        } catch (IllegalArgumentException e) {
            return PayloadVerdict.invalid(e.getMessage());
        }
        // A transaction in the mempool is in no final block of the window: a final block takes its transactions out
        // of the mempool as it enters the window, and the mempool refuses a transaction of the window. So only the
        // others need their hash looked up (and computed, outside the lock). The verdict is the same as checking all.
        List<Integer> unknown = new ArrayList<>();
        synchronized (mempool) {
            for (int i = 0; i < txs.size(); i++) {
                if (!mempool.containsKey(txs.get(i))) {
                    unknown.add(i);
                }
            }
        }
        if (unknown.isEmpty()) {
            return PayloadVerdict.valid();
        }
        Keccak256[] hashes = new Keccak256[unknown.size()];
        for (int j = 0; j < hashes.length; j++) {
            hashes[j] = Keccak256.of(txs.get(unknown.get(j)).bytes());
        }
        synchronized (mempool) {
            for (int j = 0; j < hashes.length; j++) {
                Long at = finalizedAt.get(hashes[j]);
                if (at != null && at < blockNumber) {
                    return PayloadVerdict.invalid("transaction " + unknown.get(j) + " is already final in block " + at);
                }
            }
        }
        return PayloadVerdict.valid();
    }

    /**
     * Answers at once when transactions wait or {@code emptyBlockWait} is zero; otherwise when the first transaction
     * is accepted, or when the wait ends, whichever comes first.
     */
    @Override
    public CompletableFuture<Payload> proposePayloadWhenReady(
            long blockNumber, int maxPayloadSize, Duration emptyBlockWait) {
        checkPayloadLimit(maxPayloadSize);
        if (emptyBlockWait.isNegative()) {
            throw new IllegalArgumentException("emptyBlockWait must not be negative, got " + emptyBlockWait);
        }
        Waiter w = new Waiter(blockNumber, maxPayloadSize, new CompletableFuture<>());
        boolean waits;
        synchronized (mempool) {
            // Registered under the lock that admits transactions: one accepted after this sees the waiter.
            waits = mempool.isEmpty() && emptyBlockWait.isPositive() && waiting.add(w);
        }
        if (!waits) {
            return CompletableFuture.completedFuture(proposePayload(blockNumber, maxPayloadSize));
        }
        delays.schedule(() -> answer(w), emptyBlockWait);
        return w.answer();
    }

    /** Answers a waiting proposal with what the mempool holds now, unless it was answered already. */
    private void answer(Waiter w) {
        synchronized (mempool) {
            if (!waiting.remove(w)) {
                return;
            }
        }
        try {
            w.answer().complete(proposePayload(w.blockNumber(), w.maxPayloadSize()));
        } catch (RuntimeException e) {
            w.answer().completeExceptionally(e);
        }
    }

    /** Transactions arrived: every waiting proposal is answered. */
    private void wakeWaiting() {
        List<Waiter> woken;
        synchronized (mempool) {
            woken = new ArrayList<>(waiting);
        }
        woken.forEach(this::answer);
    }

    private static void checkPayloadLimit(int maxPayloadSize) {
        if (maxPayloadSize < TransactionPayload.HEADER_SIZE) {
            throw new IllegalArgumentException("maxPayloadSize " + maxPayloadSize + " cannot hold even the "
                    + TransactionPayload.HEADER_SIZE + "-byte transaction count");
        }
    }

    @Override
    public Payload proposePayload(long blockNumber, int maxPayloadSize) {
        checkPayloadLimit(maxPayloadSize);
        List<byte[]> picked = new ArrayList<>();
        long size = TransactionPayload.HEADER_SIZE;
        synchronized (mempool) {
            for (TransactionKey key : mempool.keySet()) {
                byte[] tx = key.bytes();
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
        return pushTransactions(List.of(transaction)).getFirst();
    }

    /**
     * Takes a batch with two passes under the lock: the first finds the copies already waiting and, while the mempool
     * is full, refuses the rest (no hashing: under overload most transactions come to a full mempool, and hashing them
     * only to refuse them would cost the CPU that drains it); the second admits the others, hashed in between outside
     * the lock. So a transaction that comes to a full mempool is refused as "mempool full" even if it is final
     * already; sent again when there is room, it is answered as a duplicate.
     */
    @Override
    public List<TransactionResult> pushTransactions(List<byte[]> transactions) {
        int n = transactions.size();
        TransactionResult[] results = new TransactionResult[n];
        TransactionKey[] keys = new TransactionKey[n];
        for (int i = 0; i < n; i++) {
            byte[] tx = Objects.requireNonNull(transactions.get(i), "transaction");
            if (tx.length == 0) {
                results[i] = new TransactionResult.Rejected(TransactionResult.Rejected.EMPTY, "empty transaction");
            } else if (tx.length > maxTransactionSize) {
                results[i] = new TransactionResult.Rejected(
                        TransactionResult.Rejected.TOO_LARGE,
                        "transaction of " + tx.length + " bytes exceeds the limit of " + maxTransactionSize);
            } else {
                keys[i] = new TransactionKey(tx);
            }
        }
        synchronized (mempool) {
            for (int i = 0; i < n; i++) {
                if (keys[i] == null) {
                    continue;
                }
                String full;
                if (mempool.containsKey(keys[i])) {
                    results[i] = new TransactionResult.Duplicate();
                    keys[i] = null;
                } else if ((full = fullFor(keys[i])) != null) {
                    results[i] = new TransactionResult.Rejected(TransactionResult.Rejected.MEMPOOL_FULL, full);
                    keys[i] = null;
                }
            }
        }
        Keccak256[] hashes = new Keccak256[n];
        boolean any = false;
        boolean accepted = false;
        for (int i = 0; i < n; i++) {
            if (keys[i] != null) {
                keys[i] = keys[i].copy();
                hashes[i] = Keccak256.of(keys[i].bytes());
                any = true;
            }
        }
        if (any) {
            synchronized (mempool) {
                for (int i = 0; i < n; i++) {
                    if (keys[i] == null) {
                        continue;
                    }
                    results[i] = admit(keys[i], hashes[i]);
                    accepted |= results[i] instanceof TransactionResult.Accepted;
                }
            }
        }
        if (accepted) {
            wakeWaiting();
        }
        return Arrays.asList(results);
    }

    /**
     * A new transaction into the mempool, under its lock: a duplicate if it waits already (it may have arrived since
     * the first look) or is final in the window, refused if the mempool is full. One insertion for an accepted one.
     */
    private TransactionResult admit(TransactionKey key, Keccak256 hash) {
        if (finalizedAt.containsKey(hash)) {
            return new TransactionResult.Duplicate();
        }
        String full = fullFor(key);
        if (full != null) {
            return mempool.containsKey(key)
                    ? new TransactionResult.Duplicate()
                    : new TransactionResult.Rejected(TransactionResult.Rejected.MEMPOOL_FULL, full);
        }
        if (mempool.putIfAbsent(key, hash) != null) {
            return new TransactionResult.Duplicate();
        }
        mempoolBytes += key.bytes().length;
        return new TransactionResult.Accepted();
    }

    /** Why the mempool has no room for {@code key} now, or null if it has. Under the mempool's lock. */
    private String fullFor(TransactionKey key) {
        if (mempool.size() >= mempoolCapacity) {
            return "mempool full (" + mempoolCapacity + " transactions)";
        }
        if (mempoolBytes + key.bytes().length > mempoolMaxBytes) {
            return "mempool full (" + mempoolMaxBytes + " bytes)";
        }
        return null;
    }

    /** The sum of the sizes of the transactions waiting in the mempool. */
    public long mempoolBytes() {
        synchronized (mempool) {
            return mempoolBytes;
        }
    }

    /** How many transactions wait in the mempool. */
    public int mempoolSize() {
        synchronized (mempool) {
            return mempool.size();
        }
    }
}
