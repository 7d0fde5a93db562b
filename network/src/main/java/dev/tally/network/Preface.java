package dev.tally.network;

import dev.tally.network.proto.Net;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.UnknownHostException;
import java.time.Duration;

/**
 * Every connection starts with the preface: the client names the encryption (Noise NN, in plaintext), both run the
 * Noise handshake, then the client names the endpoint it wants (consensus or gossip), encrypted. The endpoint's own
 * handshake follows ({@link Handshake}). One listening port serves both endpoints.
 */
final class Preface {
    /** Time allowed for the preface and the endpoint handshake together. */
    static final Duration TIMEOUT = Duration.ofSeconds(5);

    enum Endpoint {
        /** Consensus messages as RPCs, each acknowledged: what builds before {@link #CONSENSUS_STREAM} speak. */
        CONSENSUS,
        GOSSIP,
        /** Consensus messages as one-way frames (docs/adr/0006-consensus-messages-as-one-way-frames.md). */
        CONSENSUS_STREAM,
        /**
         * Consensus messages as one-way frames both ways: one connection per pair of validators
         * (docs/adr/0008-one-consensus-connection-per-pair.md).
         */
        CONSENSUS_DUPLEX;

        /** Whether this is a consensus endpoint whose messages are one-way frames. */
        boolean oneWay() {
            return this == CONSENSUS_STREAM || this == CONSENSUS_DUPLEX;
        }
    }

    private Preface() {}

    /**
     * Opens a TCP connection and runs the client side of the preface. The socket's read timeout stays set. An address
     * given by host name is resolved at each call (see {@link #resolve}).
     */
    static NoiseStream connect(InetSocketAddress addr, Endpoint endpoint, Duration timeout) throws IOException {
        InetSocketAddress target = resolve(addr);
        Socket socket = new Socket();
        try {
            socket.setTcpNoDelay(true);
            socket.connect(target, (int) timeout.toMillis());
            socket.setSoTimeout((int) timeout.toMillis());
            InputStream in = new BufferedInputStream(socket.getInputStream(), NoiseStream.INITIAL_BUFFER);
            OutputStream out = socket.getOutputStream();
            Frames.write(
                    out,
                    Net.Encryption.newBuilder()
                            .setNoiseNn(Net.Encryption.NoiseNN.getDefaultInstance())
                            .build());
            NoiseStream stream = NoiseStream.handshake(socket, in, out, NoiseHandshake.Role.INITIATOR);
            Net.Endpoint.Builder e = Net.Endpoint.newBuilder();
            switch (endpoint) {
                case CONSENSUS -> e.setConsensusNet(Net.Endpoint.ConsensusNet.getDefaultInstance());
                case GOSSIP -> e.setGossipNet(Net.Endpoint.GossipNet.getDefaultInstance());
                case CONSENSUS_STREAM -> e.setConsensusStream(Net.Endpoint.ConsensusStream.getDefaultInstance());
                case CONSENSUS_DUPLEX -> e.setConsensusDuplex(Net.Endpoint.ConsensusDuplex.getDefaultInstance());
            }
            Frames.write(stream.out(), e.build());
            return stream;
        } catch (IOException | RuntimeException e) {
            socket.close();
            throw e;
        }
    }

    /**
     * An address kept as a host name (e.g. a Kubernetes pod's stable DNS name) resolved now rather than once at
     * start, so that a peer that comes back at another IP address is found again.
     *
     * @throws UnknownHostException naming the host when it does not resolve (yet)
     */
    static InetSocketAddress resolve(InetSocketAddress addr) throws UnknownHostException {
        if (!addr.isUnresolved()) {
            return addr;
        }
        InetSocketAddress resolved = new InetSocketAddress(addr.getHostString(), addr.getPort());
        if (resolved.isUnresolved()) {
            throw new UnknownHostException("host " + addr.getHostString() + " does not resolve");
        }
        return resolved;
    }

    record Accepted(NoiseStream stream, Endpoint endpoint) {}

    /** Runs the server side of the preface on an accepted socket (whose read timeout the caller has set). */
    static Accepted accept(Socket socket) throws IOException {
        socket.setTcpNoDelay(true);
        InputStream in = new BufferedInputStream(socket.getInputStream(), NoiseStream.INITIAL_BUFFER);
        OutputStream out = socket.getOutputStream();
        Net.Encryption enc = parse(Net.Encryption.parser(), Frames.read(in, Frames.MAX_HANDSHAKE_FRAME), "Encryption");
        if (enc.getTCase() != Net.Encryption.TCase.NOISE_NN) {
            throw new HandshakeException("unsupported encryption " + enc.getTCase());
        }
        NoiseStream stream = NoiseStream.handshake(socket, in, out, NoiseHandshake.Role.RESPONDER);
        Net.Endpoint ep =
                parse(Net.Endpoint.parser(), Frames.read(stream.in(), Frames.MAX_HANDSHAKE_FRAME), "Endpoint");
        Endpoint endpoint = switch (ep.getTCase()) {
            case CONSENSUS_NET -> Endpoint.CONSENSUS;
            case GOSSIP_NET -> Endpoint.GOSSIP;
            case CONSENSUS_STREAM -> Endpoint.CONSENSUS_STREAM;
            case CONSENSUS_DUPLEX -> Endpoint.CONSENSUS_DUPLEX;
            case T_NOT_SET -> throw new HandshakeException("preface names no endpoint");
        };
        return new Accepted(stream, endpoint);
    }

    private static <P extends com.google.protobuf.Message> P parse(
            com.google.protobuf.Parser<P> parser, byte[] b, String name) throws HandshakeException {
        try {
            return NetCodec.parse(parser, b, name);
        } catch (dev.tally.protocol.DecodeException e) {
            throw new HandshakeException("malformed preface: " + e.getMessage(), e);
        }
    }
}
