package dev.tally.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tally.crypto.BlsSecretKey;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ScheduleTest {
    static ValidatorInfo v(long weight, boolean leader) {
        return new ValidatorInfo(BlsSecretKey.generate().publicKey(), weight, leader);
    }

    static final LeaderSelection RR = new LeaderSelection(1, LeaderSelection.Mode.ROUND_ROBIN);

    @Test
    void thresholdsOfSixEqualValidators() {
        ValidatorSchedule s = new TestChain(6).committee();
        assertThat(s.maxFaultyWeight()).isEqualTo(1);
        assertThat(s.quorumThreshold()).isEqualTo(5);
        assertThat(s.subquorumThreshold()).isEqualTo(3);
    }

    @Test
    void thresholdsOfUnequalWeights() {
        ValidatorSchedule s = new ValidatorSchedule(List.of(v(10, true), v(20, false)), RR);
        assertThat(s.totalWeight()).isEqualTo(30);
        assertThat(s.maxFaultyWeight()).isEqualTo(5);
        assertThat(s.quorumThreshold()).isEqualTo(25);
        assertThat(s.subquorumThreshold()).isEqualTo(15);
    }

    @Test
    void rejectsBadSchedules() {
        ValidatorInfo a = v(1, true);
        assertThatThrownBy(() -> new ValidatorSchedule(List.of(), RR)).hasMessageContaining("empty");
        assertThatThrownBy(() -> new ValidatorSchedule(List.of(a, a), RR)).hasMessageContaining("twice");
        assertThatThrownBy(() -> v(0, true)).hasMessageContaining("weight 0");
        assertThatThrownBy(() -> new ValidatorSchedule(
                        List.of(v(Long.MAX_VALUE / 2 + 1, true), v(Long.MAX_VALUE / 2 + 1, true)), RR))
                .hasMessageContaining("overflows");
        assertThatThrownBy(() -> new ValidatorSchedule(List.of(v(1, false)), RR))
                .hasMessageContaining("no leader");
        assertThatThrownBy(() -> new LeaderSelection(0, LeaderSelection.Mode.WEIGHTED))
                .hasMessageContaining("frequency");
    }

    @Test
    void rejectsOtherProtocolVersions() {
        ValidatorSchedule s = new TestChain(1).committee();
        assertThatThrownBy(() -> new Genesis(1, 0, 0, 1, Optional.of(s))).hasMessageContaining("protocol_version 1");
        assertThatThrownBy(() -> new Genesis(1, 0, 0, 3, Optional.of(s))).hasMessageContaining("protocol_version 3");
    }

    @Test
    void roundRobinSkipsNonLeadersAndHonoursFrequency() {
        ValidatorInfo a = v(1, true);
        ValidatorInfo b = v(1, false);
        ValidatorInfo c = v(1, true);
        ValidatorSchedule s =
                new ValidatorSchedule(List.of(a, b, c), new LeaderSelection(2, LeaderSelection.Mode.ROUND_ROBIN));
        List<ValidatorInfo> leaders =
                s.validators().stream().filter(ValidatorInfo::leader).toList();
        assertThat(s.leader(0)).isEqualTo(leaders.get(0).key());
        assertThat(s.leader(1)).isEqualTo(leaders.get(0).key());
        assertThat(s.leader(2)).isEqualTo(leaders.get(1).key());
        assertThat(s.leader(4)).isEqualTo(leaders.get(0).key());
        for (long view = 0; view < 50; view++) {
            assertThat(s.leader(view)).isNotEqualTo(b.key());
        }
    }

    @Test
    void weightedSelectionFollowsWeights() {
        ValidatorInfo heavy = v(90, true);
        ValidatorInfo light = v(10, true);
        ValidatorInfo none = v(1000, false);
        ValidatorSchedule s = new ValidatorSchedule(
                List.of(heavy, light, none), new LeaderSelection(1, LeaderSelection.Mode.WEIGHTED));
        int heavyTurns = 0;
        for (long view = 0; view < 2000; view++) {
            assertThat(s.leader(view)).isNotEqualTo(none.key());
            if (s.leader(view).equals(heavy.key())) {
                heavyTurns++;
            }
        }
        assertThat(heavyTurns).isBetween(1700, 1900);
    }
}
