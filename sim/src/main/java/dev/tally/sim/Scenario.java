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
public record Scenario(
        long seed,
        Committee committee,
        int twins,
        Byzantine byzantine,
        int byzantineCount,
        Faults faults,
        Delivery delivery,
        Breakage breakage) {
    public Scenario {
        int n = committee.size();
        if (twins < 0 || twins > n || byzantineCount < 0 || twins + byzantineCount > n) {
            throw new IllegalArgumentException("need 1 <= n, 0 <= twins + byzantine <= n; got n=" + n + ", twins="
                    + twins + ", byzantine=" + byzantineCount);
        }
        if ((byzantine == Byzantine.NONE) != (byzantineCount == 0)) {
            throw new IllegalArgumentException("a Byzantine kind needs a count above 0, and NONE a count of 0");
        }
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
        long heaviest =
                committee.weights().stream().mapToLong(Long::longValue).max().orElseThrow();
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
        return builder()
                .seed(seed)
                .committee(committee)
                .twins(twins)
                .byzantine(kind, byz)
                .faults(faults)
                .delivery(delivery)
                .build();
    }

    static Faults randomFaults(SplittableRandom r) {
        boolean calm = r.nextInt(5) == 0;
        if (calm) {
            return Faults.builder().maxDelayMillis(1 + r.nextInt(30)).build();
        }
        // The draws in this order: each seed's faults stay what they were.
        return Faults.builder()
                .dropRate(r.nextDouble() * 0.3)
                .duplicateRate(r.nextDouble() * 0.1)
                .maxDelayMillis(5 + r.nextInt(400))
                .partitions(r.nextBoolean())
                .crashes(r.nextInt(4))
                .wipes(r.nextInt(4) == 0 ? 1 : 0)
                .gstMillis(1_000 + r.nextInt(6_000))
                .build();
    }

    public Scenario withSeed(long s) {
        return toBuilder().seed(s).build();
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
        return toBuilder()
                .committee(c)
                .twins(0)
                .byzantine(kind, kind == Byzantine.NONE ? 0 : 1)
                .breakage(b)
                .build();
    }

    /**
     * A scenario named part by part: {@code Scenario.builder().seed(1).validators(6).byzantine(Byzantine.WITHHOLDER, 1)
     * .build()}. Seed and committee are required; by default there are no twins, no Byzantine validators, no faults,
     * random delivery and no broken replica.
     */
    public static Builder builder() {
        return new Builder();
    }

    /** A builder holding this scenario, to change some of its parts. */
    public Builder toBuilder() {
        return new Builder()
                .seed(seed)
                .committee(committee)
                .twins(twins)
                .byzantine(byzantine, byzantineCount)
                .faults(faults)
                .delivery(delivery)
                .breakage(breakage);
    }

    /** Sets the components of a {@link Scenario} by name. */
    public static final class Builder {
        private Long seed;
        private Committee committee;
        private int twins;
        private Byzantine byzantine = Byzantine.NONE;
        private int byzantineCount;
        private Faults faults = Faults.NONE;
        private Delivery delivery = Delivery.RANDOM;
        private Breakage breakage = Breakage.NONE;

        private Builder() {}

        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        public Builder committee(Committee committee) {
            this.committee = committee;
            return this;
        }

        /** A committee of {@code n} validators of equal weight, leading round robin ({@link Committee#equal}). */
        public Builder validators(int n) {
            return committee(Committee.equal(n));
        }

        public Builder twins(int count) {
            this.twins = count;
            return this;
        }

        /** {@code count} validators (after the twins) behave as {@code kind}. */
        public Builder byzantine(Byzantine kind, int count) {
            this.byzantine = kind;
            this.byzantineCount = count;
            return this;
        }

        public Builder faults(Faults faults) {
            this.faults = faults;
            return this;
        }

        public Builder delivery(Delivery delivery) {
            this.delivery = delivery;
            return this;
        }

        public Builder breakage(Breakage breakage) {
            this.breakage = breakage;
            return this;
        }

        /** The scenario, checked as {@link Scenario} checks it. */
        public Scenario build() {
            if (seed == null || committee == null) {
                throw new IllegalStateException(
                        "a scenario needs a seed and a committee; got seed " + seed + ", committee " + committee);
            }
            return new Scenario(seed, committee, twins, byzantine, byzantineCount, faults, delivery, breakage);
        }
    }

    @Override
    public String toString() {
        return "seed " + seed + ": n=" + validators() + " (" + committee + ") twins=" + twins
                + (byzantine == Byzantine.NONE ? "" : " byzantine=" + byzantineCount + "x" + byzantine.cliName())
                + (breakage == Breakage.NONE ? "" : " broken=" + breakage.cliName())
                + (delivery == Delivery.RANDOM ? "" : " delivery=" + delivery.cliName()) + " [" + faults + "]";
    }
}
