package dev.tally.consensus;

import dev.tally.crypto.Keccak256;
import dev.tally.protocol.ChonkyMessage;
import dev.tally.protocol.Codec;
import dev.tally.protocol.Epoch;
import dev.tally.protocol.InvalidMessageException;
import dev.tally.protocol.ProposalJustification;
import dev.tally.protocol.Signed;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Remembers which signatures and QCs passed verification, so that a QC that arrives again (in every timeout
 * vote, every new-view message, every proposal) costs one hash instead of pairings. QCs are keyed by the hash
 * of their canonical encoding, signed messages by their content. Bounded: the least recently used entries go
 * first. Only successes are remembered. Single-owner: not thread-safe.
 */
public final class VerificationCache implements MessageVerifier {
    private final Map<Keccak256, Boolean> verifiedQcs;
    private final Map<Signed<? extends ChonkyMessage>, Boolean> verifiedSignatures;
    private long hits;

    public VerificationCache(int capacity) {
        this.verifiedQcs = lru(capacity);
        this.verifiedSignatures = lru(capacity);
    }

    private static <K> Map<K, Boolean> lru(int capacity) {
        return new LinkedHashMap<>(capacity, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<K, Boolean> eldest) {
                return size() > capacity;
            }
        };
    }

    @Override
    public void verify(ProposalJustification qc, Epoch epoch) throws InvalidMessageException {
        // The QC names its genesis and epoch, so its encoding identifies it together with the committee.
        Keccak256 id = Keccak256.of(Codec.encode(qc));
        if (verifiedQcs.get(id) != null) {
            hits++;
            return;
        }
        qc.verifyUncached(epoch, this);
        verifiedQcs.put(id, Boolean.TRUE);
    }

    @Override
    public boolean verifySignature(Signed<? extends ChonkyMessage> message) {
        if (verifiedSignatures.get(message) != null) {
            hits++;
            return true;
        }
        boolean valid = message.verifySignature();
        if (valid) {
            verifiedSignatures.put(message, Boolean.TRUE);
        }
        return valid;
    }

    /** How many verifications the cache saved. */
    public long hits() {
        return hits;
    }
}
