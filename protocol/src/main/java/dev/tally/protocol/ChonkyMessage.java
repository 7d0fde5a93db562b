package dev.tally.protocol;

/** The four ChonkyBFT messages a validator signs. Each names the view it belongs to. */
public sealed interface ChonkyMessage permits LeaderProposal, ReplicaCommit, ReplicaTimeout, ReplicaNewView {
    View view();

    /**
     * Whether this is a vote (commit or timeout): votes' signatures are checked a quorum at a time, as the QC they
     * make (docs/PROTOCOL.md section 10, item 1), not one by one on arrival.
     */
    default boolean isVote() {
        return this instanceof ReplicaCommit || this instanceof ReplicaTimeout;
    }

    /** The hash a validator signs: keccak-256 of the canonical `Msg` envelope around this message. */
    default MessageHash hash() {
        return new MessageHash(dev.tally.crypto.Keccak256.of(Codec.encodeSignedPart(this)));
    }
}
