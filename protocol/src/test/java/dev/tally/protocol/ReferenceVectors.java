package dev.tally.protocol;

import com.google.protobuf.ByteString;
import dev.tally.crypto.BlsAggregateSignature;
import dev.tally.crypto.BlsSecretKey;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

/** The hard-coded values of the reference implementation's change-detector tests, rebuilt in our types. */
public final class ReferenceVectors {
    private ReferenceVectors() {}

    public static final List<BlsSecretKey> KEYS = List.of(
                    "validator:secret:bls12_381:27cb45b1670a1ae8d376a85821d51c7f91ebc6e32788027a84758441aaf0a987",
                    "validator:secret:bls12_381:20132edc08a529e927f155e710ae7295a2a0d249f1b1f37726894d1d0d8f0d81",
                    "validator:secret:bls12_381:0946901f0a6650284726763b12de5da0f06df0016c8ec2144cf6b1903f1979a6",
                    "validator:secret:bls12_381:3143a64c079b2f50545288d7c9b282281e05c97ac043228830a9660ddd63fea3",
                    "validator:secret:bls12_381:5512f40d33844c1c8107aa630af764005ab6e13f6bf8edb59b4ca3683727e619")
            .stream()
            .map(BlsSecretKey::fromText)
            .toList();

    public static final List<Long> VIEWS = List.of(2297L, 7203L, 8394L, 9089L, 99821L);

    public static Payload payload() {
        return new Payload(ByteString.copyFrom(
                HexFormat.of().parseHex("57b79660558f18d56b5196053f64007030a1cb7eeadb5c32d816b9439f77edf5f6bd9d")));
    }

    public static ValidatorSchedule schedule() {
        List<ValidatorInfo> validators = new java.util.ArrayList<>();
        for (int i = 0; i < KEYS.size(); i++) {
            validators.add(new ValidatorInfo(KEYS.get(i).publicKey(), i + 10, true));
        }
        return new ValidatorSchedule(validators, new LeaderSelection(1, LeaderSelection.Mode.WEIGHTED));
    }

    public static Genesis genesis() {
        return new Genesis(1337, 42, 2834, 2, Optional.of(schedule()));
    }

    public static View view() {
        return new View(genesis().hash(), 7, 9136);
    }

    public static ReplicaCommit replicaCommit() {
        return new ReplicaCommit(view(), new BlockHeader(7728, payload().hash()));
    }

    /** All five keys sign, so every signer bit is set. */
    public static CommitQC commitQc() {
        ReplicaCommit vote = replicaCommit();
        byte[] hash = vote.hash().keccak().bytes();
        return new CommitQC(
                vote,
                Signers.of(5, 0, 1, 2, 3, 4),
                BlsAggregateSignature.aggregate(
                        KEYS.stream().map(k -> k.sign(hash)).toList()));
    }

    public static View timeoutView() {
        return new View(genesis().hash(), 8, 9169);
    }

    public static ReplicaTimeout replicaTimeout() {
        return new ReplicaTimeout(timeoutView(), Optional.of(replicaCommit()), Optional.of(commitQc()));
    }

    public static TimeoutQC timeoutQc() {
        ReplicaTimeout vote = replicaTimeout();
        byte[] hash = vote.hash().keccak().bytes();
        return new TimeoutQC(
                timeoutView(),
                List.of(new TimeoutQC.Vote(vote, Signers.of(5, 0, 1, 2, 3, 4))),
                BlsAggregateSignature.aggregate(
                        KEYS.stream().map(k -> k.sign(hash)).toList()));
    }

    public static ReplicaNewView replicaNewView() {
        return new ReplicaNewView(commitQc());
    }

    public static LeaderProposal leaderProposal() {
        return new LeaderProposal(Optional.of(payload()), timeoutQc());
    }
}
