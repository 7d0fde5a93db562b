package dev.tally.protocol;

import java.util.Comparator;
import java.util.Optional;

/**
 * The canonical order of timeout votes inside a timeout QC (it fixes the encoding, hence the hash):
 * by view, then high vote (absent first), then high QC (absent first).
 */
final class Ordering {
    private Ordering() {}

    static final Comparator<View> VIEW = Comparator.comparing(
                    (View v) -> v.genesis().keccak())
            .thenComparingLong(View::epoch)
            .thenComparingLong(View::number);

    static final Comparator<BlockHeader> HEADER = Comparator.comparingLong(BlockHeader::number)
            .thenComparing(h -> h.payload().keccak());

    static final Comparator<ReplicaCommit> REPLICA_COMMIT =
            Comparator.comparing(ReplicaCommit::view, VIEW).thenComparing(ReplicaCommit::proposal, HEADER);

    static final Comparator<CommitQC> COMMIT_QC = Comparator.comparing(CommitQC::message, REPLICA_COMMIT)
            .thenComparing(CommitQC::signers)
            .thenComparing(CommitQC::signature);

    static final Comparator<ReplicaTimeout> REPLICA_TIMEOUT = Comparator.comparing(ReplicaTimeout::view, VIEW)
            .thenComparing(ReplicaTimeout::highVote, absentFirst(REPLICA_COMMIT))
            .thenComparing(ReplicaTimeout::highQc, absentFirst(COMMIT_QC));

    private static <T> Comparator<Optional<T>> absentFirst(Comparator<T> c) {
        return (a, b) -> a.isEmpty() ? (b.isEmpty() ? 0 : -1) : (b.isEmpty() ? 1 : c.compare(a.get(), b.get()));
    }
}
