package dev.tally.sim;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.EnumSet;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

class SimulationTest {
    private static final Faults ROUGH = new Faults(0.2, 0.05, 300, true, 2, 1, 4_000);

    @Test
    void sameSeedSameRunByteForByte() {
        Scenario s = new Scenario(42, 7, 1, Byzantine.NONE, 0, ROUGH, Breakage.NONE);
        SimResult a = Simulation.run(s);
        SimResult b = Simulation.run(s);
        assertThat(a.passed()).as("%s", a.violation()).isTrue();
        assertThat(b.fingerprint()).isEqualTo(a.fingerprint());
        assertThat(b.messages()).isEqualTo(a.messages());
        assertThat(b.trace()).isEqualTo(a.trace());
        assertThat(Simulation.run(s.withSeed(43)).fingerprint()).as("another seed, another run").isNotEqualTo(a.fingerprint());
    }

    @Test
    void calmNetworkFinalizesBlocks() {
        SimResult r = Simulation.run(new Scenario(1, 6, 0, Byzantine.NONE, 0, Faults.NONE, Breakage.NONE));
        assertThat(r.passed()).as("%s", r.violation()).isTrue();
        assertThat(r.blocksFinalized()).isGreaterThanOrEqualTo(2);
    }

    @Test
    void everyByzantineKindWithinFIsSafeAndLive() {
        for (Byzantine kind : EnumSet.complementOf(EnumSet.of(Byzantine.NONE))) {
            for (long seed = 1; seed <= 6; seed++) {
                Scenario s = new Scenario(seed, 6 + (int) seed % 6, 0, kind, 1, Scenario.randomFaults(new java.util.SplittableRandom(seed)), Breakage.NONE);
                SimResult r = Simulation.run(s);
                assertThat(r.violation()).as("%s\n%s", s, String.join("\n", r.trace())).isEmpty();
            }
        }
    }

    @Test
    void validatorsThatLoseTheirDataResyncAndNeverEquivocate() {
        // Wipes land while the chain runs; a wiped validator must re-sync and must not sign a second, different
        // vote in a view it voted in before (the checker tracks every signature per key across the wipe).
        // Two wipes in a committee of 11 (f = 2): safety always, and liveness once they are back.
        Faults wipes = new Faults(0.05, 0, 50, false, 0, 2, 6_000);
        for (long seed = 1; seed <= 12; seed++) {
            Scenario s = new Scenario(seed, 11, 0, Byzantine.NONE, 0, wipes, Breakage.NONE);
            SimResult r = Simulation.run(s);
            assertThat(r.violation()).as("%s\n%s", s, String.join("\n", r.trace())).isEmpty();
        }
    }

    @Test
    void twinsBeyondFBreakSafetyAndTheCheckerSaysSo() {
        // All six keys twinned, partitions keep each copy in its own group: two quorums, two chains.
        Faults split = new Faults(0, 0, 50, true, 0, 0, 5_000);
        long caught = LongStream.rangeClosed(1, 30)
                .mapToObj(seed -> Simulation.run(new Scenario(seed, 6, 6, Byzantine.NONE, 0, split, Breakage.NONE)))
                .filter(r -> r.violation().map(v -> Set.of("agreement", "one CommitQC per view", "one high vote per TimeoutQC")
                        .contains(v.invariant())).orElse(false))
                .count();
        assertThat(caught).as("scenarios where the checker found the expected safety violation").isPositive();
    }

    @Test
    void withoutAnHonestQuorumTheLivenessCheckFires() {
        // n = 6 tolerates f = 1; two withholders leave 4 honest votes, below the quorum of 5: nothing can finalize,
        // and the checker, asked to expect liveness anyway, must call the stall.
        Scenario s = new Scenario(3, 6, 0, Byzantine.WITHHOLDER, 2, Faults.NONE, Breakage.NONE);
        SimResult r = new Simulation(s, true).run();
        assertThat(r.violation()).hasValueSatisfying(v -> assertThat(v.invariant()).isEqualTo("liveness"));
    }

    @Test
    void selfCheckCatchesEveryBrokenReplica() {
        for (Breakage b : EnumSet.complementOf(EnumSet.of(Breakage.NONE))) {
            SimRunner.Catch c = SimRunner.selfCheck(b, 1, 100);
            assertThat(c.caught()).as("%s caught within 100 scenarios", b).isTrue();
        }
    }

    /** The CI sweep: 2,000 random scenarios, n from 6 to 11, 0-2 twins, every Byzantine kind and fault kind. */
    @Test
    void ciSweepOf2000ScenariosPasses() {
        int count = Integer.getInteger("tally.sim.scenarios", 2_000);
        SimRunner.Summary summary = SimRunner.run(1, count, Scenario::random, Runtime.getRuntime().availableProcessors());
        StringBuilder failures = new StringBuilder();
        summary.failures().stream().limit(3).forEach(f -> failures.append(f.scenario()).append('\n')
                .append(f.violation().orElseThrow()).append('\n').append(String.join("\n", f.trace())).append("\n\n"));
        assertThat(summary.failures()).as(failures.toString()).isEmpty();
        System.out.println("sim CI sweep: " + summary.line());

        // The sweep covers what the issue asks for.
        Set<Integer> sizes = new TreeSet<>();
        Set<Integer> twins = new TreeSet<>();
        Set<Byzantine> kinds = EnumSet.noneOf(Byzantine.class);
        boolean partitions = false, crashes = false, drops = false, wiped = false;
        for (long seed = 1; seed <= count; seed++) {
            Scenario s = Scenario.random(seed);
            sizes.add(s.validators());
            twins.add(s.twins());
            kinds.add(s.byzantine());
            partitions |= s.faults().partitions();
            crashes |= s.faults().crashes() > 0;
            drops |= s.faults().dropRate() > 0;
            wiped |= s.faults().wipes() > 0;
        }
        assertThat(sizes).containsExactly(6, 7, 8, 9, 10, 11);
        assertThat(twins).containsExactly(0, 1, 2);
        assertThat(kinds).containsExactlyInAnyOrder(Byzantine.values());
        assertThat(partitions && crashes && drops && wiped).isTrue();
    }
}
