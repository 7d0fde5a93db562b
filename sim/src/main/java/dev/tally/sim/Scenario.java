package dev.tally.sim;

import java.util.SplittableRandom;

/**
 * One simulated run: everything that varies between runs is here, and the seed drives every random choice,
 * so a scenario replays byte for byte.
 *
 * @param committee the validators' weights (in schedule order) and leader selection
 * @param twins how many validators (the first ones) run as two nodes sharing one key
 * @param byzantine what the faulty validators do
 * @param byzantineCount how many validators (after the twins) behave as {@code byzantine}
 * @param delivery the order the network delivers messages in
 * @param breakage a deliberately broken honest replica (self-check), or NONE
 */
public record Scenario(long seed, Committee committee, int twins, Byzantine byzantine, int byzantineCount, Faults faults,
        Delivery delivery, Breakage breakage) {
    public Scenario {
        int n = committee.size();
        if (twins < 0 || twins > n || byzantineCount < 0 || twins + byzantineCount > n) {
            throw new IllegalArgumentException("need 1 <= n, 0 <= twins + byzantine <= n; got n=" + n
                    + ", twins=" + twins + ", byzantine=" + byzantineCount);
        }
        if ((byzantine == Byzantine.NONE) != (byzantineCount == 0)) {
            throw new IllegalArgumentException("a Byzantine kind needs a count above 0, and NONE a count of 0");
        }
    }

    /** A committee of {@code validators} equal weights, round robin, delivered in random order. */
    public Scenario(long seed, int validators, int twins, Byzantine byzantine, int byzantineCount, Faults faults, Breakage breakage) {
        this(seed, Committee.equal(validators), twins, byzantine, byzantineCount, faults, Delivery.RANDOM, breakage);
    }

    public int validators() {
        return committee.size();
    }

    /** The most faulty weight the committee tolerates: f = (n - 1) / 5, n the total weight. */
    public long maxFaulty() {
        return committee.maxFaultyWeight();
    }

    /** The weight of the twins and Byzantine validators. */
    public long faultyWeight() {
        return committee.weightOf(0, twins + byzantineCount);
    }

    /**
     * Whether agreement and the other safety invariants must hold: faulty keys (twins, Byzantine) weigh at most f.
     * A validator that lost its data and restarted is honest and not counted (issue 14, part 2): the protocol must
     * stay safe with f faulty keys plus any number of wipes.
     */
    public boolean safetyExpected() {
        return faultyWeight() <= maxFaulty();
    }

    /**
     * Whether blocks must keep being finalized after stabilisation: faulty keys and wiped validators together weigh
     * at most f. A wiped validator abstains until it has caught up, so for liveness it is absent for a while; which
     * validator a wipe strikes is drawn during the run, so each counts as the heaviest validator.
     */
    public boolean livenessExpected() {
        long heaviest = committee.weights().stream().mapToLong(Long::longValue).max().orElseThrow();
        return faultyWeight() + faults.wipes() * heaviest <= maxFaulty();
    }

    /**
     * A scenario of the CI sweep: n in [6, 11] validators with random weights and leader selection, faulty keys
     * (twins and one Byzantine kind) within f, a random mix of drops, duplicates, delays, partitions, crashes and
     * wipes before stabilisation (wipes also next to Byzantine validators), and sometimes the proposal-before-QC
     * delivery order.
     */
    public static Scenario random(long seed) {
        SplittableRandom r = new SplittableRandom(seed ^ 0x5eed5eedL);
        int n = 6 + r.nextInt(6);
        Committee committee = Committee.random(n, r);
        long f = committee.maxFaultyWeight();
        int twins = r.nextInt(3);
        @SuppressWarnings("EnumOrdinal") // a seeded draw: the declaration order is part of what a seed means
        Byzantine kind = Byzantine.values()[r.nextInt(Byzantine.values().length)];
        int byz = kind == Byzantine.NONE ? 0 : 1;
        while (committee.weightOf(0, twins + byz) > f) {
            if (twins > 0) {
                twins--;
            } else {
                kind = Byzantine.NONE;
                byz = 0;
            }
        }
        Faults faults = randomFaults(r);
        Delivery delivery = r.nextInt(8) == 0 ? Delivery.PROPOSAL_BEFORE_QC : Delivery.RANDOM;
        return new Scenario(seed, committee, twins, kind, byz, faults, delivery, Breakage.NONE);
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
        return new Scenario(s, committee, twins, byzantine, byzantineCount, faults, delivery, breakage);
    }

    /**
     * This scenario with one broken replica (the last validator) among honest ones, next to the faulty validator it
     * needs to show (a broken replica that accepts forgeries is seen only where someone forges) and in the committee
     * it needs (a wrong weighted leader shows where the weighted draw is 0).
     */
    public Scenario withBreakage(Breakage b, SplittableRandom r) {
        Committee c = b == Breakage.WRONG_WEIGHTED_LEADER ? committee.withEarlyZeroDraw(r) : committee;
        Byzantine kind = b.needs();
        if (kind != Byzantine.NONE && c.weights().get(0) > c.maxFaultyWeight()) {
            java.util.List<Long> w = new java.util.ArrayList<>(c.weights());
            w.set(0, 1L); // the faulty validator within f (n >= 6 makes f >= 1)
            c = new Committee(w, c.mode(), c.frequency());
        }
        return new Scenario(seed, c, 0, kind, kind == Byzantine.NONE ? 0 : 1, faults, delivery, b);
    }

    @Override
    public String toString() {
        return "seed " + seed + ": n=" + validators() + " (" + committee + ") twins=" + twins
                + (byzantine == Byzantine.NONE ? "" : " byzantine=" + byzantineCount + "x" + byzantine.cliName())
                + (breakage == Breakage.NONE ? "" : " broken=" + breakage.cliName())
                + (delivery == Delivery.RANDOM ? "" : " delivery=" + delivery.cliName()) + " [" + faults + "]";
    }
}
