package dev.tally.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** CI's spec-conformance check: every step of every bundled model execution, through the real replica. */
class CorpusReplayTest {
    @Test
    void wholeCorpusReplaysWithoutMismatch() throws Exception {
        List<Conformance.Source> corpus = Conformance.bundled();
        long states = 0;
        for (Conformance.Source s : corpus) {
            states += Conformance.read(s).steps().size();
        }

        Conformance.Summary summary = Conformance.run(corpus, Replay.ReplicaFactory.REAL, 2);

        System.out.println(summary.line());
        assertThat(summary.firstMismatch()).as("first mismatch").isEmpty();
        assertThat(summary.mismatches()).isZero();
        assertThat(summary.traces()).isEqualTo(129);
        assertThat(summary.steps()).as("every state of every trace replayed").isEqualTo(states);
        assertThat(summary.comparisons()).isGreaterThan(summary.steps() * 7);
    }
}
