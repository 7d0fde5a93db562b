package dev.tally.network;

import com.google.protobuf.ByteString;
import dev.tally.crypto.BlsPublicKey;
import dev.tally.crypto.BlsSecretKey;
import dev.tally.crypto.NodePublicKey;
import dev.tally.crypto.NodeSecretKey;
import dev.tally.network.proto.Net;
import dev.tally.protocol.DecodeException;
import dev.tally.protocol.GenesisHash;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.security.MessageDigest;
import java.util.function.Predicate;

/**
 * The endpoint handshakes, run inside the encrypted stream right after the preface. Each side signs the Noise
 * session id (the handshake hash, the same at both ends and unique to the session, so a signature cannot be
 * replayed on another connection) and names its genesis. Gossip connections sign with the node key (Ed25519),
 * consensus connections with the validator key (BLS). The client speaks first; the server answers only after
 * checking the client.
 */
final class Handshake {
    private Handshake() {}

    /** Who the peer is on a gossip connection, and whether it considers the connection static. */
    record GossipPeer(NodePublicKey key, boolean isStatic) {}

    private static byte[] gossipMessage(NodeSecretKey me, GenesisHash genesis, byte[] sessionId, boolean isStatic) {
        return Net.GossipHandshake.newBuilder()
                .setSessionId(NetCodec.signSessionId(me, sessionId))
                .setIsStatic(isStatic)
                .setGenesis(ByteString.copyFrom(NetCodec.encode(genesis)))
                .build()
                .toByteArray();
    }

    static GossipPeer checkGossip(byte[] frame, GenesisHash genesis, byte[] sessionId) throws HandshakeException {
        try {
            Net.GossipHandshake h = NetCodec.parse(Net.GossipHandshake.parser(), frame, "GossipHandshake");
            NetCodec.require(h.hasSessionId(), "GossipHandshake.session_id");
            NetCodec.require(h.hasIsStatic(), "GossipHandshake.is_static");
            NetCodec.require(h.hasGenesis(), "GossipHandshake.genesis");
            GenesisHash theirs = NetCodec.decodeGenesisHash(h.getGenesis().toByteArray());
            if (!theirs.equals(genesis)) {
                throw new HandshakeException("genesis mismatch: peer is on " + theirs + ", we are on " + genesis);
            }
            NetCodec.NodeSessionId sid = NetCodec.nodeSessionId(h.getSessionId());
            if (!MessageDigest.isEqual(sid.sessionId(), sessionId)) {
                throw new HandshakeException("session id mismatch: the peer signed another session");
            }
            if (!sid.verify()) {
                throw new HandshakeException("bad node signature on the session id from " + sid.key());
            }
            return new GossipPeer(sid.key(), h.getIsStatic());
        } catch (DecodeException e) {
            throw new HandshakeException("malformed gossip handshake: " + e.getMessage(), e);
        }
    }

    /** Client side: sends ours, checks the server's, which must be {@code expected}. */
    static GossipPeer gossipOutbound(
            NoiseStream s, NodeSecretKey me, GenesisHash genesis, NodePublicKey expected, boolean isStatic)
            throws IOException {
        byte[] sid = s.sessionId();
        writeRaw(s, gossipMessage(me, genesis, sid, isStatic));
        GossipPeer peer = checkGossip(Frames.read(s.in(), Frames.MAX_HANDSHAKE_FRAME), genesis, sid);
        if (!peer.key().equals(expected)) {
            throw new HandshakeException("unexpected peer: connected to " + expected + " but got " + peer.key());
        }
        return peer;
    }

    /** Server side: checks the client's, then answers. {@code isStatic} says whether we treat the peer as static. */
    static GossipPeer gossipInbound(
            NoiseStream s, NodeSecretKey me, GenesisHash genesis, Predicate<NodePublicKey> isStatic)
            throws IOException {
        return gossipInbound(s, me, genesis, isStatic, k -> {});
    }

    /** Admission check run on the authenticated peer before we answer; throws to refuse it. */
    interface Admission {
        void admit(NodePublicKey peer) throws HandshakeException;
    }

    static GossipPeer gossipInbound(
            NoiseStream s,
            NodeSecretKey me,
            GenesisHash genesis,
            Predicate<NodePublicKey> isStatic,
            Admission admission)
            throws IOException {
        byte[] sid = s.sessionId();
        GossipPeer peer = checkGossip(Frames.read(s.in(), Frames.MAX_HANDSHAKE_FRAME), genesis, sid);
        admission.admit(peer.key());
        writeRaw(s, gossipMessage(me, genesis, sid, isStatic.test(peer.key())));
        return peer;
    }

    private static byte[] consensusMessage(BlsSecretKey me, GenesisHash genesis, byte[] sessionId) {
        return Net.ConsensusHandshake.newBuilder()
                .setSessionId(ByteString.copyFrom(NetCodec.signSessionId(me, sessionId)))
                .setGenesis(ByteString.copyFrom(NetCodec.encode(genesis)))
                .build()
                .toByteArray();
    }

    static BlsPublicKey checkConsensus(byte[] frame, GenesisHash genesis, byte[] sessionId, SignatureCheck signatures)
            throws HandshakeException, InterruptedIOException {
        try {
            Net.ConsensusHandshake h = NetCodec.parse(Net.ConsensusHandshake.parser(), frame, "ConsensusHandshake");
            NetCodec.require(h.hasSessionId(), "ConsensusHandshake.session_id");
            NetCodec.require(h.hasGenesis(), "ConsensusHandshake.genesis");
            GenesisHash theirs = NetCodec.decodeGenesisHash(h.getGenesis().toByteArray());
            if (!theirs.equals(genesis)) {
                throw new HandshakeException("genesis mismatch: peer is on " + theirs + ", we are on " + genesis);
            }
            NetCodec.ValidatorSessionId sid =
                    NetCodec.decodeValidatorSessionId(h.getSessionId().toByteArray());
            if (!MessageDigest.isEqual(sid.sessionId(), sessionId)) {
                throw new HandshakeException("session id mismatch: the peer signed another session");
            }
            if (!sid.verify(signatures)) {
                throw new HandshakeException("bad validator signature on the session id from " + sid.key());
            }
            return sid.key();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while checking the consensus handshake");
        } catch (DecodeException e) {
            throw new HandshakeException("malformed consensus handshake: " + e.getMessage(), e);
        }
    }

    /** Client side of the consensus handshake; the server must hold {@code expected}. */
    static BlsPublicKey consensusOutbound(
            NoiseStream s, BlsSecretKey me, GenesisHash genesis, BlsPublicKey expected, SignatureCheck signatures)
            throws IOException {
        byte[] sid = s.sessionId();
        writeRaw(s, consensusMessage(me, genesis, sid));
        BlsPublicKey peer = checkConsensus(Frames.read(s.in(), Frames.MAX_HANDSHAKE_FRAME), genesis, sid, signatures);
        if (!peer.equals(expected)) {
            throw new HandshakeException("unexpected peer: connected to " + expected + " but got " + peer);
        }
        return peer;
    }

    /** Server side of the consensus handshake; the client must pass {@code allowed} (a validator of the committee). */
    static BlsPublicKey consensusInbound(
            NoiseStream s,
            BlsSecretKey me,
            GenesisHash genesis,
            Predicate<BlsPublicKey> allowed,
            SignatureCheck signatures)
            throws IOException {
        byte[] sid = s.sessionId();
        BlsPublicKey peer = checkConsensus(Frames.read(s.in(), Frames.MAX_HANDSHAKE_FRAME), genesis, sid, signatures);
        if (!allowed.test(peer)) {
            throw new HandshakeException("peer " + peer + " is not a validator of the committee");
        }
        writeRaw(s, consensusMessage(me, genesis, sid));
        return peer;
    }

    private static void writeRaw(NoiseStream s, byte[] frame) throws IOException {
        byte[] len = {
            (byte) frame.length, (byte) (frame.length >>> 8), (byte) (frame.length >>> 16), (byte) (frame.length >>> 24)
        };
        s.out().write(len);
        s.out().write(frame);
        s.out().flush();
    }
}
