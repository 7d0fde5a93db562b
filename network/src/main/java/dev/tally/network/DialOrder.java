package dev.tally.network;

import dev.tally.crypto.BlsPublicKey;
import dev.tally.protocol.ValidatorSchedule;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Who dials whom in the consensus mesh, and in what order (docs/adr/0008). */
final class DialOrder {
    private DialOrder() {}

    /**
     * The other members of {@code committee} in the order {@code self} first dials them: starting after itself and
     * wrapping around. When a whole committee starts at once, each validator is then dialled by a few peers at a time
     * instead of by all of them first (which overran its accept rate and timed their handshakes out).
     */
    static List<BlsPublicKey> dialOrder(ValidatorSchedule committee, BlsPublicKey self) {
        List<BlsPublicKey> members =
                committee.validators().stream().map(v -> v.key()).toList();
        int at = members.indexOf(self);
        List<BlsPublicKey> order = new ArrayList<>(members.size());
        for (int i = 1; i <= members.size(); i++) {
            BlsPublicKey peer = members.get(Math.floorMod(at + i, members.size()));
            if (!peer.equals(self)) {
                order.add(peer);
            }
        }
        return order;
    }

    /**
     * Whether {@code self}, rather than {@code peer}, dials the connection the two share: each validator dials the
     * nearer half of the committee after it, the first half of its {@link #dialOrder} (the lower index breaks the tie
     * of an even committee's opposite pair). So each dials about half of its peers, first, and is dialled by the rest.
     */
    static boolean dialsFirst(ValidatorSchedule committee, BlsPublicKey self, BlsPublicKey peer) {
        int n = committee.size();
        Optional<Integer> selfAt = committee.indexOf(self);
        Optional<Integer> peerAt = committee.indexOf(peer);
        if (selfAt.isEmpty() || peerAt.isEmpty()) {
            return true; // the committee changed under a sender, which stops at its next look
        }
        int at = selfAt.get();
        int to = peerAt.get();
        int ahead = Math.floorMod(to - at, n);
        return 2 * ahead < n || (2 * ahead == n && at < to);
    }
}
