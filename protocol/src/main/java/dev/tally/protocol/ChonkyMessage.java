package dev.tally.protocol;

/** The four ChonkyBFT messages a validator signs. Each names the view it belongs to. */
public sealed interface ChonkyMessage permits LeaderProposal, ReplicaCommit, ReplicaTimeout, ReplicaNewView {
    View view();

    /** The hash a validator signs: keccak-256 of the canonical `Msg` envelope around this message. */
    default MessageHash hash() {
        return new MessageHash(dev.tally.crypto.Keccak256.of(Codec.encodeSignedPart(this)));
    }
}
