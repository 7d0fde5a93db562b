package dev.tally.consensus;

import dev.tally.crypto.Keccak256;
import dev.tally.protocol.Codec;
import dev.tally.protocol.Epoch;
import dev.tally.protocol.InvalidMessageException;
import dev.tally.protocol.ProposalJustification;
import dev.tally.protocol.QcVerifier;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Remembers which QCs passed verification, by the hash of their canonical encoding, so that a QC that
 * arrives again (in every timeout vote, every new-view message, every proposal) costs one hash instead of
 * pairings. Bounded: the least recently used entries go first. Single-owner.
 */
final class QcCache implements QcVerifier {
    private final Map<Keccak256, Boolean> verified;
    private long hits;

    QcCache(int capacity) {
        this.verified = new LinkedHashMap<>(capacity, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<Keccak256, Boolean> eldest) {
                return size() > capacity;
            }
        };
    }

    @Override
    public void verify(ProposalJustification qc, Epoch epoch) throws InvalidMessageException {
        // The QC names its genesis and epoch, so its encoding identifies it together with the committee.
        Keccak256 id = Keccak256.of(Codec.encode(qc));
        if (verified.get(id) != null) {
            hits++;
            return;
        }
        qc.verifyUncached(epoch, this);
        verified.put(id, Boolean.TRUE);
    }

    long hits() {
        return hits;
    }
}
