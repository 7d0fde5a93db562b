package dev.tally.consensus;

import dev.tally.crypto.BlsPublicKey;
import dev.tally.protocol.ReplicaTimeout;
import dev.tally.protocol.Signed;
import dev.tally.protocol.ValidatorSchedule;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What a replica that started without a state learns of where the network is, before it signs anything again
 * (docs/adr/0001-abstaining-after-data-loss.md): which other validators reported, and the highest QC view each
 * showed. Reporters weighing more than 2f always include an honest validator that signed the QC this replica
 * entered its last view with, so no view it may have voted in is more than 2 above the highest QC view they show.
 */
final class Rejoin {
    /** What a view-0 timeout vote reports: its signer holds no QC (it may itself be waiting for reports). */
    static final long NO_QC = -1;

    private final ValidatorSchedule committee;
    private final BlsPublicKey me;
    /** The highest QC view each other validator showed, NO_QC for a view-0 timeout vote. */
    private final Map<BlsPublicKey, Long> reports = new HashMap<>();
    /**
     * View-0 timeout votes whose signatures are not checked yet, by signer: all alike, so checked together once they
     * would make the reports count ({@link #wouldShow}), and only then reported.
     */
    private final Map<BlsPublicKey, Signed<ReplicaTimeout>> unchecked = new LinkedHashMap<>();

    Rejoin(ValidatorSchedule committee, BlsPublicKey me) {
        this.committee = committee;
        this.me = me;
    }

    /** Records that {@code from} showed a verified QC of view {@code qcView} ({@link #NO_QC} for none). */
    void report(BlsPublicKey from, long qcView) {
        if (!from.equals(me)) {
            reports.merge(from, qcView, Math::max);
            unchecked.remove(from);
        }
    }

    /** Holds a view-0 timeout vote, its signature unchecked, until {@link #unchecked} are checked. */
    void reportUnchecked(Signed<ReplicaTimeout> vote) {
        if (!vote.key().equals(me) && !reports.containsKey(vote.key())) {
            unchecked.put(vote.key(), vote);
        }
    }

    /**
     * Whether another signature of this signer's view-0 timeout vote is held: a signature is deterministic, so one of
     * the two is forged (possible only on an unauthenticated transport, such as the simulator's).
     */
    boolean holdsAnotherFrom(Signed<ReplicaTimeout> vote) {
        Signed<ReplicaTimeout> held = unchecked.get(vote.key());
        return held != null && !held.equals(vote);
    }

    /** The view-0 timeout votes held unchecked; taken out: report those that check out. */
    List<Signed<ReplicaTimeout>> takeUnchecked() {
        List<Signed<ReplicaTimeout>> votes = List.copyOf(unchecked.values());
        unchecked.clear();
        return votes;
    }

    /** Whether {@link #shown} would be present if the unchecked view-0 timeout votes were reported. */
    boolean wouldShow(long ownQcView) {
        Map<BlsPublicKey, Long> all = new HashMap<>(reports);
        unchecked.keySet().forEach(k -> all.merge(k, NO_QC, Math::max));
        return shown(all, ownQcView).isPresent();
    }

    /** Where the reporters that count show the network: the highest QC view shown, and their weight. */
    record Shown(long highestQcView, long reporterWeight) {}

    /**
     * The highest QC view the reports and {@code ownQcView} show, once the reporters that count weigh more than 2f;
     * empty until then. Above view 0 only reporters that showed a QC count: a view-0 timeout vote is all that a
     * validator waiting for reports itself sends, and one that lost its data knows nothing of the views it voted in.
     * At view 0 (a new chain, where every replica waits so) every reporter counts.
     */
    Optional<Shown> shown(long ownQcView) {
        return shown(reports, ownQcView);
    }

    private Optional<Shown> shown(Map<BlsPublicKey, Long> reports, long ownQcView) {
        long highest = Math.max(
                ownQcView,
                reports.values().stream().mapToLong(Long::longValue).max().orElse(NO_QC));
        long atLeast = highest <= 0 ? NO_QC : 0;
        long weight = reports.entrySet().stream()
                .filter(e -> e.getValue() >= atLeast)
                .mapToLong(e -> committee
                        .get(committee.indexOf(e.getKey()).orElseThrow())
                        .weight())
                .sum();
        return weight > 2 * committee.maxFaultyWeight() ? Optional.of(new Shown(highest, weight)) : Optional.empty();
    }
}
