package dev.tally.consensus;

import dev.tally.crypto.BlsPublicKey;
import dev.tally.protocol.ValidatorSchedule;
import java.util.HashSet;
import java.util.Set;

/**
 * What a replica that started without a state learns of where the network is, before it signs anything again
 * (docs/adr/0001-abstaining-after-data-loss.md): which other validators reported, and the highest QC view they
 * showed. Reporters weighing more than 2f always include an honest validator that signed the QC this replica
 * entered its last view with, so no view it may have voted in is more than 2 above the highest QC view they show.
 */
final class Rejoin {
    private final ValidatorSchedule committee;
    private final BlsPublicKey me;
    private final Set<BlsPublicKey> reporters = new HashSet<>();
    private long weight;
    private long highestQcView = -1;

    Rejoin(ValidatorSchedule committee, BlsPublicKey me) {
        this.committee = committee;
        this.me = me;
    }

    /**
     * Records that {@code from} showed a verified QC of view {@code qcView} (-1 for none) in a message it signed;
     * returns whether the reporters now weigh more than 2f. This replica's own messages do not count.
     */
    boolean report(BlsPublicKey from, long qcView) {
        highestQcView = Math.max(highestQcView, qcView);
        if (!from.equals(me) && reporters.add(from)) {
            weight += committee.get(committee.indexOf(from).orElseThrow()).weight();
        }
        return weight > 2 * committee.maxFaultyWeight();
    }

    long highestQcView() {
        return highestQcView;
    }

    long weight() {
        return weight;
    }
}
