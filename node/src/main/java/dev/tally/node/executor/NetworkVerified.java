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
 * its QC cache) before the message enters the inbox, and the node's own messages reach it without the network, so
 * the replica trusts signatures and checks QCs through the same cache: each pairing is computed once per node.
 */
final class NetworkVerified implements MessageVerifier {
    private final QcVerifier networkQcs;

    NetworkVerified(QcVerifier networkQcs) {
        this.networkQcs = networkQcs;
    }

    /** Only messages that passed {@code ConsensusMesh.verify} (or this node's own) reach the replica. */
    @Override
    public boolean verifySignature(Signed<? extends ChonkyMessage> message) {
        return true;
    }

    @Override
    public void verify(ProposalJustification qc, Epoch epoch) throws InvalidMessageException {
        networkQcs.verify(qc, epoch);
    }
}
