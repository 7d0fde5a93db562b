package dev.tally.network;

import dev.tally.crypto.BlsPublicKey;
import dev.tally.protocol.ChonkyMessage;
import dev.tally.protocol.LeaderProposal;
import dev.tally.protocol.ProposalJustification;
import dev.tally.protocol.ReplicaNewView;
import dev.tally.protocol.Signed;
import dev.tally.protocol.View;
import java.time.Duration;
import java.util.Collection;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Verified consensus messages waiting for the replica. Holds at most one message per (signer, message kind): a
 * newer (or same-view) message replaces the queued one in its place in line, an older one is dropped. So it never
 * holds more than four messages per validator, however fast peers send.
 *
 * <p>Back-pressure: a peer's message is acknowledged (and the peer may send the next one, within its in-flight
 * limit) only once the replica has taken it or a newer one replaced it; a slow replica slows its peers down
 * instead of buffering for them. The replica's own messages ({@link #offerLocal}) never wait.
 */
public final class ConsensusInbox {
    private record Key(BlsPublicKey signer, Class<?> kind) {}

    private static final class Slot {
        Signed<ChonkyMessage> message;
        CompletableFuture<Void> consumed;

        Slot(Signed<ChonkyMessage> message) {
            this.message = message;
            this.consumed = new CompletableFuture<>();
        }
    }

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition notEmpty = lock.newCondition();
    private final LinkedHashMap<Key, Slot> queue = new LinkedHashMap<>();
    private long dropped;

    /**
     * Queues a verified message. Returns a future that completes when the replica takes it or a newer message of
     * the same signer and kind replaces it (at once if it is older than the one queued, which is dropped).
     */
    @SuppressWarnings("unchecked")
    public CompletableFuture<Void> offer(Signed<? extends ChonkyMessage> message) {
        Signed<ChonkyMessage> m = (Signed<ChonkyMessage>) message;
        Key key = new Key(m.key(), m.message().getClass());
        lock.lock();
        try {
            Slot slot = queue.get(key);
            if (slot == null) {
                slot = new Slot(m);
                queue.put(key, slot);
                notEmpty.signal();
                return slot.consumed;
            }
            if (m.message().view().number() < slot.message.message().view().number()) {
                dropped++;
                return CompletableFuture.completedFuture(null);
            }
            dropped++;
            CompletableFuture<Void> superseded = slot.consumed;
            slot.message = m;
            slot.consumed = new CompletableFuture<>();
            superseded.complete(null);
            return slot.consumed;
        } finally {
            lock.unlock();
        }
    }

    /** Queues one of this node's own messages (it reaches itself like any validator, without the network). */
    // The acknowledgement is back-pressure for peers; nothing waits for this node's own messages.
    @SuppressWarnings("FutureReturnValueIgnored")
    public void offerLocal(Signed<? extends ChonkyMessage> message) {
        offer(message);
    }

    /** Waits for the next message. */
    public Signed<ChonkyMessage> take() throws InterruptedException {
        lock.lockInterruptibly();
        try {
            while (queue.isEmpty()) {
                notEmpty.await();
            }
            return removeFirst();
        } finally {
            lock.unlock();
        }
    }

    /** The next message, waiting at most {@code timeout}; null if none came. */
    public Signed<ChonkyMessage> poll(Duration timeout) throws InterruptedException {
        long nanos = timeout.toNanos();
        lock.lockInterruptibly();
        try {
            while (queue.isEmpty()) {
                if (nanos <= 0) {
                    return null;
                }
                nanos = notEmpty.awaitNanos(nanos);
            }
            return removeFirst();
        } finally {
            lock.unlock();
        }
    }

    /** Moves up to {@code max} queued messages to {@code out} without waiting; returns how many. */
    public int drainTo(Collection<? super Signed<ChonkyMessage>> out, int max) {
        lock.lock();
        try {
            int n = 0;
            while (n < max && !queue.isEmpty()) {
                out.add(removeFirst());
                n++;
            }
            return n;
        } finally {
            lock.unlock();
        }
    }

    private Signed<ChonkyMessage> removeFirst() {
        Iterator<Map.Entry<Key, Slot>> it = queue.entrySet().iterator();
        Slot s = it.next().getValue();
        it.remove();
        s.consumed.complete(null);
        return s.message;
    }

    public int size() {
        lock.lock();
        try {
            return queue.size();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Where the replica stands, as it last said: epoch, view, the leader of that view, the views of its high QCs (-1
     * for one it lacks), whether it lacks the block its high commit QC certifies (neither final nor stored there: the
     * proposal of that QC's view would bring its payload), and whether it still waits for other validators' reports
     * after a start without state (it then looks at every new-view message, whatever its view).
     */
    public record ReplicaPosition(
            long epoch,
            long view,
            BlsPublicKey leader,
            long highCommitQcView,
            long highTimeoutQcView,
            boolean lacksHighQcBlock,
            boolean awaitingReports) {}

    private volatile ReplicaPosition replicaAt;
    private final AtomicLong ignored = new AtomicLong();
    private final NewViewGate newViews = new NewViewGate();

    /**
     * The replica's position after its last step (it only moves forward within an epoch). Messages it would ignore
     * from there need no signature check: with n validators each view brings n new-view messages and the replica
     * acts on at most one of them.
     */
    public void replicaAt(ReplicaPosition position) {
        replicaAt = position;
        newViews.replicaAt(position);
    }

    /** Where new-view messages for one view wait for each other (it follows the replica's position). */
    NewViewGate newViews() {
        return newViews;
    }

    /**
     * Whether the replica ignores this message unread, as of its last reported position: one of an earlier view
     * of its epoch, or a new-view message for its current view unless it comes from that view's leader and carries
     * QCs above the replica's. Two exceptions: the proposal of its high commit QC's view while the replica lacks that
     * block (a late proposal finalizes it, sooner than block sync), and anything while it waits for reports. A
     * position a little behind the replica's only lets more through; the replica checks again.
     */
    public boolean ignoredByReplica(Signed<? extends ChonkyMessage> m) {
        return ignored(
                m.message().getClass(),
                m.message().view(),
                m.key(),
                m.message() instanceof ReplicaNewView nv ? nv.justification() : null);
    }

    /**
     * {@link #ignoredByReplica(Signed)} from what a message says before its content is decoded: the leader's new-view
     * message for the current view passes here, its QCs decide.
     */
    public boolean ignoredByReplica(Class<?> kind, View view, BlsPublicKey signer) {
        return ignored(kind, view, signer, null);
    }

    private boolean ignored(
            Class<?> kind, View messageView, BlsPublicKey signer, ProposalJustification newViewJustification) {
        ReplicaPosition at = replicaAt;
        if (at == null || messageView.epoch() != at.epoch()) {
            return false;
        }
        long view = messageView.number();
        boolean wanted = at.awaitingReports()
                || (kind == LeaderProposal.class && at.lacksHighQcBlock() && view == at.highCommitQcView());
        boolean ignoredByIt = !wanted
                && (view < at.view()
                        || (view == at.view()
                                && kind == ReplicaNewView.class
                                && (!signer.equals(at.leader())
                                        || (newViewJustification != null
                                                && !newViewJustification.raisesHighQcs(
                                                        at.highCommitQcView(), at.highTimeoutQcView())))));
        if (ignoredByIt) {
            ignored.incrementAndGet();
        }
        return ignoredByIt;
    }

    /** Messages left unverified because the replica would have ignored them. */
    public long ignoredUnverified() {
        return ignored.get();
    }

    /** Messages dropped or replaced because a newer one of the same signer and kind arrived. */
    public long superseded() {
        lock.lock();
        try {
            return dropped;
        } finally {
            lock.unlock();
        }
    }

    /** Waits (at most {@code timeout}) until the future completes; true iff it did. */
    static boolean await(CompletableFuture<Void> f, Duration timeout) throws InterruptedException {
        try {
            f.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
            return true;
        } catch (java.util.concurrent.TimeoutException e) {
            return false;
        } catch (java.util.concurrent.ExecutionException e) {
            return true;
        }
    }
}
