package dev.tally.network;

import dev.tally.protocol.ChonkyMessage;
import dev.tally.protocol.LeaderProposal;
import dev.tally.protocol.ReplicaCommit;
import dev.tally.protocol.ReplicaNewView;
import dev.tally.protocol.ReplicaTimeout;
import dev.tally.protocol.Signed;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * This validator's outgoing consensus messages: the newest one of each kind, and only while it can still matter.
 * A message for view {@code v} evicts any message of view below {@code v - 1} (a peer that receives the new-view
 * message of {@code v} no longer needs them). Each connection keeps a cursor and sends every message it has not
 * sent yet, oldest first, so a fresh connection (a reconnect) re-sends the current messages, at most four. This
 * replaces the reference's pool, which grows without bound and is replayed in full on every connection.
 */
final class OutgoingConsensusPool {
    static final int KINDS = 4;

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final Signed<?>[] slots = new Signed<?>[KINDS];
    private final long[] seq = new long[KINDS];
    private long nextSeq;

    static int kind(ChonkyMessage m) {
        return switch (m) {
            case LeaderProposal p -> 0;
            case ReplicaCommit c -> 1;
            case ReplicaTimeout t -> 2;
            case ReplicaNewView n -> 3;
        };
    }

    /**
     * Adds a message to send to every peer. An older message (by epoch, then view) than the one held of its kind is
     * ignored; a message of a later epoch drops every message of earlier epochs.
     */
    void put(Signed<? extends ChonkyMessage> m) {
        int k = kind(m.message());
        long epoch = m.message().view().epoch();
        long view = m.message().view().number();
        lock.lock();
        try {
            Signed<?> held = slots[k];
            if (held != null && isBefore(epoch, view, (ChonkyMessage) held.message())) {
                return;
            }
            slots[k] = m;
            seq[k] = ++nextSeq;
            for (int i = 0; i < KINDS; i++) {
                if (slots[i] != null) {
                    ChonkyMessage s = (ChonkyMessage) slots[i].message();
                    if (s.view().epoch() < epoch
                            || (s.view().epoch() == epoch && s.view().number() < view - 1)) {
                        slots[i] = null;
                    }
                }
            }
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    private static boolean isBefore(long epoch, long view, ChonkyMessage held) {
        long heldEpoch = held.view().epoch();
        return epoch < heldEpoch || (epoch == heldEpoch && view < held.view().number());
    }

    /** A connection's position: the sequence number of the last message of each kind it sent. */
    static long[] newCursor() {
        return new long[KINDS];
    }

    /**
     * The oldest message the cursor has not sent yet (and advances the cursor past it), waiting at most
     * {@code timeout}; null if there is none by then.
     */
    @SuppressWarnings("unchecked")
    Signed<ChonkyMessage> next(long[] cursor, Duration timeout) throws InterruptedException {
        long nanos = timeout.toNanos();
        lock.lockInterruptibly();
        try {
            while (true) {
                int best = -1;
                for (int i = 0; i < KINDS; i++) {
                    if (slots[i] != null && seq[i] > cursor[i] && (best < 0 || seq[i] < seq[best])) {
                        best = i;
                    }
                }
                if (best >= 0) {
                    cursor[best] = seq[best];
                    return (Signed<ChonkyMessage>) slots[best];
                }
                if (nanos <= 0) {
                    return null;
                }
                nanos = changed.awaitNanos(nanos);
            }
        } finally {
            lock.unlock();
        }
    }

    /** The messages currently held, oldest first. */
    @SuppressWarnings("unchecked")
    List<Signed<ChonkyMessage>> current() {
        long[] cursor = newCursor();
        List<Signed<ChonkyMessage>> out = new ArrayList<>();
        lock.lock();
        try {
            Signed<ChonkyMessage> m;
            while ((m = nextNow(cursor)) != null) {
                out.add(m);
            }
        } finally {
            lock.unlock();
        }
        return out;
    }

    @SuppressWarnings("unchecked")
    private Signed<ChonkyMessage> nextNow(long[] cursor) {
        int best = -1;
        for (int i = 0; i < KINDS; i++) {
            if (slots[i] != null && seq[i] > cursor[i] && (best < 0 || seq[i] < seq[best])) {
                best = i;
            }
        }
        if (best < 0) {
            return null;
        }
        cursor[best] = seq[best];
        return (Signed<ChonkyMessage>) slots[best];
    }
}
