package dev.tally.testbed.localnet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class StallWatchTest {
    static final long S = 1_000_000_000L;

    @Test
    void oneLineWhenTheChainStallsAndOneWhenItResumes() {
        StallWatch w = new StallWatch(Duration.ofSeconds(6), Duration.ofSeconds(6), 0);
        assertThat(w.observe(10, 0)).isEmpty();
        assertThat(w.observe(11, S)).isEmpty();
        assertThat(w.observe(11, 6 * S)).as("5 s without a block: not yet").isEmpty();
        assertThat(w.observe(11, 7 * S))
                .contains("chain stalled: no new block for 6.0 s (last block 11); the node logs say what is missing");
        assertThat(w.observe(11, 20 * S)).as("said once").isEmpty();
        assertThat(w.observe(12, 21 * S)).contains("chain resumed: block 12, after 20.0 s without a new block");
        assertThat(w.observe(13, 22 * S)).isEmpty();
        assertThat(w.observe(13, 27 * S)).isEmpty();
        assertThat(w.observe(13, 28 * S))
                .map(l -> l.startsWith("chain stalled: no new block for 6.0 s"))
                .contains(true);
    }

    @Test
    void aNetworkThatNeverMadeABlockStallsOnceItsStartAllowanceIsOver() {
        StallWatch w = new StallWatch(Duration.ofSeconds(6), Duration.ofSeconds(30), 0);
        assertThat(w.observe(-1, S)).isEmpty();
        assertThat(w.observe(-1, 29 * S)).as("still starting").isEmpty();
        Optional<String> line = w.observe(-1, 30 * S);
        assertThat(line)
                .contains(
                        "chain stalled: no new block for 30.0 s (last block none); the node logs say what is missing");
        assertThat(w.observe(0, 32 * S)).contains("chain resumed: block 0, after 32.0 s without a new block");
    }

    @Test
    void aRestartedNetworkHasTheStartAllowanceForItsFirstNewBlockThenTheThreshold() {
        StallWatch w = new StallWatch(Duration.ofSeconds(6), Duration.ofSeconds(30), 0);
        assertThat(w.observe(40, S)).isEmpty();
        assertThat(w.observe(40, 20 * S))
                .as("the stored blocks are no new ones: still starting")
                .isEmpty();
        assertThat(w.observe(41, 21 * S)).isEmpty();
        assertThat(w.observe(41, 26 * S)).isEmpty();
        assertThat(w.observe(41, 27 * S))
                .contains("chain stalled: no new block for 6.0 s (last block 41); the node logs say what is missing");
    }

    @Test
    void aStartAllowanceShorterThanTheThresholdIsRefused() {
        assertThatThrownBy(() -> new StallWatch(Duration.ofSeconds(6), Duration.ofSeconds(5), 0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("start allowance");
    }
}
