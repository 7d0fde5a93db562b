package dev.tally.consensus;

import dev.tally.crypto.BlsPublicKey;
import dev.tally.protocol.ChonkyMessage;
import dev.tally.protocol.Signed;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The newest vote of one kind from each validator, grouped by view. Keeping only the newest vote per signer
 * bounds memory by the committee size, however many future views a faulty validator votes in.
 */
final class VoteBook<M extends ChonkyMessage> {
    private final Map<BlsPublicKey, Signed<M>> newest = new HashMap<>();
    private final TreeMap<Long, Map<BlsPublicKey, Signed<M>>> byView = new TreeMap<>();

    /** True if a vote in {@code view} would be newer than everything this signer sent before. */
    boolean isNewer(BlsPublicKey signer, long view) {
        Signed<M> last = newest.get(signer);
        return last == null || last.message().view().number() < view;
    }

    /** Records a vote that {@link #isNewer} accepted, replacing the signer's previous one. */
    void put(Signed<M> vote) {
        Signed<M> previous = newest.put(vote.key(), vote);
        if (previous != null) {
            long oldView = previous.message().view().number();
            Map<BlsPublicKey, Signed<M>> bucket = byView.get(oldView);
            if (bucket != null) {
                bucket.remove(vote.key());
                if (bucket.isEmpty()) {
                    byView.remove(oldView);
                }
            }
        }
        byView.computeIfAbsent(vote.message().view().number(), v -> new HashMap<>())
                .put(vote.key(), vote);
    }

    /** The vote this signer cast in {@code view}, if that is its newest one. */
    Optional<Signed<M>> voteOf(BlsPublicKey signer, long view) {
        return Optional.ofNullable(byView.getOrDefault(view, Map.of()).get(signer));
    }

    /** Forgets a vote found invalid, so that a valid vote of the same signer and view can still take its place. */
    void remove(Signed<M> vote) {
        newest.remove(vote.key(), vote);
        long v = vote.message().view().number();
        Map<BlsPublicKey, Signed<M>> bucket = byView.get(v);
        if (bucket != null && bucket.remove(vote.key(), vote) && bucket.isEmpty()) {
            byView.remove(v);
        }
    }

    Collection<Signed<M>> votesIn(long view) {
        return byView.getOrDefault(view, Map.of()).values();
    }

    /** Forgets the votes of views before {@code view}; the newest-vote record per signer stays. */
    void pruneBelow(long view) {
        byView.headMap(view).clear();
    }

    List<Signed<M>> all() {
        return byView.values().stream().flatMap(m -> m.values().stream()).toList();
    }
}
