package dev.tally.sim;

import java.util.List;
import java.util.Optional;

/**
 * What one scenario did.
 *
 * @param blocksFinalized the highest final block height reached (blocks 0..h), -1 for none
 * @param lastView the highest view an honest-code node reached
 * @param viewsTimedOut views (after view 0) that some replica ended with a TimeoutQC
 * @param livenessNotChecked why liveness was not checked although the scenario expected it (faulty keys and
 *     validators still abstaining weighed more than f when it would have failed, PROTOCOL.md section 9); empty when it was checked or never expected
 * @param fingerprint a digest of every delivered message and its timing: equal fingerprints, equal runs
 * @param trace the last events before the end (or the violation), readable
 */
public record SimResult(
        Scenario scenario,
        long blocksFinalized,
        long lastView,
        long viewsTimedOut,
        long messages,
        long simulatedMillis,
        Optional<Violation> violation,
        Optional<String> livenessNotChecked,
        long fingerprint,
        List<String> trace) {
    public boolean passed() {
        return violation.isEmpty();
    }
}
