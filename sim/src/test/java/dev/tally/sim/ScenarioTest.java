package dev.tally.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ScenarioTest {
    private static final Faults SOME_FAULTS =
            Faults.builder().dropRate(0.1).crashes(1).gstMillis(2_000).build();

    @Test
    void builderSetsEachComponentByItsName() {
        Scenario named = Scenario.builder()
                .seed(9)
                .committee(Committee.equal(7))
                .twins(1)
                .byzantine(Byzantine.REPLAY, 1)
                .faults(SOME_FAULTS)
                .delivery(Delivery.PROPOSAL_BEFORE_QC)
                .breakage(Breakage.VOTES_TWICE)
                .build();
        assertThat(named)
                .isEqualTo(new Scenario(
                        9,
                        Committee.equal(7),
                        1,
                        Byzantine.REPLAY,
                        1,
                        SOME_FAULTS,
                        Delivery.PROPOSAL_BEFORE_QC,
                        Breakage.VOTES_TWICE));
    }

    @Test
    void builderDefaultsToAnHonestCommitteeOnACalmNetwork() {
        assertThat(Scenario.builder().seed(3).validators(6).build())
                .isEqualTo(new Scenario(
                        3, Committee.equal(6), 0, Byzantine.NONE, 0, Faults.NONE, Delivery.RANDOM, Breakage.NONE));
    }

    @Test
    void toBuilderKeepsEveryPartNotChanged() {
        Scenario s = Scenario.random(11);
        assertThat(s.toBuilder().build()).isEqualTo(s);
        assertThat(s.withSeed(12))
                .isEqualTo(new Scenario(
                        12,
                        s.committee(),
                        s.twins(),
                        s.byzantine(),
                        s.byzantineCount(),
                        s.faults(),
                        s.delivery(),
                        s.breakage()));
    }

    @Test
    void aScenarioNeedsASeedAndACommittee() {
        assertThatThrownBy(() -> Scenario.builder().validators(6).build())
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("needs a seed and a committee");
        assertThatThrownBy(() -> Scenario.builder().seed(1).build())
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("needs a seed and a committee");
    }
}
