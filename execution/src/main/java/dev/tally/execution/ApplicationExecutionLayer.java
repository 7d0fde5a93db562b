package dev.tally.execution;

import dev.tally.protocol.Epoch;
import dev.tally.protocol.FinalBlock;
import dev.tally.protocol.Genesis;
import dev.tally.protocol.Payload;
import dev.tally.storage.BlockRange;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link ExecutionLayer} of an {@link Application}: Tally's mempool and block storage (a
 * {@link MempoolExecutionLayer}) with the application's checks, proposals and state transitions around them.
 *
 * <ul>
 *   <li>A transaction reaches the mempool only if {@link Application#checkTx} takes it.</li>
 *   <li>A proposal is the mempool's packing, filtered by {@link Application#prepareProposal}, after a
 *       {@link RootAttestation} of the proposer's root after the previous block.</li>
 *   <li>A proposal is voted for if the mempool's format and duplicate checks and {@link Application#verifyBlock}
 *       pass.</li>
 *   <li>A final block is stored first, then applied: the application's root is compared with the root its
 *       proposer attested, and a difference is counted and logged. A block that fails to apply throws an
 *       {@link ApplicationException}, which stops the node.</li>
 *   <li>{@link #replay} (before the node starts) applies the stored blocks the application has not.</li>
 * </ul>
 */
public final class ApplicationExecutionLayer implements ExecutionLayer {
    /** The longest state root an application may return. */
    public static final int MAX_ROOT_LENGTH = 64;
    /** The kind of a refusal by {@link Application#checkTx}. */
    public static final String REFUSED_BY_APPLICATION = "application";
    /** How many recent roots are kept to compare with the attestations of the blocks after them. */
    static final int ROOT_WINDOW = 1024;

    private static final Logger log = LoggerFactory.getLogger(ApplicationExecutionLayer.class);
    private static final HexFormat HEX = HexFormat.of();

    private final MempoolExecutionLayer mempool;
    private final Application application;
    private final AtomicLong rootMismatches = new AtomicLong();
    private final Map<Long, byte[]> roots = new LinkedHashMap<>(); // guarded by this: block -> root after it
    private volatile Optional<AppliedState> lastApplied;

    public ApplicationExecutionLayer(MempoolExecutionLayer mempool, Application application) {
        this.mempool = Objects.requireNonNull(mempool, "mempool");
        this.application = Objects.requireNonNull(application, "application");
        this.lastApplied = application.lastApplied();
        lastApplied.ifPresent(s -> remember(s.block(), s.root()));
    }

    public Application application() {
        return application;
    }

    /** The mempool and block storage underneath. */
    public MempoolExecutionLayer mempool() {
        return mempool;
    }

    /** The application's state after the last block applied, if any. */
    public Optional<AppliedState> lastApplied() {
        return lastApplied;
    }

    /** How many blocks attested a root that differs from this node's root after the same block. */
    public long rootMismatches() {
        return rootMismatches.get();
    }

    /**
     * Applies the stored blocks after the application's last applied one, in order; call it once, before the node
     * starts. Returns how many blocks it applied.
     *
     * @throws IllegalStateException if the application is ahead of the stored blocks, or they no longer hold the
     *     blocks it lacks (pruned): the data directories do not belong together
     * @throws ApplicationException if a block fails to apply
     */
    public synchronized long replay() {
        Optional<BlockRange> stored = mempool.persistedRange();
        long next = lastApplied.map(s -> s.block() + 1).orElse(genesis().firstBlock());
        long last = stored.map(BlockRange::last).orElse(genesis().firstBlock() - 1);
        if (next > last + 1) {
            throw new IllegalStateException("the application has applied up to block " + (next - 1)
                    + " but the block store ends at block " + last
                    + ": its state belongs to another data directory (or the block store was wiped)");
        }
        if (next <= last && stored.get().first() > next) {
            throw new IllegalStateException("the application needs block " + next + " to catch up, but the block"
                    + " store starts at block " + stored.get().first() + " (pruned): restore its state or a block store"
                    + " that holds the blocks");
        }
        for (long n = next; n <= last; n++) {
            long number = n;
            FinalBlock b = mempool.block(n)
                    .orElseThrow(() -> new IllegalStateException("block " + number + " is missing from the store"));
            apply(b);
        }
        if (next <= last) {
            log.info("replayed blocks {}..{} into the application: {}", next, last, lastApplied.orElseThrow());
        }
        return Math.max(0, last - next + 1);
    }

    @Override
    public Genesis genesis() {
        return mempool.genesis();
    }

    @Override
    public Epoch epochAt(long blockNumber) {
        return mempool.epochAt(blockNumber);
    }

    @Override
    public Optional<Epoch> pendingEpoch(long lastFinal) {
        return mempool.pendingEpoch(lastFinal);
    }

    @Override
    public Optional<BlockRange> persistedRange() {
        return mempool.persistedRange();
    }

    @Override
    public Optional<FinalBlock> block(long number) {
        return mempool.block(number);
    }

    /**
     * Stores the block, durable before it is applied even in the caller's sync group: an application that persists
     * its state must never be ahead of the stored blocks after a crash.
     */
    @Override
    public synchronized void queueBlock(FinalBlock block) {
        mempool.queueBlock(block);
        mempool.syncAppendedBlocks();
        apply(block);
    }

    private void apply(FinalBlock block) {
        long n = block.number();
        List<byte[]> txs = TransactionPayload.decode(block.payload(), Integer.MAX_VALUE);
        Optional<RootAttestation> attested = txs.isEmpty() ? Optional.empty() : RootAttestation.decode(txs.getFirst());
        List<byte[]> appTxs = attested.isPresent() ? txs.subList(1, txs.size()) : txs;
        byte[] root;
        try {
            root = application.applyBlock(n, List.copyOf(appTxs));
        } catch (RuntimeException e) {
            throw new ApplicationException(n, e.toString(), e);
        }
        if (root == null || root.length > MAX_ROOT_LENGTH) {
            throw new ApplicationException(
                    n,
                    "it returned " + (root == null ? "no root" : "a root of " + root.length + " bytes")
                            + "; a root is 0 to " + MAX_ROOT_LENGTH + " bytes",
                    null);
        }
        attested.ifPresent(a -> compare(n, a));
        remember(n, root);
        lastApplied = Optional.of(new AppliedState(n, root));
    }

    private void compare(long n, RootAttestation a) {
        byte[] mine = roots.get(a.block());
        if (mine != null && !Arrays.equals(mine, a.root())) {
            rootMismatches.incrementAndGet();
            log.error(
                    "state root mismatch: block {} attests root {} after block {}, this node has {}: the application is"
                            + " not deterministic, or this node's state is damaged",
                    n,
                    HEX.formatHex(a.root()),
                    a.block(),
                    HEX.formatHex(mine));
        }
    }

    private void remember(long block, byte[] root) {
        roots.put(block, root);
        roots.keySet().removeIf(b -> b <= block - ROOT_WINDOW);
    }

    @Override
    public PayloadVerdict verifyPayload(long blockNumber, Payload payload) {
        PayloadVerdict format = mempool.verifyPayload(blockNumber, payload);
        if (!format.isValid()) {
            return format;
        }
        List<byte[]> txs = TransactionPayload.decode(payload, Integer.MAX_VALUE);
        for (int i = 0; i < txs.size(); i++) {
            if (!RootAttestation.isTagged(txs.get(i))) {
                continue;
            }
            Optional<RootAttestation> a = RootAttestation.decode(txs.get(i));
            if (i > 0 || a.isEmpty() || a.get().block() != blockNumber - 1) {
                return PayloadVerdict.invalid("transaction " + i + " is a malformed root attestation: only the"
                        + " first may be one, for block " + (blockNumber - 1));
            }
        }
        boolean attested = !txs.isEmpty() && RootAttestation.isTagged(txs.getFirst());
        return application.verifyBlock(blockNumber, List.copyOf(attested ? txs.subList(1, txs.size()) : txs));
    }

    @Override
    public Payload proposePayload(long blockNumber, int maxPayloadSize) {
        return withApplication(blockNumber, mempool.proposePayload(blockNumber, room(maxPayloadSize)));
    }

    @Override
    public CompletableFuture<Payload> proposePayloadWhenReady(
            long blockNumber, int maxPayloadSize, Duration emptyBlockWait) {
        return mempool.proposePayloadWhenReady(blockNumber, room(maxPayloadSize), emptyBlockWait)
                .thenApply(p -> withApplication(blockNumber, p));
    }

    /** The payload limit left for transactions once the attestation is in. */
    private static int room(int maxPayloadSize) {
        return maxPayloadSize - TransactionPayload.PREFIX_SIZE - RootAttestation.size(MAX_ROOT_LENGTH);
    }

    /** The application's choice among the mempool's candidates, after this node's root of the block before. */
    private Payload withApplication(long blockNumber, Payload candidates) {
        List<byte[]> chosen =
                application.prepareProposal(blockNumber, TransactionPayload.decode(candidates, Integer.MAX_VALUE));
        byte[] before;
        synchronized (this) {
            before = roots.get(blockNumber - 1);
        }
        List<byte[]> txs = new ArrayList<>(chosen.size() + 1);
        if (before != null) {
            txs.add(new RootAttestation(blockNumber - 1, before).encode());
        }
        txs.addAll(chosen);
        return TransactionPayload.encode(txs);
    }

    @Override
    public TransactionResult pushTransaction(byte[] transaction) {
        return check(transaction).orElseGet(() -> mempool.pushTransaction(transaction));
    }

    @Override
    public List<TransactionResult> pushTransactions(List<byte[]> transactions) {
        List<Optional<TransactionResult>> refused =
                transactions.stream().map(this::check).toList();
        List<byte[]> passed = new ArrayList<>(transactions.size());
        for (int i = 0; i < transactions.size(); i++) {
            if (refused.get(i).isEmpty()) {
                passed.add(transactions.get(i));
            }
        }
        List<TransactionResult> fromMempool = mempool.pushTransactions(passed);
        List<TransactionResult> results = new ArrayList<>(transactions.size());
        int next = 0;
        for (Optional<TransactionResult> r : refused) {
            results.add(r.isPresent() ? r.get() : fromMempool.get(next++));
        }
        return results;
    }

    /** The refusal of a transaction before the mempool sees it, if it is refused. */
    private Optional<TransactionResult> check(byte[] tx) {
        if (RootAttestation.isTagged(tx)) {
            return Optional.of(new TransactionResult.Rejected(
                    TransactionResult.Rejected.OTHER, "transactions may not start with the root-attestation tag"));
        }
        TxCheck verdict;
        try {
            verdict = application.checkTx(tx);
        } catch (RuntimeException e) {
            log.warn("the application's checkTx failed; refusing the transaction", e);
            verdict = TxCheck.refused("the application could not check it: " + e);
        }
        return switch (verdict) {
            case TxCheck.Ok ok -> Optional.empty();
            case TxCheck.Refused r -> Optional.of(new TransactionResult.Rejected(REFUSED_BY_APPLICATION, r.reason()));
        };
    }
}
