package dev.tally.network;

import dev.tally.crypto.BlsPublicKey;
import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Enabled;
import jdk.jfr.Event;
import jdk.jfr.EventType;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/**
 * A consensus message's passage through the mesh, as a JFR event (off unless a recording enables it by name; off, it costs a flag test): sent to a
 * peer until written to its connection ({@code written}), or on the RPC endpoint of earlier builds until its
 * acknowledgement came back ({@code acknowledged}, or {@code failed}); or received from a peer until it is in the
 * inbox ({@code offered}), on the RPC endpoint until the replica took it or a newer one of its signer and kind
 * replaced it ({@code delivered}), or it was left out
 * ({@code ignored} as stale for the replica, {@code other epoch}, {@code refused} as malformed or invalid,
 * {@code connection closed} while it waited). With
 * the node's replica-step events, a recording of every validator is a timeline of each view: where a message waited,
 * and for what (CONTRIBUTING.md, "Where a view's time goes").
 */
@Name("tally.ConsensusMessage")
@Label("Consensus message")
@Description("A consensus message sent until written, or received until in the replica's inbox")
@Category({"Tally", "Consensus"})
@StackTrace(false)
@Enabled(false)
final class ConsensusMessageEvent extends Event {
    private static final EventType TYPE = EventType.getEventType(ConsensusMessageEvent.class);

    @Label("Direction")
    String direction;

    @Label("Kind")
    String kind;

    @Label("View")
    long view;

    @Label("Peer")
    String peer;

    @Label("Outcome")
    String outcome;

    private ConsensusMessageEvent(String direction, BlsPublicKey peer) {
        this.direction = direction;
        this.peer = peer.toString();
    }

    /** Starts timing a message sent to {@code peer}; null when no recording wants these events. */
    static ConsensusMessageEvent sending(BlsPublicKey peer, Class<?> kind, long view) {
        ConsensusMessageEvent e = start("out", peer);
        if (e != null) {
            e.about(kind, view);
        }
        return e;
    }

    /** Starts timing a message received from {@code peer}; null when no recording wants these events. */
    static ConsensusMessageEvent receiving(BlsPublicKey peer) {
        return start("in", peer);
    }

    private static ConsensusMessageEvent start(String direction, BlsPublicKey peer) {
        if (!TYPE.isEnabled()) {
            return null;
        }
        ConsensusMessageEvent e = new ConsensusMessageEvent(direction, peer);
        e.begin();
        return e;
    }

    void about(Class<?> messageKind, long messageView) {
        kind = messageKind.getSimpleName();
        view = messageView;
    }

    /** Ends and records it, if it was started ({@code e} not null). */
    static void end(ConsensusMessageEvent e, String outcome) {
        if (e != null) {
            e.outcome = outcome;
            e.commit();
        }
    }
}
