package dev.tally.node;

import dev.tally.crypto.BlsSecretKey;
import dev.tally.protocol.Genesis;
import dev.tally.protocol.LeaderSelection;
import dev.tally.protocol.ValidatorInfo;
import dev.tally.protocol.ValidatorSchedule;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** The genesis of the reference implementation's test vectors (as protocol's ReferenceVectors), and its JSON. */
public final class ReferenceGenesis {
    private ReferenceGenesis() {}

    public static final String HASH =
            "genesis_hash:keccak256:879ce5d5cf25cc60c605144b1145d7572bf36b309692d0737b712ca7c0e07e1f";

    public static final List<BlsSecretKey> KEYS = List.of(
                    "validator:secret:bls12_381:27cb45b1670a1ae8d376a85821d51c7f91ebc6e32788027a84758441aaf0a987",
                    "validator:secret:bls12_381:20132edc08a529e927f155e710ae7295a2a0d249f1b1f37726894d1d0d8f0d81",
                    "validator:secret:bls12_381:0946901f0a6650284726763b12de5da0f06df0016c8ec2144cf6b1903f1979a6",
                    "validator:secret:bls12_381:3143a64c079b2f50545288d7c9b282281e05c97ac043228830a9660ddd63fea3",
                    "validator:secret:bls12_381:5512f40d33844c1c8107aa630af764005ab6e13f6bf8edb59b4ca3683727e619")
            .stream()
            .map(BlsSecretKey::fromText)
            .toList();

    /** Key i has weight i + 10; all lead; weighted selection, frequency 1. */
    public static Genesis genesis() {
        List<ValidatorInfo> validators = new ArrayList<>();
        for (int i = 0; i < KEYS.size(); i++) {
            validators.add(new ValidatorInfo(KEYS.get(i).publicKey(), i + 10, true));
        }
        ValidatorSchedule schedule =
                new ValidatorSchedule(validators, new LeaderSelection(1, LeaderSelection.Mode.WEIGHTED));
        return new Genesis(1337, 42, 2834, 2, Optional.of(schedule));
    }

    /** The same genesis written by hand (keys in file order, not schedule order), as an operator would. */
    public static String json() {
        StringBuilder validators = new StringBuilder();
        for (int i = 0; i < KEYS.size(); i++) {
            validators
                    .append(i == 0 ? "" : ",\n")
                    .append("    {\"key\": \"")
                    .append(KEYS.get(i).publicKey().toText())
                    .append("\", \"weight\": ")
                    .append(i + 10)
                    .append(", \"leader\": true}");
        }
        return """
                {
                  "chain_id": 1337,
                  "fork_number": 42,
                  "first_block": 2834,
                  "protocol_version": 2,
                  "validators": [
                %s
                  ],
                  "leader_selection": {"frequency": 1, "mode": "weighted"}
                }
                """.formatted(validators);
    }
}
