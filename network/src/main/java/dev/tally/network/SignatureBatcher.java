package dev.tally.network;

import dev.tally.crypto.BlsPublicKey;
import dev.tally.crypto.BlsSignature;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.LongAdder;

/**
 * Verifies the BLS signatures that reach a node at the same time, from many peers, together
 * ({@link BlsSignature#verifyAll}, about half the cost of each alone). A caller queues its signature and waits; a
 * caller that finds fewer than {@code parallelism} batches running takes everything queued (up to
 * {@value #MAX_BATCH}) and verifies it as one batch, again until the queue is empty. A failed batch is verified one
 * signature at a time, so that each caller learns about its own. Alone, a signature is verified at once by its own
 * caller, as before.
 *
 * <p>At n = 100 a view change brings each validator up to 99 new-view messages within a moment (timeout votes, like
 * commit votes, are left to the replica, which checks a quorum of them at once), and connections come up by the
 * hundred, each with a signed handshake: one verification each was the largest share of the CPU of the start.
 */
final class SignatureBatcher implements SignatureCheck {
    static final int MAX_BATCH = 64;

    private record Pending(BlsSignature.Check check, CompletableFuture<Boolean> valid) {}

    private final ConcurrentLinkedQueue<Pending> queue = new ConcurrentLinkedQueue<>();
    private final Semaphore batches;
    private final LongAdder checked = new LongAdder();
    private final LongAdder batchesRun = new LongAdder();

    /** The batchers of this process, by parallelism: see {@link #shared}. */
    private static final ConcurrentHashMap<Integer, SignatureBatcher> SHARED = new ConcurrentHashMap<>();

    SignatureBatcher(int parallelism) {
        this.batches = new Semaphore(parallelism);
    }

    /**
     * The batcher every node of this process with this parallelism shares: the cores are the process's, and the nodes
     * of an in-process network (25 validators in one JVM at n = 100) then batch the signatures they get at the same
     * moment, as one validator of a real committee does with its 99 peers'. With a batcher each, they met seldom: an
     * n = 100 start took 35-42 s with a batcher per node, 32-34 s with one per process (BENCHMARKS.md).
     */
    static SignatureBatcher shared(int parallelism) {
        return SHARED.computeIfAbsent(parallelism, SignatureBatcher::new);
    }

    /** True iff {@code signature} is {@code key}'s signature of {@code message}; waits for its batch. */
    @Override
    public boolean valid(BlsSignature signature, byte[] message, BlsPublicKey key) throws InterruptedException {
        return validEach(List.of(new BlsSignature.Check(signature, message, key)))[0];
    }

    /** Whether each of {@code checks} is valid; they join the queue together and wait for their batches. */
    @Override
    @SuppressWarnings("ThreadPriorityCheck") // the yield is what lets a batch form: see below
    public boolean[] validEach(List<BlsSignature.Check> checks) throws InterruptedException {
        if (checks.isEmpty()) {
            return new boolean[0]; // a gossip push with no announcement new to the book: nothing to queue or yield for
        }
        List<Pending> mine = checks.stream()
                .map(c -> new Pending(c, new CompletableFuture<>()))
                .toList();
        queue.addAll(mine);
        // A caller that drained looks at the queue again after it let go, so nothing queued is left behind.
        while (!queue.isEmpty() && batches.tryAcquire()) {
            try {
                // Let the other threads waiting for a core run first: a verification holds its carrier (a native
                // call), so callers on virtual threads never got to queue while one ran, and every batch was of one
                // (JFR of an n = 100 start: 2,881 handshake checks alone, 1 in a batch; with the yield, 58 and 1,260).
                Thread.yield();
                drain();
            } finally {
                batches.release();
            }
        }
        boolean[] valid = new boolean[mine.size()];
        try {
            for (int i = 0; i < valid.length; i++) {
                valid[i] = mine.get(i).valid().get();
            }
        } catch (ExecutionException e) {
            throw new IllegalStateException("signature check failed", e.getCause());
        }
        return valid;
    }

    /** Signatures checked so far. */
    long checked() {
        return checked.sum();
    }

    /** Batches they were checked in (a batch of one is a signature checked alone). */
    long batches() {
        return batchesRun.sum();
    }

    private void drain() {
        List<Pending> batch = new ArrayList<>();
        while (true) {
            batch.clear();
            for (Pending p; batch.size() < MAX_BATCH && (p = queue.poll()) != null; ) {
                batch.add(p);
            }
            if (batch.isEmpty()) {
                return;
            }
            checked.add(batch.size());
            batchesRun.increment();
            try {
                boolean[] valid = BlsSignature.verifyEach(
                        batch.stream().map(Pending::check).toList());
                for (int i = 0; i < valid.length; i++) {
                    batch.get(i).valid().complete(valid[i]);
                }
            } catch (RuntimeException e) {
                batch.forEach(p -> p.valid().completeExceptionally(e));
            }
        }
    }
}
