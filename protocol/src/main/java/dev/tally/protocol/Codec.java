package dev.tally.protocol;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import dev.tally.crypto.BlsAggregateSignature;
import dev.tally.crypto.BlsPublicKey;
import dev.tally.crypto.BlsSignature;
import dev.tally.crypto.Keccak256;
import dev.tally.protocol.proto.Std;
import dev.tally.protocol.proto.Validator;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Canonical protobuf encoding of the protocol types, byte-compatible with the reference implementation:
 * proto3 with explicit presence, ascending field order, no unknown fields. Decoding accepts any valid
 * encoding without unknown fields and names the first field at fault; hashes are always taken over the
 * re-encoded value, never the received bytes.
 */
public final class Codec {
    private Codec() {}

    // ---------------------------------------------------------------- public entry points

    public static byte[] encode(Genesis g) {
        return genesis(g).toByteArray();
    }

    public static Genesis decodeGenesis(byte[] bytes) throws DecodeException {
        return decode(bytes, Validator.Genesis.parser(), "Genesis", Codec::genesis);
    }

    /** The bytes whose keccak-256 a validator signs: the `Msg` envelope around the consensus message. */
    static byte[] encodeSignedPart(ChonkyMessage m) {
        return envelope(m).toByteArray();
    }

    public static byte[] encode(Signed<? extends ChonkyMessage> s) {
        return signed(s).toByteArray();
    }

    public static Signed<ChonkyMessage> decodeSigned(byte[] bytes) throws DecodeException {
        return parseSigned(bytes).decode();
    }

    /**
     * A signed consensus message parsed, with its kind, view and author known, but its content not yet decoded: the
     * signatures and QCs in it cost tens of microseconds each to decompress and check, which a receiver that would
     * ignore the message (an old view, say) need not pay.
     */
    public static final class ParsedSigned {
        private final Validator.Signed proto;
        private final Class<? extends ChonkyMessage> kind;
        private final View view;
        private final BlsPublicKey author;

        private ParsedSigned(
                Validator.Signed proto, Class<? extends ChonkyMessage> kind, View view, BlsPublicKey author) {
            this.proto = proto;
            this.kind = kind;
            this.view = view;
            this.author = author;
        }

        public Class<? extends ChonkyMessage> kind() {
            return kind;
        }

        public View view() {
            return view;
        }

        public BlsPublicKey author() {
            return author;
        }

        /** The whole message, every point decoded and checked. */
        public Signed<ChonkyMessage> decode() throws DecodeException {
            return converted(() -> signed(proto, FieldPath.root("Signed")), "Signed");
        }
    }

    /** Parses a signed consensus message as far as its kind, view and author; see {@link ParsedSigned}. */
    public static ParsedSigned parseSigned(byte[] bytes) throws DecodeException {
        return decode(bytes, Validator.Signed.parser(), "Signed", (p, path) -> {
            Validator.ChonkyMsgV2 m = chonkyProto(p, path);
            FieldPath mpath = path.field("msg.consensus.v2");
            Class<? extends ChonkyMessage> kind;
            View view;
            switch (m.getTCase()) {
                case REPLICA_COMMIT -> {
                    kind = ReplicaCommit.class;
                    view = requiredView(
                            m.getReplicaCommit().hasView(),
                            m.getReplicaCommit().getView(),
                            mpath.field("replica_commit.view"));
                }
                case REPLICA_TIMEOUT -> {
                    kind = ReplicaTimeout.class;
                    view = requiredView(
                            m.getReplicaTimeout().hasView(),
                            m.getReplicaTimeout().getView(),
                            mpath.field("replica_timeout.view"));
                }
                case REPLICA_NEW_VIEW -> {
                    kind = ReplicaNewView.class;
                    view = justifiedView(
                            m.getReplicaNewView().hasJustification(),
                            m.getReplicaNewView().getJustification(),
                            mpath.field("replica_new_view.justification"));
                }
                case LEADER_PROPOSAL -> {
                    kind = LeaderProposal.class;
                    view = justifiedView(
                            m.getLeaderProposal().hasJustification(),
                            m.getLeaderProposal().getJustification(),
                            mpath.field("leader_proposal.justification"));
                }
                case T_NOT_SET -> throw missing(mpath.field("t"));
                default -> throw new DecodeException(mpath + ": unknown message kind " + m.getTCase());
            }
            require(p.hasKey(), path.field("key"));
            return new ParsedSigned(p, kind, view, publicKey(p.getKey(), path.field("key")));
        });
    }

    private static View requiredView(boolean present, Validator.ViewV2 p, FieldPath path) throws DecodeException {
        require(present, path);
        return view(p, path);
    }

    /** The view a justification starts: the one after its QC's. */
    private static View justifiedView(boolean present, Validator.ProposalJustificationV2 p, FieldPath path)
            throws DecodeException {
        require(present, path);
        View qcView = switch (p.getTCase()) {
            case COMMIT_QC -> {
                var qc = p.getCommitQc();
                require(qc.hasMsg(), path.field("commit_qc.msg"));
                yield requiredView(qc.getMsg().hasView(), qc.getMsg().getView(), path.field("commit_qc.msg.view"));
            }
            case TIMEOUT_QC ->
                requiredView(p.getTimeoutQc().hasView(), p.getTimeoutQc().getView(), path.field("timeout_qc.view"));
            case T_NOT_SET -> throw missing(path.field("t"));
        };
        return qcView.next();
    }

    public static byte[] encode(FinalBlock b) {
        return Validator.Block.newBuilder().setFinalV2(finalBlock(b)).build().toByteArray();
    }

    public static FinalBlock decodeFinalBlock(byte[] bytes) throws DecodeException {
        return decode(bytes, Validator.Block.parser(), "Block", (p, path) -> {
            return switch (p.getTCase()) {
                case FINAL_V2 -> finalBlock(p.getFinalV2(), path.field("final_v2"));
                case PRE_GENESIS -> throw new DecodeException(path + ": pre-genesis blocks are not supported");
                case T_NOT_SET -> throw missing(path.field("t"));
            };
        });
    }

    public static byte[] encode(ReplicaState s) {
        return Validator.ReplicaState.newBuilder()
                .setV2(replicaState(s))
                .build()
                .toByteArray();
    }

    public static ReplicaState decodeReplicaState(byte[] bytes) throws DecodeException {
        return decode(bytes, Validator.ReplicaState.parser(), "ReplicaState", (p, path) -> {
            if (!p.hasV2()) {
                throw new DecodeException(path + ": only the ChonkyBFT v2 replica state is supported");
            }
            return replicaState(p.getV2(), path.field("v2"));
        });
    }

    public static byte[] encode(CommitQC qc) {
        return commitQc(qc).toByteArray();
    }

    /** A commit or timeout QC as the justification oneof: a stable identity for caching verified QCs. */
    public static byte[] encode(ProposalJustification j) {
        return justification(j).toByteArray();
    }

    public static CommitQC decodeCommitQc(byte[] bytes) throws DecodeException {
        return decode(bytes, Validator.CommitQCV2.parser(), "CommitQC", Codec::commitQc);
    }

    // ---------------------------------------------------------------- decoding machinery

    @FunctionalInterface
    interface FromProto<P, T> {
        T apply(P proto, FieldPath path) throws DecodeException;
    }

    private static <P extends Message, T> T decode(
            byte[] bytes, com.google.protobuf.Parser<P> parser, String name, FromProto<P, T> convert)
            throws DecodeException {
        P proto;
        try {
            proto = parser.parseFrom(bytes);
        } catch (InvalidProtocolBufferException e) {
            throw new DecodeException(name + ": not a valid protobuf encoding: " + e.getMessage(), e);
        }
        FieldPath root = FieldPath.root(name);
        UnknownFields.reject(proto, root);
        return converted(() -> convert.apply(proto, root), name);
    }

    private interface Conversion<T> {
        T get() throws DecodeException;
    }

    /** Runs a conversion from protobuf, reporting a value's validation error as a decoding error of {@code name}. */
    private static <T> T converted(Conversion<T> conversion, String name) throws DecodeException {
        try {
            return conversion.get();
        } catch (IllegalArgumentException | ArithmeticException | IndexOutOfBoundsException e) {
            throw new DecodeException(name + ": " + e.getMessage(), e);
        }
    }

    private static DecodeException missing(FieldPath path) {
        return new DecodeException(path + ": required field is missing");
    }

    private static void require(boolean present, FieldPath path) throws DecodeException {
        if (!present) {
            throw missing(path);
        }
    }

    private static long unsigned(long v, FieldPath path) throws DecodeException {
        if (v < 0) {
            throw new DecodeException(path + ": " + Long.toUnsignedString(v) + " is out of range (max 2^63 - 1)");
        }
        return v;
    }

    /** Runs a value constructor, attributing its validation error to {@code path}. */
    private static <T> T field(java.util.function.Supplier<T> construct, FieldPath path) throws DecodeException {
        try {
            return construct.get();
        } catch (IllegalArgumentException e) {
            throw new DecodeException(path + ": " + e.getMessage(), e);
        }
    }

    // ---------------------------------------------------------------- keys and hashes

    private static Validator.PublicKey publicKey(BlsPublicKey k) {
        return Validator.PublicKey.newBuilder()
                .setBls12381(ByteString.copyFrom(k.bytes()))
                .build();
    }

    private static BlsPublicKey publicKey(Validator.PublicKey p, FieldPath path) throws DecodeException {
        require(p.hasBls12381(), path.field("bls12_381"));
        return field(() -> BlsPublicKey.fromBytes(p.getBls12381().toByteArray()), path);
    }

    private static Keccak256 keccak(boolean has, ByteString b, FieldPath path) throws DecodeException {
        require(has, path.field("keccak256"));
        return field(() -> new Keccak256(b.toByteArray()), path);
    }

    private static Validator.GenesisHash genesisHash(GenesisHash h) {
        return Validator.GenesisHash.newBuilder()
                .setKeccak256(ByteString.copyFrom(h.keccak().bytes()))
                .build();
    }

    private static Validator.PayloadHash payloadHash(PayloadHash h) {
        return Validator.PayloadHash.newBuilder()
                .setKeccak256(ByteString.copyFrom(h.keccak().bytes()))
                .build();
    }

    private static Validator.AggregateSignature aggregate(BlsAggregateSignature s) {
        return Validator.AggregateSignature.newBuilder()
                .setBls12381(ByteString.copyFrom(s.bytes()))
                .build();
    }

    private static BlsAggregateSignature aggregate(Validator.AggregateSignature p, FieldPath path)
            throws DecodeException {
        require(p.hasBls12381(), path.field("bls12_381"));
        return field(() -> BlsAggregateSignature.fromBytes(p.getBls12381().toByteArray()), path);
    }

    private static Std.BitVector signers(Signers s) {
        return Std.BitVector.newBuilder()
                .setSize(s.size())
                .setBytes(ByteString.copyFrom(s.toBitVectorBytes()))
                .build();
    }

    private static Signers signers(Std.BitVector p, FieldPath path) throws DecodeException {
        require(p.hasSize(), path.field("size"));
        require(p.hasBytes(), path.field("bytes_"));
        return field(() -> Signers.fromBitVector(p.getSize(), p.getBytes().toByteArray()), path);
    }

    // ---------------------------------------------------------------- genesis and schedule

    private static Validator.Genesis genesis(Genesis g) {
        var b = Validator.Genesis.newBuilder()
                .setChainId(g.chainId())
                .setForkNumber(g.forkNumber())
                .setFirstBlock(g.firstBlock())
                .setProtocolVersion(g.protocolVersion());
        g.schedule().ifPresent(s -> b.setValidatorsSchedule(schedule(s)));
        return b.build();
    }

    private static Genesis genesis(Validator.Genesis p, FieldPath path) throws DecodeException {
        require(p.hasChainId(), path.field("chain_id"));
        require(p.hasForkNumber(), path.field("fork_number"));
        require(p.hasFirstBlock(), path.field("first_block"));
        require(p.hasProtocolVersion(), path.field("protocol_version"));
        Optional<ValidatorSchedule> schedule = p.hasValidatorsSchedule()
                ? Optional.of(schedule(p.getValidatorsSchedule(), path.field("validators_schedule")))
                : Optional.empty();
        long firstBlock = unsigned(p.getFirstBlock(), path.field("first_block"));
        return field(
                () -> new Genesis(p.getChainId(), p.getForkNumber(), firstBlock, p.getProtocolVersion(), schedule),
                path);
    }

    public static Validator.ValidatorSchedule schedule(ValidatorSchedule s) {
        var b = Validator.ValidatorSchedule.newBuilder();
        for (ValidatorInfo v : s.validators()) {
            b.addValidators(Validator.ValidatorInfo.newBuilder()
                    .setKey(publicKey(v.key()))
                    .setWeight(v.weight())
                    .setLeader(v.leader()));
        }
        var mode = Validator.LeaderSelectionMode.newBuilder();
        switch (s.leaderSelection().mode()) {
            case ROUND_ROBIN -> mode.setRoundRobin(Validator.LeaderSelectionMode.RoundRobin.getDefaultInstance());
            case WEIGHTED -> mode.setWeighted(Validator.LeaderSelectionMode.Weighted.getDefaultInstance());
        }
        b.setLeaderSelection(Validator.LeaderSelection.newBuilder()
                .setFrequency(s.leaderSelection().frequency())
                .setMode(mode));
        return b.build();
    }

    private static ValidatorSchedule schedule(Validator.ValidatorSchedule p, FieldPath path) throws DecodeException {
        List<ValidatorInfo> validators = new ArrayList<>();
        for (int i = 0; i < p.getValidatorsCount(); i++) {
            var v = p.getValidators(i);
            FieldPath vp = path.field("validators").element(i);
            require(v.hasKey(), vp.field("key"));
            require(v.hasWeight(), vp.field("weight"));
            require(v.hasLeader(), vp.field("leader"));
            BlsPublicKey key = publicKey(v.getKey(), vp.field("key"));
            validators.add(field(() -> new ValidatorInfo(key, v.getWeight(), v.getLeader()), vp.field("weight")));
        }
        require(p.hasLeaderSelection(), path.field("leader_selection"));
        var ls = p.getLeaderSelection();
        require(ls.hasFrequency(), path.field("leader_selection.frequency"));
        require(ls.hasMode(), path.field("leader_selection.mode"));
        LeaderSelection.Mode mode = switch (ls.getMode().getModeCase()) {
            case ROUND_ROBIN -> LeaderSelection.Mode.ROUND_ROBIN;
            case WEIGHTED -> LeaderSelection.Mode.WEIGHTED;
            case MODE_NOT_SET -> throw missing(path.field("leader_selection.mode.mode"));
        };
        LeaderSelection selection =
                field(() -> new LeaderSelection(ls.getFrequency(), mode), path.field("leader_selection"));
        return field(() -> new ValidatorSchedule(validators, selection), path);
    }

    // ---------------------------------------------------------------- views, votes, QCs

    private static Validator.ViewV2 view(View v) {
        return Validator.ViewV2.newBuilder()
                .setGenesis(genesisHash(v.genesis()))
                .setNumber(v.number())
                .setEpoch(v.epoch())
                .build();
    }

    private static View view(Validator.ViewV2 p, FieldPath path) throws DecodeException {
        require(p.hasGenesis(), path.field("genesis"));
        require(p.hasNumber(), path.field("number"));
        require(p.hasEpoch(), path.field("epoch"));
        GenesisHash g = new GenesisHash(
                keccak(p.getGenesis().hasKeccak256(), p.getGenesis().getKeccak256(), path.field("genesis")));
        return new View(g, unsigned(p.getEpoch(), path.field("epoch")), unsigned(p.getNumber(), path.field("number")));
    }

    private static Validator.BlockHeaderV2 header(BlockHeader h) {
        return Validator.BlockHeaderV2.newBuilder()
                .setNumber(h.number())
                .setPayload(payloadHash(h.payload()))
                .build();
    }

    private static BlockHeader header(Validator.BlockHeaderV2 p, FieldPath path) throws DecodeException {
        require(p.hasNumber(), path.field("number"));
        require(p.hasPayload(), path.field("payload"));
        PayloadHash h = new PayloadHash(
                keccak(p.getPayload().hasKeccak256(), p.getPayload().getKeccak256(), path.field("payload")));
        return new BlockHeader(unsigned(p.getNumber(), path.field("number")), h);
    }

    private static Validator.ReplicaCommitV2 replicaCommit(ReplicaCommit m) {
        return Validator.ReplicaCommitV2.newBuilder()
                .setView(view(m.view()))
                .setProposal(header(m.proposal()))
                .build();
    }

    private static ReplicaCommit replicaCommit(Validator.ReplicaCommitV2 p, FieldPath path) throws DecodeException {
        require(p.hasView(), path.field("view"));
        require(p.hasProposal(), path.field("proposal"));
        return new ReplicaCommit(
                view(p.getView(), path.field("view")), header(p.getProposal(), path.field("proposal")));
    }

    private static Validator.CommitQCV2 commitQc(CommitQC qc) {
        return Validator.CommitQCV2.newBuilder()
                .setMsg(replicaCommit(qc.message()))
                .setSigners(signers(qc.signers()))
                .setSig(aggregate(qc.signature()))
                .build();
    }

    private static CommitQC commitQc(Validator.CommitQCV2 p, FieldPath path) throws DecodeException {
        require(p.hasMsg(), path.field("msg"));
        require(p.hasSigners(), path.field("signers"));
        require(p.hasSig(), path.field("sig"));
        return new CommitQC(
                replicaCommit(p.getMsg(), path.field("msg")),
                signers(p.getSigners(), path.field("signers")),
                aggregate(p.getSig(), path.field("sig")));
    }

    private static Validator.ReplicaTimeoutV2 replicaTimeout(ReplicaTimeout m) {
        var b = Validator.ReplicaTimeoutV2.newBuilder().setView(view(m.view()));
        m.highVote().ifPresent(v -> b.setHighVote(replicaCommit(v)));
        m.highQc().ifPresent(q -> b.setHighQc(commitQc(q)));
        return b.build();
    }

    private static ReplicaTimeout replicaTimeout(Validator.ReplicaTimeoutV2 p, FieldPath path) throws DecodeException {
        require(p.hasView(), path.field("view"));
        Optional<ReplicaCommit> highVote = p.hasHighVote()
                ? Optional.of(replicaCommit(p.getHighVote(), path.field("high_vote")))
                : Optional.empty();
        Optional<CommitQC> highQc =
                p.hasHighQc() ? Optional.of(commitQc(p.getHighQc(), path.field("high_qc"))) : Optional.empty();
        return new ReplicaTimeout(view(p.getView(), path.field("view")), highVote, highQc);
    }

    private static Validator.TimeoutQCV2 timeoutQc(TimeoutQC qc) {
        var b = Validator.TimeoutQCV2.newBuilder().setView(view(qc.view())).setSig(aggregate(qc.signature()));
        for (TimeoutQC.Vote v : qc.votes()) {
            b.addMsgs(replicaTimeout(v.message()));
            b.addSigners(signers(v.signers()));
        }
        return b.build();
    }

    private static TimeoutQC timeoutQc(Validator.TimeoutQCV2 p, FieldPath path) throws DecodeException {
        require(p.hasView(), path.field("view"));
        require(p.hasSig(), path.field("sig"));
        if (p.getMsgsCount() != p.getSignersCount()) {
            throw new DecodeException(path + ": " + p.getMsgsCount() + " msgs but " + p.getSignersCount() + " signers");
        }
        List<TimeoutQC.Vote> votes = new ArrayList<>();
        for (int i = 0; i < p.getMsgsCount(); i++) {
            votes.add(new TimeoutQC.Vote(
                    replicaTimeout(p.getMsgs(i), path.field("msgs").element(i)),
                    signers(p.getSigners(i), path.field("signers").element(i))));
        }
        votes.sort((a, b) -> Ordering.REPLICA_TIMEOUT.compare(a.message(), b.message()));
        for (int i = 1; i < votes.size(); i++) {
            if (votes.get(i - 1).message().equals(votes.get(i).message())) {
                throw new DecodeException(path.field("msgs") + ": the same timeout vote appears twice");
            }
        }
        return new TimeoutQC(view(p.getView(), path.field("view")), votes, aggregate(p.getSig(), path.field("sig")));
    }

    /** The canonical order of a timeout QC's votes; builders must produce it. */
    public static List<TimeoutQC.Vote> canonicalOrder(List<TimeoutQC.Vote> votes) {
        List<TimeoutQC.Vote> sorted = new ArrayList<>(votes);
        sorted.sort((a, b) -> Ordering.REPLICA_TIMEOUT.compare(a.message(), b.message()));
        return sorted;
    }

    private static Validator.ProposalJustificationV2 justification(ProposalJustification j) {
        var b = Validator.ProposalJustificationV2.newBuilder();
        switch (j) {
            case CommitQC qc -> b.setCommitQc(commitQc(qc));
            case TimeoutQC qc -> b.setTimeoutQc(timeoutQc(qc));
        }
        return b.build();
    }

    private static ProposalJustification justification(Validator.ProposalJustificationV2 p, FieldPath path)
            throws DecodeException {
        return switch (p.getTCase()) {
            case COMMIT_QC -> commitQc(p.getCommitQc(), path.field("commit_qc"));
            case TIMEOUT_QC -> timeoutQc(p.getTimeoutQc(), path.field("timeout_qc"));
            case T_NOT_SET -> throw missing(path.field("t"));
        };
    }

    // ---------------------------------------------------------------- messages and envelopes

    private static Validator.ChonkyMsgV2 chonky(ChonkyMessage m) {
        var b = Validator.ChonkyMsgV2.newBuilder();
        switch (m) {
            case ReplicaCommit c -> b.setReplicaCommit(replicaCommit(c));
            case ReplicaTimeout t -> b.setReplicaTimeout(replicaTimeout(t));
            case ReplicaNewView nv ->
                b.setReplicaNewView(
                        Validator.ReplicaNewViewV2.newBuilder().setJustification(justification(nv.justification())));
            case LeaderProposal lp -> {
                var pb = Validator.LeaderProposalV2.newBuilder().setJustification(justification(lp.justification()));
                lp.proposalPayload().ifPresent(pl -> pb.setProposalPayload(pl.bytes()));
                b.setLeaderProposal(pb);
            }
        }
        return b.build();
    }

    private static ChonkyMessage chonky(Validator.ChonkyMsgV2 p, FieldPath path) throws DecodeException {
        return switch (p.getTCase()) {
            case REPLICA_COMMIT -> replicaCommit(p.getReplicaCommit(), path.field("replica_commit"));
            case REPLICA_TIMEOUT -> replicaTimeout(p.getReplicaTimeout(), path.field("replica_timeout"));
            case REPLICA_NEW_VIEW -> {
                var nv = p.getReplicaNewView();
                require(nv.hasJustification(), path.field("replica_new_view.justification"));
                yield new ReplicaNewView(
                        justification(nv.getJustification(), path.field("replica_new_view.justification")));
            }
            case LEADER_PROPOSAL -> {
                var lp = p.getLeaderProposal();
                FieldPath lpath = path.field("leader_proposal");
                require(lp.hasJustification(), lpath.field("justification"));
                Optional<Payload> payload =
                        lp.hasProposalPayload() ? Optional.of(new Payload(lp.getProposalPayload())) : Optional.empty();
                yield new LeaderProposal(payload, justification(lp.getJustification(), lpath.field("justification")));
            }
            case T_NOT_SET -> throw missing(path.field("t"));
        };
    }

    private static Validator.Msg envelope(ChonkyMessage m) {
        return Validator.Msg.newBuilder()
                .setConsensus(Validator.ConsensusMsg.newBuilder().setV2(chonky(m)))
                .build();
    }

    private static Validator.Signed signed(Signed<? extends ChonkyMessage> s) {
        return Validator.Signed.newBuilder()
                .setMsg(envelope(s.message()))
                .setKey(publicKey(s.key()))
                .setSig(Validator.Signature.newBuilder()
                        .setBls12381(ByteString.copyFrom(s.signature().bytes())))
                .build();
    }

    /** The ChonkyBFT message inside a signed envelope. */
    private static Validator.ChonkyMsgV2 chonkyProto(Validator.Signed p, FieldPath path) throws DecodeException {
        require(p.hasMsg(), path.field("msg"));
        var msg = p.getMsg();
        if (msg.getTCase() != Validator.Msg.TCase.CONSENSUS) {
            throw new DecodeException(path.field("msg") + ": expected a consensus message, got " + msg.getTCase());
        }
        var consensus = msg.getConsensus();
        if (!consensus.hasV2()) {
            throw new DecodeException(path.field("msg.consensus") + ": only ChonkyBFT v2 messages are supported");
        }
        return consensus.getV2();
    }

    private static Signed<ChonkyMessage> signed(Validator.Signed p, FieldPath path) throws DecodeException {
        Validator.ChonkyMsgV2 v2 = chonkyProto(p, path);
        require(p.hasKey(), path.field("key"));
        require(p.hasSig(), path.field("sig"));
        ChonkyMessage m = chonky(v2, path.field("msg.consensus.v2"));
        BlsPublicKey key = publicKey(p.getKey(), path.field("key"));
        require(p.getSig().hasBls12381(), path.field("sig.bls12_381"));
        byte[] sigBytes = p.getSig().getBls12381().toByteArray();
        // Not subgroup-checked here: a vote's signature is summed into its quorum's QC, whose sum is checked once, and
        // any signature verified alone is checked by that verification (docs/PROTOCOL.md section 10, item 1).
        BlsSignature sig = field(() -> BlsSignature.fromBytesForAggregation(sigBytes), path.field("sig"));
        return new Signed<>(m, key, sig);
    }

    // ---------------------------------------------------------------- blocks and replica state

    private static Validator.FinalBlockV2 finalBlock(FinalBlock b) {
        return Validator.FinalBlockV2.newBuilder()
                .setPayload(b.payload().bytes())
                .setJustification(commitQc(b.justification()))
                .build();
    }

    private static FinalBlock finalBlock(Validator.FinalBlockV2 p, FieldPath path) throws DecodeException {
        require(p.hasPayload(), path.field("payload"));
        require(p.hasJustification(), path.field("justification"));
        return new FinalBlock(new Payload(p.getPayload()), commitQc(p.getJustification(), path.field("justification")));
    }

    private static Validator.ChonkyV2State replicaState(ReplicaState s) {
        var phase = Validator.PhaseV2.newBuilder();
        switch (s.phase()) {
            case PREPARE -> phase.setPrepare(Std.Void.getDefaultInstance());
            case COMMIT -> phase.setCommit(Std.Void.getDefaultInstance());
            case TIMEOUT -> phase.setTimeout(Std.Void.getDefaultInstance());
        }
        var b = Validator.ChonkyV2State.newBuilder()
                .setEpoch(s.epoch())
                .setViewNumber(s.view())
                .setPhase(phase);
        s.highVote().ifPresent(v -> b.setHighVote(replicaCommit(v)));
        s.highCommitQc().ifPresent(q -> b.setHighCommitQc(commitQc(q)));
        s.highTimeoutQc().ifPresent(q -> b.setHighTimeoutQc(timeoutQc(q)));
        for (Proposal pr : s.proposals()) {
            b.addProposals(Validator.Proposal.newBuilder()
                    .setNumber(pr.number())
                    .setPayload(pr.payload().bytes()));
        }
        return b.build();
    }

    private static ReplicaState replicaState(Validator.ChonkyV2State p, FieldPath path) throws DecodeException {
        require(p.hasEpoch(), path.field("epoch"));
        require(p.hasViewNumber(), path.field("view_number"));
        require(p.hasPhase(), path.field("phase"));
        Phase phase = switch (p.getPhase().getTCase()) {
            case PREPARE -> Phase.PREPARE;
            case COMMIT -> Phase.COMMIT;
            case TIMEOUT -> Phase.TIMEOUT;
            case T_NOT_SET -> throw missing(path.field("phase.t"));
        };
        List<Proposal> proposals = new ArrayList<>();
        for (int i = 0; i < p.getProposalsCount(); i++) {
            var pr = p.getProposals(i);
            FieldPath pp = path.field("proposals").element(i);
            require(pr.hasNumber(), pp.field("number"));
            require(pr.hasPayload(), pp.field("payload"));
            proposals.add(new Proposal(unsigned(pr.getNumber(), pp.field("number")), new Payload(pr.getPayload())));
        }
        return new ReplicaState(
                unsigned(p.getEpoch(), path.field("epoch")),
                unsigned(p.getViewNumber(), path.field("view_number")),
                phase,
                p.hasHighVote()
                        ? Optional.of(replicaCommit(p.getHighVote(), path.field("high_vote")))
                        : Optional.empty(),
                p.hasHighCommitQc()
                        ? Optional.of(commitQc(p.getHighCommitQc(), path.field("high_commit_qc")))
                        : Optional.empty(),
                p.hasHighTimeoutQc()
                        ? Optional.of(timeoutQc(p.getHighTimeoutQc(), path.field("high_timeout_qc")))
                        : Optional.empty(),
                proposals);
    }
}
