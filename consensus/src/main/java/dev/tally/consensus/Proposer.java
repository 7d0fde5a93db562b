package dev.tally.consensus;

import dev.tally.crypto.BlsPublicKey;
import dev.tally.protocol.Epoch;
import dev.tally.protocol.LeaderProposal;
import dev.tally.protocol.Payload;
import dev.tally.protocol.ProposalJustification;
import dev.tally.protocol.ProposalJustification.FreshBlock;
import dev.tally.protocol.ProposalJustification.Reproposal;
import dev.tally.protocol.Signed;
import dev.tally.protocol.View;
import java.util.List;
import java.util.Optional;

/**
 * The leader's half of the protocol: when a view this validator leads starts, propose the block its
 * justification implies. A reproposal goes out at once, without payload; a fresh block waits until its
 * predecessor is stored, then asks the execution layer for a payload. Owned by the {@link Replica}.
 */
final class Proposer {
    private final ConsensusConfig config;
    private final ConsensusObserver observer;
    private final BlsPublicKey me;
    private final LeaderSchedule leaders;
    private Pending pending;

    /** A fresh proposal waiting for its predecessor to be stored, then for the execution layer's payload. */
    private record Pending(
            View view, long blockNumber, ProposalJustification justification, boolean payloadRequested) {}

    Proposer(ConsensusConfig config, ConsensusObserver observer, LeaderSchedule leaders) {
        this.config = config;
        this.observer = observer;
        this.leaders = leaders;
        this.me = config.validatorKey().publicKey();
    }

    /** A view started (with this justification); propose if this validator leads it. */
    void onViewStarted(View view, ProposalJustification justification, long storedLast, List<Output> out) {
        pending = null;
        Epoch epoch = config.epoch();
        if (!leaders.leader(view.number()).equals(me)) {
            return;
        }
        switch (justification.impliedBlock(epoch)) {
            case Reproposal r -> {
                observer.proposed(view.number(), r.number(), true);
                out.add(new Output.Broadcast(
                        Signed.sign(config.validatorKey(), new LeaderProposal(Optional.empty(), justification))));
            }
            case FreshBlock f -> {
                pending = new Pending(view, f.number(), justification, false);
                requestPayloadIfReady(storedLast, out);
            }
        }
    }

    /** Storage moved on: the predecessor of the pending block may now be stored. */
    void requestPayloadIfReady(long storedLast, List<Output> out) {
        if (pending != null && !pending.payloadRequested() && pending.blockNumber() - 1 <= storedLast) {
            pending = new Pending(pending.view(), pending.blockNumber(), pending.justification(), true);
            out.add(new Output.ProposePayload(pending.view(), pending.blockNumber()));
        }
    }

    /** The execution layer's payload for the pending proposal; stale answers are dropped. */
    void onPayloadProposed(View view, long blockNumber, Payload payload, List<Output> out) {
        if (pending == null
                || !pending.payloadRequested()
                || !pending.view().equals(view)
                || pending.blockNumber() != blockNumber) {
            return;
        }
        ProposalJustification justification = pending.justification();
        pending = null;
        if (payload.size() > config.maxPayloadSize()) {
            // Not proposed: every replica would refuse it.
            observer.messageRejected(
                    "PayloadProposed",
                    new Rejection.PayloadTooLarge(blockNumber, payload.size(), config.maxPayloadSize()));
            return;
        }
        observer.proposed(view.number(), blockNumber, false);
        out.add(new Output.Broadcast(
                Signed.sign(config.validatorKey(), new LeaderProposal(Optional.of(payload), justification))));
    }
}
