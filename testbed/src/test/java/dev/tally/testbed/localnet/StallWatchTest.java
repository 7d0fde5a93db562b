package dev.tally.testbed.localnet;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class StallWatchTest {
    static final long S = 1_000_000_000L;

    @Test
    void oneLineWhenTheChainStallsAndOneWhenItResumes() {
        StallWatch w = new StallWatch(Duration.ofSeconds(6), 0);
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
    void aNetworkThatNeverMadeABlockStallsFromItsStart() {
        StallWatch w = new StallWatch(Duration.ofSeconds(6), 0);
        assertThat(w.observe(-1, S)).isEmpty();
        Optional<String> line = w.observe(-1, 6 * S);
        assertThat(line)
                .contains("chain stalled: no new block for 6.0 s (last block none); the node logs say what is missing");
        assertThat(w.observe(0, 8 * S)).contains("chain resumed: block 0, after 8.0 s without a new block");
    }
}
