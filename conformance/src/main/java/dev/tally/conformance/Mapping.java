package dev.tally.conformance;

import dev.tally.consensus.LeaderSchedule;
import dev.tally.crypto.BlsPublicKey;
import dev.tally.crypto.BlsSecretKey;
import dev.tally.crypto.Keccak256;
import dev.tally.protocol.BlockHeader;
import dev.tally.protocol.ChonkyMessage;
import dev.tally.protocol.CommitQC;
import dev.tally.protocol.CommitQCBuilder;
import dev.tally.protocol.Epoch;
import dev.tally.protocol.FinalBlock;
import dev.tally.protocol.Genesis;
import dev.tally.protocol.LeaderProposal;
import dev.tally.protocol.LeaderSelection;
import dev.tally.protocol.Payload;
import dev.tally.protocol.PayloadHash;
import dev.tally.protocol.Phase;
import dev.tally.protocol.ProposalJustification;
import dev.tally.protocol.ReplicaCommit;
import dev.tally.protocol.ReplicaNewView;
import dev.tally.protocol.ReplicaState;
import dev.tally.protocol.ReplicaTimeout;
import dev.tally.protocol.Signed;
import dev.tally.protocol.Signers;
import dev.tally.protocol.TimeoutQC;
import dev.tally.protocol.TimeoutQCBuilder;
import dev.tally.protocol.ValidatorInfo;
import dev.tally.protocol.ValidatorSchedule;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The one place where the model's terms and Tally's objects meet, both ways, for one run of the model.
 *
 * <ul>
 *   <li>A replica key of the model ({@code n0}, ...) is a real BLS validator key derived from its name; twins
 *       ({@code n5_1}, {@code n5_2}) share the key of {@code n5} and so one identity. All weigh 1, as the model
 *       counts a quorum by the number of distinct signatures.</li>
 *   <li>A block ({@code val_b0}) is the payload of its name's bytes; its hash is that payload's keccak-256.</li>
 *   <li>A signature is a real BLS signature by the signer's key; an aggregate signature (a set of signers) is
 *       the real aggregate of their signatures with its signer bitmap.</li>
 *   <li>The model's leader map (picked at {@code init}) is the replicas' {@link LeaderSchedule}.</li>
 * </ul>
 *
 * <p>Model values are the plain values {@link Itf} reads (records are maps with the model's field names).
 */
public final class Mapping {
    private final List<String> keyNames;
    private final Map<String, BlsSecretKey> keys = new HashMap<>();
    private final Map<BlsPublicKey, String> names = new HashMap<>();
    private final Map<PayloadHash, String> blocks = new HashMap<>();
    private final Map<Long, String> leaderMap;
    private final Epoch epoch;
    /**
     * Signatures made so far, shared by the runs of one process: the runs of a corpus sign the same messages (view 0
     * and 1, the first blocks) with the same keys again and again, and BLS signing is deterministic.
     */
    private static final Map<List<Object>, Signed<? extends ChonkyMessage>> SIGNED = new ConcurrentHashMap<>();

    private static final int MAX_SIGNED = 1 << 18;
    private final Map<Object, CommitQC> commitQcs = new HashMap<>();

    /**
     * The mapping for one run of the model.
     *
     * @param keyNames every replica key of the run
     * @param leaderMap the view-to-key leader map of {@code init}
     */
    public Mapping(Set<String> keyNames, Map<Long, String> leaderMap) {
        this.keyNames = List.copyOf(new TreeSet<>(keyNames));
        List<ValidatorInfo> validators = new ArrayList<>();
        for (String name : this.keyNames) {
            BlsSecretKey key = BlsSecretKey.fromSeed(
                    Keccak256.of(("tally conformance replica key " + name).getBytes(StandardCharsets.UTF_8))
                            .bytes());
            keys.put(name, key);
            names.put(key.publicKey(), name);
            validators.add(new ValidatorInfo(key.publicKey(), 1, true));
        }
        for (String name : leaderMap.values()) {
            requireKey(name);
        }
        this.leaderMap = Map.copyOf(leaderMap);
        // The model's first block is 0; the schedule's own leader selection is never used (see leaders()).
        Genesis genesis = new Genesis(
                270,
                0,
                0,
                Genesis.PROTOCOL_VERSION,
                Optional.of(
                        new ValidatorSchedule(validators, new LeaderSelection(1, LeaderSelection.Mode.ROUND_ROBIN))));
        this.epoch = Epoch.of(genesis);
    }

    /** The key a replica id signs with: its own, or for a twin ({@code n5_1}) the key of the validator it copies. */
    public static String keyOf(String replicaId) {
        return replicaId.matches(".+_\\d+") ? replicaId.substring(0, replicaId.lastIndexOf('_')) : replicaId;
    }

    public Epoch epoch() {
        return epoch;
    }

    public List<String> keyNames() {
        return keyNames;
    }

    public BlsSecretKey secretKey(String keyName) {
        return keys.get(requireKey(keyName));
    }

    private String requireKey(String keyName) {
        if (!keys.containsKey(keyName)) {
            throw new ModelTermException(
                    "the model names a replica key " + keyName + " outside the committee " + keyNames);
        }
        return keyName;
    }

    public String nameOf(BlsPublicKey key) {
        String name = names.get(key);
        return name != null ? name : "<key " + key.toText() + " outside the run>";
    }

    /** The leaders of the model's leader map; a view outside it has no leader in the model, so neither here. */
    public LeaderSchedule leaders() {
        return view -> {
            String name = leaderMap.get(view);
            if (name == null) {
                throw new ModelTermException("the model's leader map has no view " + view);
            }
            return keys.get(name).publicKey();
        };
    }

    public String leaderOf(long view) {
        return leaderMap.get(view);
    }

    /** A validator that does not lead {@code view}: the next key after its leader. */
    public String nonLeader(long view) {
        return keyNames.get((keyNames.indexOf(leaderOf(view)) + 1) % keyNames.size());
    }

    // ------------------------------------------------------------------ model -> real

    public Payload payload(String block) {
        Payload p = Payload.of(block.getBytes(StandardCharsets.UTF_8));
        blocks.putIfAbsent(p.hash(), block);
        return p;
    }

    /** The execution layer of the model: {@code val_*} blocks are valid, {@code inv_*} ones are refused. */
    public static boolean isValid(String block) {
        return block.startsWith("val_");
    }

    public <M extends ChonkyMessage> Signed<M> sign(String keyName, M message) {
        BlsSecretKey key = secretKey(keyName);
        if (SIGNED.size() > MAX_SIGNED) {
            SIGNED.clear();
        }
        @SuppressWarnings("unchecked")
        Signed<M> s =
                (Signed<M>) SIGNED.computeIfAbsent(List.of(key.publicKey(), message), k -> Signed.sign(key, message));
        return s;
    }

    ReplicaCommit commitVote(Object model) {
        Map<?, ?> v = (Map<?, ?>) model;
        return new ReplicaCommit(
                epoch.view((Long) v.get("view")),
                new BlockHeader(
                        (Long) v.get("block_number"),
                        payload((String) v.get("block_hash")).hash()));
    }

    CommitQC commitQc(Object model) {
        CommitQC cached = commitQcs.get(model);
        if (cached != null) {
            return cached;
        }
        Map<?, ?> qc = (Map<?, ?>) model;
        ReplicaCommit vote = commitVote(qc.get("vote"));
        CommitQCBuilder builder = new CommitQCBuilder(vote, epoch.committee());
        for (Object signer : (Set<?>) qc.get("agg_sig")) {
            builder.add(sign((String) signer, vote));
        }
        CommitQC built = builder.build();
        commitQcs.put(model, built);
        return built;
    }

    private Optional<CommitQC> optionalCommitQc(Object modelOption) {
        return option(modelOption).map(this::commitQc);
    }

    /**
     * A timeout QC of the model. The model's votes carry only the view of their signer's high commit QC; the real
     * vote signs the QC itself, found among the timeout votes sent so far ({@code sentTimeoutVotes}, the model's
     * {@code msgs_signed_timeout}).
     */
    TimeoutQC timeoutQc(Object model, Set<?> sentTimeoutVotes) {
        Map<?, ?> qc = (Map<?, ?>) model;
        TimeoutQCBuilder builder = new TimeoutQCBuilder(epoch.view((Long) qc.get("ghost_view")), epoch.committee());
        for (Map.Entry<?, ?> e : ((Map<?, ?>) qc.get("votes")).entrySet()) {
            String signer = (String) e.getKey();
            Map<?, ?> vote = (Map<?, ?>) e.getValue();
            Object highQc = highQcOfTimeoutVote(signer, vote, sentTimeoutVotes, qc.get("high_commit_qc"));
            builder.add(sign(signer, timeoutVote(vote, optionalCommitQc(highQc))));
        }
        return builder.build();
    }

    private static Object highQcOfTimeoutVote(String signer, Map<?, ?> vote, Set<?> sent, Object qcHighQc) {
        if (option(vote.get("high_commit_qc_view")).isEmpty()) {
            return Variant.none();
        }
        List<Object> candidates = new ArrayList<>();
        for (Object m : sent) {
            Map<?, ?> sv = (Map<?, ?>) m;
            if (signer.equals(sv.get("sig")) && vote.equals(sv.get("vote"))) {
                candidates.add(sv.get("high_commit_qc"));
            }
        }
        // Twins may have sent the same vote with QCs of the same view but other signers: prefer the QC's own.
        if (candidates.contains(qcHighQc) || candidates.isEmpty()) {
            return qcHighQc;
        }
        return candidates.get(0);
    }

    private ReplicaTimeout timeoutVote(Map<?, ?> vote, Optional<CommitQC> highQc) {
        return new ReplicaTimeout(
                epoch.view((Long) vote.get("view")),
                option(vote.get("high_vote")).map(this::commitVote),
                highQc);
    }

    ProposalJustification justification(Object model, Set<?> sentTimeoutVotes) {
        Variant j = (Variant) model;
        return switch (j.tag()) {
            case "Commit" -> commitQc(j.value());
            case "Timeout" -> timeoutQc(j.value(), sentTimeoutVotes);
            default -> throw new ModelTermException("unknown justification " + j.tag());
        };
    }

    Signed<ReplicaCommit> signedCommitVote(Object model) {
        Map<?, ?> sv = (Map<?, ?>) model;
        return sign((String) sv.get("sig"), commitVote(sv.get("vote")));
    }

    Signed<ReplicaTimeout> signedTimeoutVote(Object model) {
        Map<?, ?> sv = (Map<?, ?>) model;
        return sign(
                (String) sv.get("sig"),
                timeoutVote((Map<?, ?>) sv.get("vote"), optionalCommitQc(sv.get("high_commit_qc"))));
    }

    Signed<ReplicaNewView> newView(Object model, Set<?> sentTimeoutVotes) {
        Map<?, ?> nv = (Map<?, ?>) model;
        return sign(
                (String) nv.get("sig"), new ReplicaNewView(justification(nv.get("justification"), sentTimeoutVotes)));
    }

    LeaderProposal proposalMessage(Object model, Set<?> sentTimeoutVotes) {
        Map<?, ?> p = (Map<?, ?>) model;
        return new LeaderProposal(
                option(p.get("block")).map(b -> payload((String) b)),
                justification(p.get("justification"), sentTimeoutVotes));
    }

    Signed<LeaderProposal> proposal(Object model, Set<?> sentTimeoutVotes) {
        return sign((String) ((Map<?, ?>) model).get("sig"), proposalMessage(model, sentTimeoutVotes));
    }

    static Optional<Object> option(Object modelOption) {
        Variant v = (Variant) modelOption;
        return v.tag().equals("Some") ? Optional.of(v.value()) : Optional.empty();
    }

    // ------------------------------------------------------------------ real -> model

    String blockName(PayloadHash hash) {
        String name = blocks.get(hash);
        return name != null ? name : "<unknown payload " + hash.toText() + ">";
    }

    private static Variant option(Optional<?> value) {
        return value.<Variant>map(Variant::some).orElseGet(Variant::none);
    }

    private static Map<String, Object> record(Object... fieldsAndValues) {
        Map<String, Object> r = new LinkedHashMap<>();
        for (int i = 0; i < fieldsAndValues.length; i += 2) {
            r.put((String) fieldsAndValues[i], fieldsAndValues[i + 1]);
        }
        return r;
    }

    Object term(ReplicaCommit vote) {
        return record(
                "view",
                vote.view().number(),
                "block_number",
                vote.proposal().number(),
                "block_hash",
                blockName(vote.proposal().payload()));
    }

    private Set<Object> signers(Signers signers) {
        Set<Object> set = new HashSet<>();
        signers.indices().forEach(i -> set.add(nameOf(epoch.committee().get(i).key())));
        return set;
    }

    Object term(CommitQC qc) {
        return record("vote", term(qc.message()), "agg_sig", signers(qc.signers()));
    }

    private Object timeoutVoteTerm(ReplicaTimeout vote) {
        return record(
                "view",
                vote.view().number(),
                "high_vote",
                option(vote.highVote().map(this::term)),
                "high_commit_qc_view",
                option(vote.highQc().map(qc -> qc.view().number())));
    }

    Object term(TimeoutQC qc) {
        Map<Object, Object> votes = new LinkedHashMap<>();
        for (TimeoutQC.Vote v : qc.votes()) {
            Object vote = timeoutVoteTerm(v.message());
            v.signers()
                    .indices()
                    .forEach(i -> votes.put(nameOf(epoch.committee().get(i).key()), vote));
        }
        return record(
                "votes",
                votes,
                "agg_sig",
                signers(qc.allSigners()),
                "high_commit_qc",
                option(qc.highQc().map(this::term)),
                "ghost_view",
                qc.view().number());
    }

    Object term(ProposalJustification j) {
        return switch (j) {
            case CommitQC qc -> new Variant("Commit", term(qc));
            case TimeoutQC qc -> new Variant("Timeout", term(qc));
        };
    }

    /** A sent message in the model's terms, with the model's name of the message set it belongs to. */
    record SentMessage(String set, Object term) {}

    SentMessage term(Signed<? extends ChonkyMessage> s) {
        String sig = nameOf(s.key());
        return switch (s.message()) {
            case ReplicaCommit c -> new SentMessage("msgs_signed_commit", record("vote", term(c), "sig", sig));
            case ReplicaTimeout t ->
                new SentMessage(
                        "msgs_signed_timeout",
                        record(
                                "vote",
                                timeoutVoteTerm(t),
                                "sig",
                                sig,
                                "high_commit_qc",
                                option(t.highQc().map(this::term))));
            case ReplicaNewView nv ->
                new SentMessage("msgs_new_view", record("justification", term(nv.justification()), "sig", sig));
            case LeaderProposal p ->
                new SentMessage(
                        "msgs_proposal",
                        record(
                                "block",
                                option(p.proposalPayload().map(pl -> blockName(pl.hash()))),
                                "justification",
                                term(p.justification()),
                                "sig",
                                sig,
                                "ghost_block_number",
                                p.justification().impliedBlock(epoch).number()));
        };
    }

    static Variant phase(Phase phase) {
        return Variant.of(
                switch (phase) {
                    case PREPARE -> "PhasePrepare";
                    case COMMIT -> "PhaseCommit";
                    case TIMEOUT -> "PhaseTimeout";
                });
    }

    /** A replica's state in the model's terms; {@code committed} are the blocks it finalized, in order. */
    Map<String, Object> term(ReplicaState state, List<FinalBlock> committed) {
        Set<Object> cached = new HashSet<>();
        state.proposals()
                .forEach(p ->
                        cached.add(List.of(p.number(), blockName(p.payload().hash()))));
        List<Object> blocksTerm = committed.stream()
                .<Object>map(b -> record("block", blockName(b.payload().hash()), "commit_qc", term(b.justification())))
                .toList();
        return record(
                "view",
                state.view(),
                "phase",
                phase(state.phase()),
                "high_vote",
                option(state.highVote().map(this::term)),
                "high_commit_qc",
                option(state.highCommitQc().map(this::term)),
                "high_timeout_qc",
                option(state.highTimeoutQc().map(this::term)),
                "cached_proposals",
                cached,
                "committed_blocks",
                blocksTerm);
    }
}
