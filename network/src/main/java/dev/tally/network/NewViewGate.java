package dev.tally.network;

import dev.tally.crypto.BlsPublicKey;
import dev.tally.network.ConsensusInbox.ReplicaPosition;
import dev.tally.protocol.View;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Lets the new-view messages of one view through verification one at a time. Peers that form a view's QC a moment
 * before this replica each send a new-view message for the next view; they pass {@link ConsensusInbox#ignoredByReplica}
 * (they are for a later view), yet the replica acts on the first valid one, which moves it there, and ignores the
 * rest. So the first is verified at once and holds its view's turn; the others wait until it fails (the next one
 * takes the turn) or, delivered, until the replica reports that view; then they are checked against the new
 * position, most of them acknowledged unverified.
 *
 * <p>Not even the first goes on while the commit votes received for the view before it weigh a quorum: the replica
 * is about to make that view's QC itself and move on, and then ignores them all (otherwise each validator checks a
 * view's QC twice, the peer's in the new-view message and its own). A wait is bounded: past it a message goes on as
 * without the gate.
 */
final class NewViewGate {
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    /** Views whose turn is held: a message for it is being verified, or was delivered and the replica is not there. */
    private final Set<View> held = new HashSet<>();

    private ReplicaPosition at;
    /** The commit votes received for the newest view they came for (at or above the replica's), by signer. */
    private View votesView;

    private final Set<BlsPublicKey> voters = new HashSet<>();
    private long votesWeight;
    private boolean votesWeighAQuorum;
    /** A view whose votes weighed a quorum the replica did not make a QC of in time: they count no more. */
    private View votesInVain;

    /** One message's pass: closing it gives its view's turn up, unless the message was delivered. */
    static final class Turn implements AutoCloseable {
        private static final Turn NONE = new Turn(null, null, false);

        private final NewViewGate gate;
        private final View view;
        private final boolean waited;
        private boolean delivered;

        private Turn(NewViewGate gate, View view, boolean waited) {
            this.gate = gate;
            this.view = view;
            this.waited = waited;
        }

        /** Whether this message holds its view's turn (else it goes on without one). */
        boolean held() {
            return view != null;
        }

        /** Whether it waited for another message of its view: the replica may have moved meanwhile, check again. */
        boolean waited() {
            return waited;
        }

        /** It reached the inbox: its view stays taken until the replica reports that view (its take moves it there). */
        void delivered() {
            if (view != null) {
                delivered = true;
            }
        }

        @Override
        public void close() {
            if (view != null && !delivered) {
                gate.release(view);
            }
        }
    }

    /** A pass for a message that is not a new-view message: no turn, no wait. */
    static Turn none() {
        return Turn.NONE;
    }

    /** The replica's new position: frees the turns of the views it reached and wakes the messages waiting for them. */
    void replicaAt(ReplicaPosition position) {
        lock.lock();
        try {
            at = position;
            held.removeIf(v -> reached(position, v));
            if (votesView != null && reached(position, votesView) && position.view() > votesView.number()) {
                forgetVotes(null); // the replica moved past their view: they no longer matter
            }
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /**
     * A commit vote for {@code view} by {@code signer} of {@code weight} went to the replica; {@code quorum} is the
     * weight that makes a QC. Only the newest view's votes are kept (one view at a time: a peer sending votes for far
     * views only empties the tally, which costs the replica a second check of a QC, as without it).
     */
    void commitVote(View view, BlsPublicKey signer, long weight, long quorum) {
        lock.lock();
        try {
            if (at != null && (view.epoch() != at.epoch() || view.number() < at.view())) {
                return;
            }
            if (votesView == null || !votesView.equals(view)) {
                if (votesView != null && view.epoch() == votesView.epoch() && view.number() < votesView.number()) {
                    return;
                }
                forgetVotes(view);
            }
            if (voters.add(signer)) {
                votesWeight += weight;
                votesWeighAQuorum = votesWeight >= quorum;
            }
        } finally {
            lock.unlock();
        }
    }

    /** Starts a tally of the votes of {@code view} (none if null). */
    private void forgetVotes(View view) {
        votesView = view;
        voters.clear();
        votesWeight = 0;
        votesWeighAQuorum = false;
    }

    /**
     * Whether the replica is about to reach {@code view} by a QC of its own: the commit votes received for the view
     * before it weigh a quorum, and the replica is not past that view.
     */
    private boolean aboutToReach(View view) {
        return votesView != null
                && votesWeighAQuorum
                && !votesView.equals(votesInVain)
                && votesView.epoch() == view.epoch()
                && votesView.number() + 1 == view.number()
                && at.view() <= votesView.number();
    }

    /**
     * The turn of a new-view message for {@code view}: at once if no other message of that view holds it, else after
     * the holder fails or the replica reaches {@code view}, waiting at most {@code bound}. While the replica is
     * {@link #aboutToReach} the view, first a wait of up to {@code bound} for it to get there; if it does not, that
     * view's votes no longer count and every message of it takes turns as without them (one at a time, not all at
     * once). Without a position, while the replica waits for reports (it looks at every new-view message then), or
     * once it is there, no turn is taken.
     */
    Turn enter(View view, Duration bound) throws InterruptedException {
        long nanos = bound.toNanos();
        boolean waited = false;
        lock.lockInterruptibly();
        try {
            while (true) {
                if (at == null || at.awaitingReports() || reached(at, view)) {
                    return new Turn(this, null, waited);
                }
                if (aboutToReach(view)) {
                    if (nanos > 0) {
                        waited = true;
                        nanos = changed.awaitNanos(nanos);
                        continue;
                    }
                    // The replica did not make the QC after all (bad or split votes): turns for all, as without it.
                    votesInVain = votesView;
                    changed.signalAll();
                    nanos = bound.toNanos();
                }
                if (held.add(view)) {
                    return new Turn(this, view, waited);
                }
                if (nanos <= 0) {
                    return new Turn(this, null, true);
                }
                waited = true;
                nanos = changed.awaitNanos(nanos);
            }
        } finally {
            lock.unlock();
        }
    }

    private void release(View view) {
        lock.lock();
        try {
            held.remove(view);
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Views whose turn is held (bounded: only views above the replica's, each one a message verified or delivered). */
    int heldViews() {
        lock.lock();
        try {
            return held.size();
        } finally {
            lock.unlock();
        }
    }

    /** Whether the replica is at or past {@code view}, or in another epoch (where the gate saves nothing). */
    private static boolean reached(ReplicaPosition at, View view) {
        return at.epoch() != view.epoch() || at.view() >= view.number();
    }
}
