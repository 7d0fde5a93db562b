package dev.tally.node.executor;

import dev.tally.execution.ApplicationException;
import dev.tally.execution.ExecutionLayer;
import dev.tally.network.BlockSink;
import dev.tally.network.BlockSource;
import dev.tally.network.BlockStoreState;
import dev.tally.node.metrics.NodeMetrics;
import dev.tally.protocol.FinalBlock;
import dev.tally.storage.BlockRange;
import dev.tally.storage.BlockStore;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.SortedSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one way final blocks reach the execution layer, whether consensus finalized them or block sync fetched them:
 * strictly in order, each once. After every block it reports the persisted range to its listeners (the replica's
 * {@code BlocksPersisted}, gossip's block-store notification). It is also what the network serves blocks from (a
 * block whose stored copy is corrupt is served as absent), and where block sync repairs such blocks.
 */
final class BlockPipeline implements BlockSource, BlockSink {
    private static final Logger log = LoggerFactory.getLogger(BlockPipeline.class);

    /** Told the persisted range after it changed. */
    interface Listener {
        void persisted(StoredRange range);
    }

    private final ExecutionLayer execution;
    private final BlockStore store;
    private final long firstBlock;
    private final NodeMetrics metrics;
    // Told when the application fails to apply a block, whichever thread (replica or block sync) delivered it.
    private final Consumer<ApplicationException> applicationFailed;
    private final List<Listener> listeners = new CopyOnWriteArrayList<>();
    // Where a final block goes that comes before its predecessor is stored: block sync holds it until the gap is
    // fetched. Set once the network is up; until then such a block is dropped and fetched later.
    private volatile Consumer<FinalBlock> aheadOfGap = block -> {};
    private long lastQueued; // guarded by this
    // An open gap: blocks up to gapTo came final before block gapFrom was stored (gapTo < 0: none open).
    private long gapFrom; // guarded by this
    private long gapTo = -1; // guarded by this
    private long gapOpenedNanos; // guarded by this
    // The newest block queued or read by state(): gossip advertises its QC several times a second and the RPC asks
    // for it on every poll, and a read from the store checks the block's integrity, hashing its whole payload.
    private volatile Optional<FinalBlock> newest = Optional.empty();
    // Completed, and replaced by a fresh one, each time a block is stored: what a reader waiting for the next final
    // block (the RPC's block feed) waits on, so that it learns of the block at once without polling.
    private volatile CompletableFuture<Void> nextStored = new CompletableFuture<>();

    /** @param store where the execution layer keeps the blocks: block sync repairs its corrupt ones */
    BlockPipeline(
            ExecutionLayer execution,
            BlockStore store,
            NodeMetrics metrics,
            Consumer<ApplicationException> applicationFailed) {
        this.execution = execution;
        this.store = store;
        this.applicationFailed = applicationFailed;
        this.firstBlock = execution.genesis().firstBlock();
        this.metrics = metrics;
        this.lastQueued = execution.persistedRange().map(BlockRange::last).orElse(firstBlock - 1);
    }

    void addListener(Listener l) {
        listeners.add(l);
    }

    /** Gives the final blocks that come before their predecessor is stored to {@code holder} (block sync). */
    void holdBlocksAheadOfGapIn(Consumer<FinalBlock> holder) {
        aheadOfGap = holder;
    }

    /** The persisted range. */
    StoredRange persisted() {
        return execution
                .persistedRange()
                .map(r -> new StoredRange(r.first(), r.last()))
                .orElse(new StoredRange(firstBlock, firstBlock - 1));
    }

    @Override
    public BlockStoreState state() {
        Optional<BlockRange> r = execution.persistedRange();
        if (r.isEmpty()) {
            return BlockStoreState.empty(firstBlock);
        }
        // A block pruned between the two reads: report the range without it rather than fail.
        Optional<FinalBlock> last = newest(r.get().last());
        return last.map(b -> new BlockStoreState(r.get().first(), Optional.of(b.justification())))
                .orElseGet(() -> BlockStoreState.empty(firstBlock));
    }

    /**
     * The newest stored block, as {@link #block} gives it, without reading the store again while it stays the
     * newest; empty if nothing is stored or that block is damaged (a damaged block is served to no one).
     */
    Optional<FinalBlock> newest() {
        return execution.persistedRange().flatMap(r -> newest(r.last()));
    }

    private Optional<FinalBlock> newest(long number) {
        Optional<FinalBlock> held = held(number);
        if (held.isPresent()) {
            return held;
        }
        Optional<FinalBlock> read = execution.block(number);
        if (read.isPresent()) {
            newest = read;
        }
        return read;
    }

    /** The newest block as held in memory, if it is block {@code number} and its stored copy is not known damaged. */
    private Optional<FinalBlock> held(long number) {
        Optional<FinalBlock> held = newest;
        return held.isPresent()
                        && held.get().number() == number
                        && !store.corruptBlocks().contains(number)
                ? held
                : Optional.empty();
    }

    /** A stored block: the newest from memory, the others read (and checked) from the store. */
    @Override
    public Optional<FinalBlock> block(long number) {
        return held(number).or(() -> execution.block(number));
    }

    /**
     * Stores a final block after its predecessor. A block already queued is ignored (consensus and block sync may
     * both deliver it); one beyond the next goes to block sync, which stores it after fetching the gap.
     */
    @Override
    public void queueBlock(FinalBlock block) {
        if (aheadOfGap(block)) {
            aheadOfGap.accept(block);
            return;
        }
        StoredRange range;
        CompletableFuture<Void> signal;
        synchronized (this) {
            long n = block.number();
            if (n != lastQueued + 1) {
                return; // queued already
            }
            long start = System.nanoTime();
            try {
                execution.queueBlock(block);
            } catch (ApplicationException e) {
                applicationFailed.accept(e);
                throw e;
            }
            lastQueued = n;
            newest = Optional.of(block);
            long stored = System.nanoTime();
            metrics.storageLatency("queue_block", stored - start);
            if (gapTo >= 0 && n >= gapTo) {
                metrics.gapClosed(stored - gapOpenedNanos);
                log.info(
                        "blocks {} to {} stored, {} ms after block {} was found missing",
                        gapFrom,
                        n,
                        (stored - gapOpenedNanos) / 1_000_000,
                        gapFrom);
                gapTo = -1;
            }
            metrics.blockStored(block);
            range = persisted();
            signal = nextStored;
            nextStored = new CompletableFuture<>();
        }
        signal.complete(null);
        listeners.forEach(l -> l.persisted(range));
    }

    /**
     * Waits until block {@code number} is stored, for at most {@code wait}: whether it is (or was, and has been pruned
     * since).
     */
    boolean awaitStored(long number, Duration wait) throws InterruptedException {
        long deadline = System.nanoTime() + wait.toNanos();
        while (true) {
            // Taken before the check: a block stored after the check completes this very signal.
            CompletableFuture<Void> signal = nextStored;
            if (lastQueued() >= number) {
                return true;
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return false;
            }
            try {
                signal.get(left, TimeUnit.NANOSECONDS);
            } catch (TimeoutException e) {
                // The loop looks once more, then finds the time up.
            } catch (ExecutionException e) {
                throw new IllegalStateException("the signal of a stored block is never failed", e);
            }
        }
    }

    /** Whether {@code block} comes before its predecessor is stored; logs when that opens a gap. */
    private synchronized boolean aheadOfGap(FinalBlock block) {
        long n = block.number();
        if (n <= lastQueued + 1) {
            return false;
        }
        if (gapTo < 0) {
            gapFrom = lastQueued + 1;
            gapOpenedNanos = System.nanoTime();
            log.info("block {} is final but block {} is not stored yet; block sync will fetch the gap", n, gapFrom);
        }
        gapTo = Math.max(gapTo, n);
        return true;
    }

    @Override
    public SortedSet<Long> damaged() {
        return store.corruptBlocks();
    }

    /** A block already applied, stored again: the execution layer has nothing to do with it. */
    @Override
    public void repair(FinalBlock block) {
        store.repair(block);
    }

    /** Tells the listeners the persisted range, e.g. after old blocks were pruned. */
    void announce() {
        StoredRange range = persisted();
        listeners.forEach(l -> l.persisted(range));
    }

    @Override
    public synchronized long lastQueued() {
        return lastQueued;
    }
}
