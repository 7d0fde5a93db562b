package dev.tally.node.executor;

import dev.tally.consensus.MessageVerifier;
import dev.tally.protocol.ChonkyMessage;
import dev.tally.protocol.Epoch;
import dev.tally.protocol.InvalidMessageException;
import dev.tally.protocol.ProposalJustification;
import dev.tally.protocol.QcVerifier;
import dev.tally.protocol.Signed;

/**
 * The replica's verifier on a node: the network's consensus mesh checks every message's signature and QCs (with
 * its QC cache) before the message enters the inbox, votes' signatures excepted, and the node's own messages reach
 * it without the network. So the replica trusts signatures but those of votes (commit and timeout), which it checks
 * a quorum at a time as the QC they make, and checks QCs through the network's cache: each pairing is computed once
 * per node.
 */
final class NetworkVerified implements MessageVerifier {
    private final QcVerifier networkQcs;

    NetworkVerified(QcVerifier networkQcs) {
        this.networkQcs = networkQcs;
    }

    /** Only messages that passed {@code ConsensusReceiver.verify} (or this node's own) reach the replica. */
    @Override
    public boolean verifySignature(Signed<? extends ChonkyMessage> message) {
        return !message.message().isVote() || message.verifySignature();
    }

    @Override
    public void verify(ProposalJustification qc, Epoch epoch) throws InvalidMessageException {
        networkQcs.verify(qc, epoch);
    }
}
