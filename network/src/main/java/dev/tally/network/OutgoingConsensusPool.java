package dev.tally.network;

import com.google.protobuf.UnsafeByteOperations;
import dev.tally.network.proto.Net;
import dev.tally.protocol.ChonkyMessage;
import dev.tally.protocol.Codec;
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
 * replaces the reference's pool, which grows without bound and is replayed in full on every connection. A message is
 * encoded once, for every connection.
 */
final class OutgoingConsensusPool {
    static final int KINDS = 4;

    /** A message to send, and its request: encoded by the first connection that sends it, then the same bytes for all. */
    static final class Outgoing {
        private final Signed<ChonkyMessage> message;
        private byte[] request;

        @SuppressWarnings("unchecked")
        Outgoing(Signed<? extends ChonkyMessage> message) {
            this.message = (Signed<ChonkyMessage>) message;
        }

        Signed<ChonkyMessage> message() {
            return message;
        }

        /** The {@code ConsensusReq} carrying the message (shared by every connection: not to be modified). */
        synchronized byte[] request() {
            if (request == null) {
                request = Net.ConsensusReq.newBuilder()
                        .setMsg(UnsafeByteOperations.unsafeWrap(Codec.encode(message)))
                        .build()
                        .toByteArray();
            }
            return request;
        }
    }

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final Outgoing[] slots = new Outgoing[KINDS];
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
            Outgoing held = slots[k];
            if (held != null && isBefore(epoch, view, held.message().message())) {
                return;
            }
            slots[k] = new Outgoing(m);
            seq[k] = ++nextSeq;
            for (int i = 0; i < KINDS; i++) {
                if (slots[i] != null) {
                    ChonkyMessage s = slots[i].message().message();
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
    Outgoing next(long[] cursor, Duration timeout) throws InterruptedException {
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
                    return slots[best];
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
    List<Signed<ChonkyMessage>> current() {
        long[] cursor = newCursor();
        List<Signed<ChonkyMessage>> out = new ArrayList<>();
        lock.lock();
        try {
            Outgoing m;
            while ((m = nextNow(cursor)) != null) {
                out.add(m.message());
            }
        } finally {
            lock.unlock();
        }
        return out;
    }

    private Outgoing nextNow(long[] cursor) {
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
        return slots[best];
    }
}
