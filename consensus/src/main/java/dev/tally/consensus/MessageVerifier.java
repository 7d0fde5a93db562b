package dev.tally.consensus;

import dev.tally.protocol.ChonkyMessage;
import dev.tally.protocol.QcVerifier;
import dev.tally.protocol.Signed;

/**
 * How the replica checks message signatures and QCs. The replica owns a {@link VerificationCache} by default;
 * a driver that already checked what it delivers (the simulator, which shares one cache among all replicas of a
 * run) hands in its own, so each signature and QC costs pairings once.
 */
public interface MessageVerifier extends QcVerifier {
    boolean verifySignature(Signed<? extends ChonkyMessage> message);
}
