package dev.tally.sim;

import dev.tally.crypto.Keccak256;
import dev.tally.protocol.LeaderSelection;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.LongStream;

/**
 * The committee of a scenario: each validator's weight, in schedule order, and the leader selection (every validator
 * may lead). Faulty validators come first in schedule order, so their weight is that of the first ones.
 */
public record Committee(List<Long> weights, LeaderSelection.Mode mode, long frequency) {
    public Committee {
        weights = List.copyOf(weights);
        if (weights.isEmpty() || weights.stream().anyMatch(w -> w < 1)) {
            throw new IllegalArgumentException("need at least one validator and weights >= 1; got " + weights);
        }
        if (frequency < 1) {
            throw new IllegalArgumentException("leader frequency must be at least 1, got " + frequency);
        }
    }

    /** n validators of weight 1 leading in turn, one view each: the committee of the reference's tests. */
    public static Committee equal(int n) {
        return new Committee(Collections.nCopies(n, 1L), LeaderSelection.Mode.ROUND_ROBIN, 1);
    }

    public int size() {
        return weights.size();
    }

    public long totalWeight() {
        return weights.stream().mapToLong(Long::longValue).sum();
    }

    /** f = (n - 1) / 5 by weight (PROTOCOL.md section 1). */
    public long maxFaultyWeight() {
        return (totalWeight() - 1) / 5;
    }

    /**
     * Whether a validator that lost its data is guarded (docs/PROTOCOL.md section 9): the others weigh more than 2f,
     * so they can show it where the network is. A dominant one (W1 there) is not, and a wipe of it is out of scope.
     */
    public boolean guardedAfterDataLoss(int validator) {
        return totalWeight() - weights.get(validator) > 2 * maxFaultyWeight();
    }

    /** The weight of validators {@code from} (inclusive) to {@code to} (exclusive), in schedule order. */
    public long weightOf(int from, int to) {
        return weights.subList(from, to).stream().mapToLong(Long::longValue).sum();
    }

    /** The weighted draw of a turn: e = keccak256(u64 big-endian turn) mod total leader weight (PROTOCOL.md 1). */
    static long weightedDraw(long turn, long leaderWeight) {
        BigInteger drawn = new BigInteger(
                1,
                Keccak256.of(ByteBuffer.allocate(Long.BYTES).putLong(turn).array())
                        .bytes());
        return drawn.mod(BigInteger.valueOf(leaderWeight)).longValueExact();
    }

    /** The first view (at most {@code upTo}) whose weighted draw is 0, or -1: there the first validator leads. */
    public long firstViewDrawingZero(long upTo) {
        if (mode != LeaderSelection.Mode.WEIGHTED) {
            return -1;
        }
        long total = totalWeight();
        return LongStream.rangeClosed(1, upTo)
                .filter(v -> weightedDraw(v / frequency, total) == 0)
                .findFirst()
                .orElse(-1);
    }

    /**
     * A random committee: equal weights a third of the time, else weights 1 to 5; leaders round robin or weighted,
     * each for 1 to 3 views. A quarter of the weighted ones get a total weight that makes an early view draw 0 (the
     * case the reference panics on, PROTOCOL.md section 8), so that the sweep surely reaches one.
     */
    static Committee random(int n, SplittableRandom r) {
        Long[] w = new Long[n];
        boolean equal = r.nextInt(3) == 0;
        for (int i = 0; i < n; i++) {
            w[i] = equal ? 1L : 1L + r.nextInt(5);
        }
        boolean weighted = r.nextBoolean();
        long frequency = r.nextInt(4) == 0 ? 2 + r.nextInt(2) : 1;
        Committee c = new Committee(
                List.of(w), weighted ? LeaderSelection.Mode.WEIGHTED : LeaderSelection.Mode.ROUND_ROBIN, frequency);
        return weighted && r.nextInt(4) == 0 ? c.withEarlyZeroDraw(r) : c;
    }

    /**
     * This committee, weighted, with the last validator's weight raised so that a view at most 4 draws 0 (turn
     * t's hash is divisible by the total weight); unchanged if no total within 4n above the current one does.
     */
    Committee withEarlyZeroDraw(SplittableRandom r) {
        long base = totalWeight();
        long start = r.nextInt(4 * size());
        for (long extra = 0; extra <= 4L * size(); extra++) {
            long total = base + (start + extra) % (4L * size() + 1);
            for (long view = 1; view <= 4; view++) {
                if (weightedDraw(view / frequency, total) == 0) {
                    Long[] w = weights.toArray(Long[]::new);
                    w[w.length - 1] += total - base;
                    return new Committee(List.of(w), LeaderSelection.Mode.WEIGHTED, frequency);
                }
            }
        }
        return new Committee(weights, LeaderSelection.Mode.WEIGHTED, frequency);
    }

    @Override
    public String toString() {
        boolean equal = weights.stream().allMatch(w -> w == 1);
        return (equal ? "" : "weights " + weights + ", ")
                + CliNames.of(mode)
                + (frequency == 1 ? "" : " x" + frequency);
    }
}
