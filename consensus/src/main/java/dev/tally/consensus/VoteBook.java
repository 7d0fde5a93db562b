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
import java.util.function.ToLongFunction;

/**
 * The newest vote of one kind from each validator, grouped by view, with the weight behind each distinct vote. Keeping
 * only the newest vote per signer bounds memory by the committee size, however many future views a faulty validator
 * votes in. The weights are kept as votes come and go, so that asking whether a vote has a quorum costs the same
 * however many votes its view holds (summing them at every vote cost n² per view: at n = 100, 10,000 comparisons).
 */
final class VoteBook<M extends ChonkyMessage> {
    private final ToLongFunction<BlsPublicKey> weights;
    private final Map<BlsPublicKey, Signed<M>> newest = new HashMap<>();
    private final TreeMap<Long, Map<BlsPublicKey, Signed<M>>> byView = new TreeMap<>();
    /** The weight of each distinct vote held, by view; pruned with {@link #byView}. */
    private final TreeMap<Long, Map<M, Long>> weightByView = new TreeMap<>();

    /** {@code weights} gives each signer's weight (a member's; {@link #put} takes members' votes only). */
    VoteBook(ToLongFunction<BlsPublicKey> weights) {
        this.weights = weights;
    }

    /** True if a vote in {@code view} would be newer than everything this signer sent before. */
    boolean isNewer(BlsPublicKey signer, long view) {
        Signed<M> last = newest.get(signer);
        return last == null || last.message().view().number() < view;
    }

    /** Records a vote that {@link #isNewer} accepted, replacing the signer's previous one. */
    void put(Signed<M> vote) {
        Signed<M> previous = newest.put(vote.key(), vote);
        if (previous != null) {
            forget(previous);
        }
        long v = vote.message().view().number();
        byView.computeIfAbsent(v, x -> new HashMap<>()).put(vote.key(), vote);
        weightByView
                .computeIfAbsent(v, x -> new HashMap<>())
                .merge(vote.message(), weights.applyAsLong(vote.key()), Long::sum);
    }

    /** The weight of the signers whose newest vote is {@code vote}. */
    long weightOf(M vote) {
        return weightByView.getOrDefault(vote.view().number(), Map.of()).getOrDefault(vote, 0L);
    }

    /** The weight of the signers whose newest vote is in {@code view}, whatever they voted for. */
    long weightIn(long view) {
        return weightByView.getOrDefault(view, Map.of()).values().stream()
                .mapToLong(Long::longValue)
                .sum();
    }

    /** The votes held for exactly {@code vote}. */
    List<Signed<M>> votesFor(M vote) {
        return votesIn(vote.view().number()).stream()
                .filter(s -> s.message().equals(vote))
                .toList();
    }

    /** The vote this signer cast in {@code view}, if that is its newest one. */
    Optional<Signed<M>> voteOf(BlsPublicKey signer, long view) {
        return Optional.ofNullable(byView.getOrDefault(view, Map.of()).get(signer));
    }

    /** Forgets a vote found invalid, so that a valid vote of the same signer and view can still take its place. */
    void remove(Signed<M> vote) {
        if (newest.remove(vote.key(), vote)) {
            forget(vote);
        }
    }

    /** Takes a signer's vote, held in its view's bucket, out of the bucket and its weight out of the tally. */
    private void forget(Signed<M> vote) {
        long v = vote.message().view().number();
        Map<BlsPublicKey, Signed<M>> bucket = byView.get(v);
        if (bucket == null || !bucket.remove(vote.key(), vote)) {
            return; // its view was pruned, tally and all
        }
        if (bucket.isEmpty()) {
            byView.remove(v);
        }
        Map<M, Long> tally = weightByView.get(v);
        long left = tally.merge(vote.message(), -weights.applyAsLong(vote.key()), Long::sum);
        if (left == 0) {
            tally.remove(vote.message());
        }
        if (tally.isEmpty()) {
            weightByView.remove(v);
        }
    }

    Collection<Signed<M>> votesIn(long view) {
        return byView.getOrDefault(view, Map.of()).values();
    }

    /** Forgets the votes of views before {@code view}; the newest-vote record per signer stays. */
    void pruneBelow(long view) {
        byView.headMap(view).clear();
        weightByView.headMap(view).clear();
    }

    List<Signed<M>> all() {
        return byView.values().stream().flatMap(m -> m.values().stream()).toList();
    }
}
