package dev.tally.network;

import dev.tally.crypto.Keccak256;
import dev.tally.protocol.Codec;
import dev.tally.protocol.CommitQC;
import dev.tally.protocol.Epoch;
import dev.tally.protocol.InvalidMessageException;
import dev.tally.protocol.ProposalJustification;
import dev.tally.protocol.QcVerifier;
import dev.tally.protocol.ReplicaCommit;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A thread-safe {@link QcVerifier} that remembers, by the keccak-256 of their canonical encoding, the QCs that
 * passed: the same high QC arrives in every timeout vote and new-view message, and costs one hash instead of a
 * pairing check after the first time. Bounded: the least recently used entries are evicted. Only successes are
 * cached. The encoding names the genesis and epoch, so one instance may serve several epochs.
 */
public final class CachingQcVerifier implements QcVerifier {
    private final Map<Keccak256, Boolean> verified;
    /** The votes that verified commit QCs certify (a vote names its chain, epoch and view). Guarded by {@code verified}. */
    private final Map<ReplicaCommit, Boolean> certifiedVotes;

    private final AtomicLong hits = new AtomicLong();

    public CachingQcVerifier(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be positive");
        }
        this.verified = lru(capacity);
        this.certifiedVotes = lru(capacity);
    }

    private static <K> Map<K, Boolean> lru(int capacity) {
        return new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<K, Boolean> eldest) {
                return size() > capacity;
            }
        };
    }

    @Override
    public void verify(ProposalJustification qc, Epoch epoch) throws InvalidMessageException {
        Keccak256 id = Keccak256.of(Codec.encode(qc));
        synchronized (verified) {
            if (verified.get(id) != null) {
                hits.incrementAndGet();
                return;
            }
        }
        qc.verifyUncached(epoch, this);
        synchronized (verified) {
            verified.put(id, Boolean.TRUE);
            if (qc instanceof CommitQC c) {
                certifiedVotes.put(c.message(), Boolean.TRUE);
            }
        }
    }

    /** Whether a commit QC that passed here certifies {@code vote}. */
    public boolean certifies(ReplicaCommit vote) {
        synchronized (verified) {
            return certifiedVotes.get(vote) != null;
        }
    }

    public long hits() {
        return hits.get();
    }

    public int size() {
        synchronized (verified) {
            return verified.size();
        }
    }
}
