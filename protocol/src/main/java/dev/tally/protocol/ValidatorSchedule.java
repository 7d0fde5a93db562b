package dev.tally.protocol;

import dev.tally.crypto.BlsPublicKey;
import dev.tally.crypto.Keccak256;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The committee of one epoch: validators sorted by public key (their index in every signer bitmap), their
 * weights, the fault thresholds of n = 5f + 1 and the leader of each view.
 */
public final class ValidatorSchedule {
    private final List<ValidatorInfo> validators;
    private final LeaderSelection leaderSelection;
    private final Map<BlsPublicKey, Integer> index;
    private final List<Integer> leaders;
    private final long totalWeight;
    private final long leaderWeight;

    public ValidatorSchedule(List<ValidatorInfo> validators, LeaderSelection leaderSelection) {
        if (validators.isEmpty()) {
            throw new IllegalArgumentException("validator schedule is empty");
        }
        if (leaderSelection == null) {
            throw new IllegalArgumentException("leader_selection is required");
        }
        List<ValidatorInfo> sorted = new ArrayList<>(validators);
        sorted.sort(Comparator.comparing(ValidatorInfo::key));
        Map<BlsPublicKey, Integer> idx = new HashMap<>();
        List<Integer> leaderIdx = new ArrayList<>();
        long total = 0;
        long leaderTotal = 0;
        for (int i = 0; i < sorted.size(); i++) {
            ValidatorInfo v = sorted.get(i);
            if (idx.putIfAbsent(v.key(), i) != null) {
                throw new IllegalArgumentException("validator " + v.key().toText() + " appears twice in the schedule");
            }
            try {
                total = Math.addExact(total, v.weight());
            } catch (ArithmeticException e) {
                throw new IllegalArgumentException("total validator weight overflows 2^63");
            }
            if (v.leader()) {
                leaderIdx.add(i);
                leaderTotal += v.weight();
            }
        }
        if (leaderIdx.isEmpty()) {
            throw new IllegalArgumentException("validator schedule has no leader (no validator with \"leader\": true)");
        }
        this.validators = List.copyOf(sorted);
        this.leaderSelection = leaderSelection;
        this.index = Map.copyOf(idx);
        this.leaders = List.copyOf(leaderIdx);
        this.totalWeight = total;
        this.leaderWeight = leaderTotal;
    }

    /** Validators in schedule (public key) order. */
    public List<ValidatorInfo> validators() {
        return validators;
    }

    public LeaderSelection leaderSelection() {
        return leaderSelection;
    }

    public int size() {
        return validators.size();
    }

    public ValidatorInfo get(int i) {
        return validators.get(i);
    }

    public Optional<Integer> indexOf(BlsPublicKey key) {
        return Optional.ofNullable(index.get(key));
    }

    public boolean contains(BlsPublicKey key) {
        return index.containsKey(key);
    }

    public long totalWeight() {
        return totalWeight;
    }

    /** f: the largest faulty weight the protocol tolerates, floor((n - 1) / 5). */
    public long maxFaultyWeight() {
        return (totalWeight - 1) / 5;
    }

    /** n - f: the weight of a commit or timeout QC. */
    public long quorumThreshold() {
        return totalWeight - maxFaultyWeight();
    }

    /** n - 3f: the weight of matching high votes in a timeout QC that forces a reproposal. */
    public long subquorumThreshold() {
        return totalWeight - 3 * maxFaultyWeight();
    }

    public long weight(Signers signers) {
        if (signers.size() != validators.size()) {
            throw new IllegalArgumentException(
                    "signer bitmap of size " + signers.size() + " for a committee of " + validators.size());
        }
        return signers.indices().mapToLong(i -> validators.get(i).weight()).sum();
    }

    /** The leader of a view number. */
    public BlsPublicKey leader(long view) {
        long turn = view / leaderSelection.frequency();
        return switch (leaderSelection.mode()) {
            case ROUND_ROBIN ->
                validators
                        .get(leaders.get((int) Long.remainderUnsigned(turn, leaders.size())))
                        .key();
            case WEIGHTED -> weightedLeader(turn);
        };
    }

    private BlsPublicKey weightedLeader(long turn) {
        byte[] seed = ByteBuffer.allocate(Long.BYTES).putLong(turn).array();
        BigInteger drawn = new BigInteger(1, Keccak256.of(seed).bytes());
        long e = drawn.mod(BigInteger.valueOf(leaderWeight)).longValueExact();
        long running = 0;
        for (int i : leaders) {
            running += validators.get(i).weight();
            if (running > e) {
                return validators.get(i).key();
            }
        }
        throw new AssertionError("draw " + e + " beyond leader weight " + leaderWeight);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ValidatorSchedule s
                && s.validators.equals(validators)
                && s.leaderSelection.equals(leaderSelection);
    }

    @Override
    public int hashCode() {
        return validators.hashCode() * 31 + leaderSelection.hashCode();
    }

    @Override
    public String toString() {
        return "ValidatorSchedule(" + validators.size() + " validators, weight " + totalWeight + ", " + leaderSelection
                + ")";
    }
}
