package dev.tally.sim;

import java.util.SplittableRandom;

/**
 * One simulated run: everything that varies between runs is here, and the seed drives every random choice,
 * so a scenario replays byte for byte.
 *
 * @param validators committee size n (equal weights)
 * @param twins how many validators run as two nodes sharing one key
 * @param byzantine what the faulty validators do
 * @param byzantineCount how many validators (not twins) behave as {@code byzantine}
 * @param breakage a deliberately broken honest replica (self-check), or NONE
 */
public record Scenario(long seed, int validators, int twins, Byzantine byzantine, int byzantineCount, Faults faults, Breakage breakage) {
    public Scenario {
        if (validators < 1 || twins < 0 || twins > validators || byzantineCount < 0 || twins + byzantineCount > validators) {
            throw new IllegalArgumentException("need 1 <= n, 0 <= twins + byzantine <= n; got n=" + validators
                    + ", twins=" + twins + ", byzantine=" + byzantineCount);
        }
        if ((byzantine == Byzantine.NONE) != (byzantineCount == 0)) {
            throw new IllegalArgumentException("a Byzantine kind needs a count above 0, and NONE a count of 0");
        }
    }

    /** The most faulty weight the committee tolerates: f = (n - 1) / 5. */
    public int maxFaulty() {
        return (validators - 1) / 5;
    }

    /**
     * Whether the faults stay within f, where the protocol promises safety and liveness. A validator that lost its
     * data counts: it must abstain where it may have voted before, so it is as good as absent for a while.
     */
    public boolean withinFaultBound() {
        return twins + byzantineCount + faults.wipes() <= maxFaulty();
    }

    /**
     * A scenario of the CI sweep: n in [6, 11], faulty keys (twins and one Byzantine kind) within f, and a
     * random mix of drops, duplicates, delays, partitions and crashes before stabilisation.
     */
    public static Scenario random(long seed) {
        SplittableRandom r = new SplittableRandom(seed ^ 0x5eed5eedL);
        int n = 6 + r.nextInt(6);
        int f = (n - 1) / 5;
        int twins = r.nextInt(Math.min(2, f) + 1);
        Byzantine kind = Byzantine.NONE;
        int byz = 0;
        if (twins < f || r.nextInt(3) == 0) {
            kind = Byzantine.values()[r.nextInt(Byzantine.values().length)];
            if (kind != Byzantine.NONE) {
                byz = 1;
                twins = Math.min(twins, f - byz);
            }
        }
        Faults faults = randomFaults(r);
        if (twins + byz + faults.wipes() > f) {
            faults = new Faults(faults.dropRate(), faults.duplicateRate(), faults.maxDelayMillis(), faults.partitions(),
                    faults.crashes(), 0, faults.gstMillis());
        }
        return new Scenario(seed, n, twins, kind, byz, faults, Breakage.NONE);
    }

    static Faults randomFaults(SplittableRandom r) {
        boolean calm = r.nextInt(5) == 0;
        if (calm) {
            return new Faults(0, 0, 1 + r.nextInt(30), false, 0, 0, 0);
        }
        return new Faults(r.nextDouble() * 0.3, r.nextDouble() * 0.1, 5 + r.nextInt(400), r.nextBoolean(),
                r.nextInt(4), r.nextInt(4) == 0 ? 1 : 0, 1_000 + r.nextInt(6_000));
    }

    public Scenario withSeed(long s) {
        return new Scenario(s, validators, twins, byzantine, byzantineCount, faults, breakage);
    }

    @Override
    public String toString() {
        return "seed " + seed + ": n=" + validators + " twins=" + twins
                + (byzantine == Byzantine.NONE ? "" : " byzantine=" + byzantineCount + "x" + byzantine.cliName())
                + (breakage == Breakage.NONE ? "" : " broken=" + breakage.cliName()) + " [" + faults + "]";
    }
}
