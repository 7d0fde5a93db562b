package dev.tally.network;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.Parser;
import com.google.protobuf.UnsafeByteOperations;
import dev.tally.crypto.BlsPublicKey;
import dev.tally.crypto.BlsSecretKey;
import dev.tally.crypto.BlsSignature;
import dev.tally.crypto.Keccak256;
import dev.tally.crypto.NodePublicKey;
import dev.tally.crypto.NodeSecretKey;
import dev.tally.crypto.NodeSignature;
import dev.tally.network.proto.Net;
import dev.tally.protocol.Codec;
import dev.tally.protocol.DecodeException;
import dev.tally.protocol.GenesisHash;
import dev.tally.protocol.UnknownFields;
import dev.tally.protocol.proto.Std;
import dev.tally.protocol.proto.Validator;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.DateTimeException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Encoding of the network's own messages and of the validator `Msg` variants the protocol codec does not handle
 * (`session_id`, `net_address`). Every decoder throws only {@link DecodeException} on bad input; unknown fields are
 * refused (signed bytes are re-encoded, so an unknown field would change what the signature covers).
 */
public final class NetCodec {
    private NetCodec() {}

    /** Parses a protobuf message, refusing unknown fields anywhere in it. */
    static <P extends Message> P parse(Parser<P> parser, byte[] bytes, String name) throws DecodeException {
        P p;
        try {
            p = parser.parseFrom(bytes);
        } catch (InvalidProtocolBufferException e) {
            throw new DecodeException(name + ": not a valid protobuf encoding: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            throw new DecodeException(name + ": " + e, e);
        }
        UnknownFields.reject(p, name);
        return p;
    }

    static void require(boolean present, String path) throws DecodeException {
        if (!present) {
            throw new DecodeException(path + ": required field is missing");
        }
    }

    // ------------------------------------------------------------------ genesis hash

    static byte[] encode(GenesisHash g) {
        return Validator.GenesisHash.newBuilder()
                .setKeccak256(ByteString.copyFrom(g.keccak().bytes()))
                .build()
                .toByteArray();
    }

    static GenesisHash decodeGenesisHash(byte[] bytes) throws DecodeException {
        Validator.GenesisHash p = parse(Validator.GenesisHash.parser(), bytes, "GenesisHash");
        require(p.hasKeccak256(), "GenesisHash.keccak256");
        try {
            return new GenesisHash(new Keccak256(p.getKeccak256().toByteArray()));
        } catch (IllegalArgumentException e) {
            throw new DecodeException("GenesisHash: " + e.getMessage(), e);
        }
    }

    // ------------------------------------------------------------------ validator-signed session id

    /** A session id signed with a validator key: proves the peer holds that key, for this session only. */
    record ValidatorSessionId(BlsPublicKey key, byte[] sessionId, BlsSignature signature) {
        boolean verify(SignatureCheck check) throws InterruptedException {
            return check.valid(signature, sessionIdHash(sessionId), key);
        }
    }

    private static Validator.Msg sessionIdMsg(byte[] sessionId) {
        return Validator.Msg.newBuilder()
                .setSessionId(ByteString.copyFrom(sessionId))
                .build();
    }

    static byte[] sessionIdHash(byte[] sessionId) {
        return Keccak256.of(sessionIdMsg(sessionId).toByteArray()).bytes();
    }

    static byte[] signSessionId(BlsSecretKey key, byte[] sessionId) {
        return Validator.Signed.newBuilder()
                .setMsg(sessionIdMsg(sessionId))
                .setKey(Validator.PublicKey.newBuilder()
                        .setBls12381(ByteString.copyFrom(key.publicKey().bytes())))
                .setSig(Validator.Signature.newBuilder()
                        .setBls12381(ByteString.copyFrom(
                                key.sign(sessionIdHash(sessionId)).bytes())))
                .build()
                .toByteArray();
    }

    static ValidatorSessionId decodeValidatorSessionId(byte[] bytes) throws DecodeException {
        Validator.Signed p = parse(Validator.Signed.parser(), bytes, "Signed");
        require(p.hasMsg(), "Signed.msg");
        if (p.getMsg().getTCase() != Validator.Msg.TCase.SESSION_ID) {
            throw new DecodeException(
                    "Signed.msg: expected a session_id, got " + p.getMsg().getTCase());
        }
        return new ValidatorSessionId(blsKey(p), p.getMsg().getSessionId().toByteArray(), blsSignature(p));
    }

    private static BlsPublicKey blsKey(Validator.Signed p) throws DecodeException {
        require(p.hasKey() && p.getKey().hasBls12381(), "Signed.key.bls12_381");
        try {
            return BlsPublicKey.fromBytes(p.getKey().getBls12381().toByteArray());
        } catch (IllegalArgumentException e) {
            throw new DecodeException("Signed.key: " + e.getMessage(), e);
        }
    }

    /**
     * A handshake's or an address announcement's signature, not subgroup-checked: each is verified before it is
     * used, and the verification checks the subgroup (as received consensus messages' signatures, Codec).
     */
    private static BlsSignature blsSignature(Validator.Signed p) throws DecodeException {
        require(p.hasSig() && p.getSig().hasBls12381(), "Signed.sig.bls12_381");
        try {
            return BlsSignature.fromBytesForAggregation(p.getSig().getBls12381().toByteArray());
        } catch (IllegalArgumentException e) {
            throw new DecodeException("Signed.sig: " + e.getMessage(), e);
        }
    }

    // ------------------------------------------------------------------ node-signed session id

    record NodeSessionId(NodePublicKey key, byte[] sessionId, NodeSignature signature) {
        boolean verify() {
            return key.verify(nodeSessionIdBytes(sessionId), signature);
        }
    }

    static byte[] nodeSessionIdBytes(byte[] sessionId) {
        return Net.NodeMsg.newBuilder()
                .setSessionId(ByteString.copyFrom(sessionId))
                .build()
                .toByteArray();
    }

    static Net.NodeSigned signSessionId(NodeSecretKey key, byte[] sessionId) {
        return Net.NodeSigned.newBuilder()
                .setMsg(Net.NodeMsg.newBuilder().setSessionId(ByteString.copyFrom(sessionId)))
                .setKey(ByteString.copyFrom(key.publicKey().bytes()))
                .setSig(ByteString.copyFrom(
                        key.sign(nodeSessionIdBytes(sessionId)).bytes()))
                .build();
    }

    static NodeSessionId nodeSessionId(Net.NodeSigned p) throws DecodeException {
        require(p.hasMsg(), "NodeSigned.msg");
        require(p.getMsg().getTCase() == Net.NodeMsg.TCase.SESSION_ID, "NodeSigned.msg.session_id");
        require(p.hasKey(), "NodeSigned.key");
        require(p.hasSig(), "NodeSigned.sig");
        try {
            return new NodeSessionId(
                    NodePublicKey.fromBytes(p.getKey().toByteArray()),
                    p.getMsg().getSessionId().toByteArray(),
                    new NodeSignature(p.getSig().toByteArray()));
        } catch (IllegalArgumentException e) {
            throw new DecodeException("NodeSigned: " + e.getMessage(), e);
        }
    }

    // ------------------------------------------------------------------ net addresses

    private static Validator.Msg netAddressMsg(InetSocketAddress addr, long version, Instant timestamp) {
        InetAddress ip = addr.getAddress();
        if (ip == null) {
            throw new IllegalArgumentException("address " + addr + " is not resolved");
        }
        return Validator.Msg.newBuilder()
                .setNetAddress(Validator.NetAddress.newBuilder()
                        .setAddr(Std.SocketAddr.newBuilder()
                                .setIp(ByteString.copyFrom(ip.getAddress()))
                                .setPort(addr.getPort()))
                        .setVersion(version)
                        .setTimestamp(Std.Timestamp.newBuilder()
                                .setSeconds(timestamp.getEpochSecond())
                                .setNanos(timestamp.getNano())))
                .build();
    }

    static byte[] netAddressHash(InetSocketAddress addr, long version, Instant timestamp) {
        return Keccak256.of(netAddressMsg(addr, version, timestamp).toByteArray())
                .bytes();
    }

    public static byte[] encode(SignedNetAddress a) {
        return Validator.Signed.newBuilder()
                .setMsg(netAddressMsg(a.address(), a.version(), a.timestamp()))
                .setKey(Validator.PublicKey.newBuilder()
                        .setBls12381(ByteString.copyFrom(a.key().bytes())))
                .setSig(Validator.Signature.newBuilder()
                        .setBls12381(ByteString.copyFrom(a.signature().bytes())))
                .build()
                .toByteArray();
    }

    /** Decodes a signed net address; does not check the signature. */
    public static SignedNetAddress decodeSignedNetAddress(byte[] bytes) throws DecodeException {
        Validator.Signed p = parse(Validator.Signed.parser(), bytes, "Signed");
        require(p.hasMsg(), "Signed.msg");
        if (p.getMsg().getTCase() != Validator.Msg.TCase.NET_ADDRESS) {
            throw new DecodeException(
                    "Signed.msg: expected a net_address, got " + p.getMsg().getTCase());
        }
        Validator.NetAddress na = p.getMsg().getNetAddress();
        require(na.hasAddr(), "NetAddress.addr");
        require(na.getAddr().hasIp(), "NetAddress.addr.ip");
        require(na.getAddr().hasPort(), "NetAddress.addr.port");
        require(na.hasVersion(), "NetAddress.version");
        require(na.hasTimestamp(), "NetAddress.timestamp");
        require(na.getTimestamp().hasSeconds(), "NetAddress.timestamp.seconds");
        byte[] ip = na.getAddr().getIp().toByteArray();
        if (ip.length != 4 && ip.length != 16) {
            throw new DecodeException("NetAddress.addr.ip: " + ip.length + " bytes is neither IPv4 nor IPv6");
        }
        int port = na.getAddr().getPort();
        if (port < 0 || port > 65535) {
            throw new DecodeException("NetAddress.addr.port: " + Integer.toUnsignedString(port) + " is out of range");
        }
        int nanos = na.getTimestamp().getNanos();
        if (nanos < 0 || nanos > 999_999_999) {
            throw new DecodeException("NetAddress.timestamp.nanos: " + nanos + " is out of range");
        }
        InetSocketAddress addr;
        Instant ts;
        try {
            addr = new InetSocketAddress(InetAddress.getByAddress(ip), port);
            ts = Instant.ofEpochSecond(na.getTimestamp().getSeconds(), nanos);
        } catch (UnknownHostException | DateTimeException e) {
            throw new DecodeException("NetAddress: " + e.getMessage(), e);
        }
        return new SignedNetAddress(blsKey(p), addr, na.getVersion(), ts, blsSignature(p));
    }

    // ------------------------------------------------------------------ block store state

    static Net.BlockStoreState encode(BlockStoreState s) {
        Net.BlockStoreState.Builder b = Net.BlockStoreState.newBuilder().setFirst(s.first());
        s.lastQc().ifPresent(qc -> b.setLastQc(ByteString.copyFrom(Codec.encode(qc))));
        return b.build();
    }

    // ------------------------------------------------------------------ transaction batches

    /** The bytes {@code tx} adds to an encoded {@link Net.PushTxs}. */
    static int pushTxsEntrySize(byte[] tx) {
        return 1 + CodedOutputStream.computeUInt32SizeNoTag(tx.length) + tx.length;
    }

    /** A push_txs request; the arrays are wrapped, not copied, and must not change afterwards. */
    static byte[] encodePushTxs(List<byte[]> txs) {
        Net.PushTxs.Builder b = Net.PushTxs.newBuilder();
        txs.forEach(tx -> b.addTxs(UnsafeByteOperations.unsafeWrap(tx)));
        return b.build().toByteArray();
    }

    /** The transactions of a push_txs request: at least one, at most {@link GossipNetwork#MAX_TXS_PER_PUSH}. */
    static List<byte[]> decodePushTxs(byte[] bytes) throws DecodeException {
        Net.PushTxs p = parse(Net.PushTxs.parser(), bytes, "PushTxs");
        int n = p.getTxsCount();
        if (n == 0) {
            throw new DecodeException("PushTxs.txs: empty batch");
        }
        if (n > GossipNetwork.MAX_TXS_PER_PUSH) {
            throw new DecodeException(
                    "PushTxs.txs: " + n + " transactions exceed the limit of " + GossipNetwork.MAX_TXS_PER_PUSH);
        }
        List<byte[]> txs = new ArrayList<>(n);
        for (ByteString tx : p.getTxsList()) {
            txs.add(tx.toByteArray());
        }
        return txs;
    }

    static byte[] encodePushTxsResp(List<TransactionSink.Result> results) {
        Net.PushTxsResp.Builder b = Net.PushTxsResp.newBuilder();
        for (TransactionSink.Result r : results) {
            b.addResults(
                    switch (r) {
                        case TransactionSink.Result.Accepted a -> Net.PushTxsResp.Result.ACCEPTED;
                        case TransactionSink.Result.Duplicate d -> Net.PushTxsResp.Result.DUPLICATE;
                        case TransactionSink.Result.Rejected rej -> Net.PushTxsResp.Result.REJECTED;
                        case TransactionSink.Result.Overloaded o -> Net.PushTxsResp.Result.REJECTED;
                    });
        }
        return b.build().toByteArray();
    }

    /** The results of a push_txs response to a request of {@code sent} transactions: exactly one known result each. */
    static List<Net.PushTxsResp.Result> decodePushTxsResp(byte[] bytes, int sent) throws DecodeException {
        Net.PushTxsResp p = parse(Net.PushTxsResp.parser(), bytes, "PushTxsResp");
        if (p.getResultsCount() != sent) {
            throw new DecodeException(
                    "PushTxsResp.results: " + p.getResultsCount() + " results for " + sent + " transactions");
        }
        List<Net.PushTxsResp.Result> results = p.getResultsList();
        for (int i = 0; i < results.size(); i++) {
            Net.PushTxsResp.Result r = results.get(i);
            if (r != Net.PushTxsResp.Result.ACCEPTED
                    && r != Net.PushTxsResp.Result.DUPLICATE
                    && r != Net.PushTxsResp.Result.REJECTED) {
                throw new DecodeException(
                        "PushTxsResp.results[" + i + "]: not a result (" + p.getResultsValue(i) + ")");
            }
        }
        return results;
    }

    // ------------------------------------------------------------------ gossip peer sets

    static byte[] encodePushGossipPeers(java.util.Collection<NodePublicKey> peers) {
        Net.PushGossipPeers.Builder b = Net.PushGossipPeers.newBuilder();
        peers.forEach(k -> b.addNodeKeys(ByteString.copyFrom(k.bytes())));
        return b.build().toByteArray();
    }

    /**
     * The node keys of a push_gossip_peers request, as raw 32-byte strings (they are only compared with the keys of
     * connected peers, so they are not decoded as points): at most {@link GossipNetwork#MAX_GOSSIP_PEERS}.
     */
    static java.util.Set<ByteString> decodePushGossipPeers(byte[] bytes) throws DecodeException {
        Net.PushGossipPeers p = parse(Net.PushGossipPeers.parser(), bytes, "PushGossipPeers");
        if (p.getNodeKeysCount() > GossipNetwork.MAX_GOSSIP_PEERS) {
            throw new DecodeException("PushGossipPeers.node_keys: " + p.getNodeKeysCount()
                    + " keys exceed the limit of " + GossipNetwork.MAX_GOSSIP_PEERS);
        }
        java.util.Set<ByteString> keys = new java.util.HashSet<>();
        for (int i = 0; i < p.getNodeKeysCount(); i++) {
            ByteString k = p.getNodeKeys(i);
            if (k.size() != 32) {
                throw new DecodeException(
                        "PushGossipPeers.node_keys[" + i + "]: " + k.size() + " bytes, not a 32-byte Ed25519 key");
            }
            keys.add(k);
        }
        return keys;
    }
}
