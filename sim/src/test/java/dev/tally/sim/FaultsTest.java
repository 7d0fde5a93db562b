package dev.tally.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class FaultsTest {
    @Test
    void builderSetsEachComponentByItsName() {
        // Every component a different value, so a setter wired to the wrong component shows.
        Faults named = Faults.builder()
                .dropRate(0.2)
                .duplicateRate(0.05)
                .maxDelayMillis(300)
                .partitions(true)
                .crashes(2)
                .wipes(1)
                .gstMillis(4_000)
                .build();
        assertThat(named).isEqualTo(new Faults(0.2, 0.05, 300, true, 2, 1, 4_000));
    }

    @Test
    void noneIsACalmNetworkStableFromTheStart() {
        assertThat(Faults.NONE).as("what a builder starts from").isEqualTo(new Faults(0, 0, 20, false, 0, 0, 0));
    }

    @Test
    void builtFaultsAreCheckedLikeConstructedOnes() {
        assertThatThrownBy(() -> Faults.builder().dropRate(1.5).build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("rates must be in [0, 1]");
    }
}
