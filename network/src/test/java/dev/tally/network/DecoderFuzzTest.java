package dev.tally.network;

import com.google.protobuf.ByteString;
import dev.tally.crypto.NodeSecretKey;
import dev.tally.network.proto.Net;
import dev.tally.protocol.Codec;
import dev.tally.protocol.DecodeException;
import dev.tally.protocol.FinalBlock;
import dev.tally.protocol.GenesisHash;
import dev.tally.protocol.InvalidMessageException;
import dev.tally.protocol.ReplicaState;
import dev.tally.protocol.TestChain;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.Size;

/**
 * Random and mutated bytes fed to every decoder and handshake step: nothing escapes but the documented exceptions
 * ({@link DecodeException} from decoders, {@link InvalidMessageException} from verifying what decoded;
 * {@link IOException}, mostly {@link ProtocolException}, from the wire steps), and nothing allocates more than the
 * frame limits allow.
 *
 * <p>Covered: every decoder of {@link NetCodec} (genesis hash, validator- and node-signed session ids, signed net
 * address, block store state, {@code parse} of every message a peer sends), of {@link Codec} (genesis, signed
 * message, final block, commit QC, replica state) and the RPC handlers' decode-then-verify paths; {@link Handshake}'s
 * gossip and consensus checks; {@link Frames#read}; the Noise handshake; {@link Preface#accept} (server side);
 * and {@link Connection}'s application-frame reader, over a real Noise session.
 *
 * <p>Named {@code *Test} so that surefire's default includes run it with the rest of the suite.
 */
class DecoderFuzzTest {
    static final TestChain CHAIN = TestNets.chain();
    static final GenesisHash GENESIS = CHAIN.genesis.hash();
    static final byte[] SESSION = new byte[32];
    static final NodeSecretKey NODE = NodeSecretKey.fromBytes(new byte[32]);

    /** Valid encodings of every message a peer can send, to mutate. */
    static final List<byte[]> SAMPLES;

    static {
        Arrays.fill(SESSION, (byte) 7);
        FinalBlock block = TestNets.blocks(2).get(1);
        SignedNetAddress addr = SignedNetAddress.sign(
                CHAIN.keys.get(0),
                new InetSocketAddress(InetAddress.getLoopbackAddress(), 3054),
                5,
                Instant.ofEpochSecond(1_700_000_000, 5));
        SAMPLES = List.of(
                NetCodec.encode(addr),
                NetCodec.signSessionId(CHAIN.keys.get(0), SESSION),
                NetCodec.encode(GENESIS),
                Codec.encode(block),
                Codec.encode(CHAIN.sign(0, CHAIN.vote(3, 1, block.payload()))),
                Net.PushBlockStoreState.newBuilder()
                        .setState(NetCodec.encode(new BlockStoreState(0, Optional.of(block.justification()))))
                        .build()
                        .toByteArray(),
                Net.GetBlockResp.newBuilder()
                        .setBlock(ByteString.copyFrom(Codec.encode(block)))
                        .build()
                        .toByteArray(),
                Net.PushValidatorAddrs.newBuilder()
                        .addNetAddresses(ByteString.copyFrom(NetCodec.encode(addr)))
                        .build()
                        .toByteArray(),
                Net.GossipHandshake.newBuilder()
                        .setSessionId(NetCodec.signSessionId(NODE, SESSION))
                        .setIsStatic(true)
                        .setGenesis(ByteString.copyFrom(NetCodec.encode(GENESIS)))
                        .build()
                        .toByteArray(),
                Net.ConsensusHandshake.newBuilder()
                        .setSessionId(ByteString.copyFrom(NetCodec.signSessionId(CHAIN.keys.get(1), SESSION)))
                        .setGenesis(ByteString.copyFrom(NetCodec.encode(GENESIS)))
                        .build()
                        .toByteArray(),
                NetCodec.encodePushTxs(List.of("tx".getBytes(StandardCharsets.UTF_8), new byte[] {1, 2, 3})),
                NetCodec.encodePushTxsResp(
                        List.of(TransactionSink.Result.ACCEPTED, new TransactionSink.Result.Rejected("no"))),
                NetCodec.encodePushGossipPeers(List.of(
                        NODE.publicKey(),
                        NodeSecretKey.fromBytes(new byte[] {
                                    1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23,
                                    24, 25, 26, 27, 28, 29, 30, 31, 32
                                })
                                .publicKey())),
                Codec.encode(block.justification()),
                Codec.encode(CHAIN.genesis),
                Codec.encode(ReplicaState.initial(0)),
                NetCodec.signSessionId(NODE, SESSION).toByteArray(),
                Net.ConsensusReq.newBuilder()
                        .setMsg(ByteString.copyFrom(Codec.encode(CHAIN.sign(0, CHAIN.vote(3, 1, block.payload())))))
                        .build()
                        .toByteArray(),
                Net.GetBlockReq.newBuilder().setNumber(7).build().toByteArray(),
                Net.Encryption.newBuilder()
                        .setNoiseNn(Net.Encryption.NoiseNN.getDefaultInstance())
                        .build()
                        .toByteArray(),
                Net.Endpoint.newBuilder()
                        .setGossipNet(Net.Endpoint.GossipNet.getDefaultInstance())
                        .build()
                        .toByteArray());
    }

    interface Decoder {
        void decode(byte[] b) throws Exception;
    }

    static final List<Decoder> DECODERS = List.of(
            NetCodec::decodeSignedNetAddress,
            NetCodec::decodeValidatorSessionId,
            NetCodec::decodeGenesisHash,
            Codec::decodeFinalBlock,
            Codec::decodeSigned,
            b -> AdvertisedState.parse(NetCodec.parse(Net.PushBlockStoreState.parser(), b, "PushBlockStoreState")
                            .getState())
                    .decode(),
            b -> NetCodec.parse(Net.GetBlockResp.parser(), b, "GetBlockResp"),
            b -> {
                for (ByteString a : NetCodec.parse(Net.PushValidatorAddrs.parser(), b, "PushValidatorAddrs")
                        .getNetAddressesList()) {
                    NetCodec.decodeSignedNetAddress(a.toByteArray());
                }
            },
            NetCodec::decodePushTxs,
            b -> NetCodec.decodePushTxsResp(b, 2),
            NetCodec::decodePushGossipPeers,
            b -> NetCodec.parse(Net.ConsensusReq.parser(), b, "ConsensusReq"),
            b -> NetCodec.parse(Net.GetBlockReq.parser(), b, "GetBlockReq"),
            b -> NetCodec.parse(Net.PingReq.parser(), b, "PingReq"),
            b -> NetCodec.parse(Net.Encryption.parser(), b, "Encryption"),
            b -> NetCodec.parse(Net.Endpoint.parser(), b, "Endpoint"),
            // The rest of protocol's Codec: what block sync, the handshakes and storage decode.
            Codec::decodeCommitQc,
            Codec::decodeGenesis,
            Codec::decodeReplicaState,
            b -> AdvertisedState.parse(NetCodec.parse(Net.BlockStoreState.parser(), b, "BlockStoreState"))
                    .decode(),
            b -> NetCodec.nodeSessionId(NetCodec.parse(Net.NodeSigned.parser(), b, "NodeSigned")),
            b -> NetCodec.parse(Net.GossipHandshake.parser(), b, "GossipHandshake"),
            b -> NetCodec.parse(Net.ConsensusHandshake.parser(), b, "ConsensusHandshake"),
            // The full paths of the two RPCs that carry protocol messages, as their handlers decode them.
            b -> {
                Net.GetBlockResp r = NetCodec.parse(Net.GetBlockResp.parser(), b, "GetBlockResp");
                if (r.hasBlock()) {
                    Codec.decodeFinalBlock(r.getBlock().toByteArray());
                }
            },
            b -> Codec.decodeSigned(NetCodec.parse(Net.ConsensusReq.parser(), b, "ConsensusReq")
                    .getMsg()
                    .toByteArray()),
            // Decoded values that then get verified: verification only refuses them.
            b -> {
                try {
                    Codec.decodeFinalBlock(b).verify(CHAIN.epoch);
                } catch (InvalidMessageException expected) {
                    // the documented failure
                }
            },
            b -> {
                try {
                    ConsensusReceiver.verify(
                            Codec.decodeSigned(b),
                            CHAIN.keys.get(0).publicKey(),
                            CHAIN.epoch,
                            new CachingQcVerifier(16),
                            TestNets.ALONE);
                } catch (InvalidMessageException expected) {
                    // the documented failure
                }
            },
            b -> {
                try {
                    Codec.decodeCommitQc(b).verify(CHAIN.epoch);
                } catch (InvalidMessageException expected) {
                    // the documented failure
                }
            });

    static void feedDecoders(byte[] bytes) throws Exception {
        for (Decoder d : DECODERS) {
            try {
                d.decode(bytes);
            } catch (DecodeException expected) {
                // the documented failure
            }
        }
        try {
            Handshake.checkGossip(bytes, GENESIS, SESSION);
        } catch (HandshakeException expected) {
            // the documented failure
        }
        try {
            Handshake.checkConsensus(bytes, GENESIS, SESSION, TestNets.ALONE);
        } catch (HandshakeException expected) {
            // the documented failure
        }
    }

    static byte[] mutate(byte[] b, long seed) {
        Random r = new Random(seed);
        byte[] out = b.clone();
        int edits = 1 + r.nextInt(4);
        for (int i = 0; i < edits; i++) {
            switch (r.nextInt(4)) {
                case 0 -> out[r.nextInt(out.length)] ^= (byte) (1 << r.nextInt(8));
                case 1 -> out[r.nextInt(out.length)] = (byte) r.nextInt(256);
                case 2 -> out = Arrays.copyOf(out, Math.max(1, r.nextInt(out.length + 1)));
                default -> {
                    byte[] longer = Arrays.copyOf(out, out.length + 1 + r.nextInt(8));
                    for (int j = out.length; j < longer.length; j++) {
                        longer[j] = (byte) r.nextInt(256);
                    }
                    out = longer;
                }
            }
        }
        return out;
    }

    @Property(tries = 300)
    void randomBytesOnlyFailToDecode(@ForAll @Size(max = 300) byte[] bytes) throws Exception {
        feedDecoders(bytes);
    }

    @Property(tries = 500)
    void mutatedMessagesOnlyFailToDecode(@ForAll long seed) throws Exception {
        byte[] sample = SAMPLES.get((int) Math.floorMod(seed, (long) SAMPLES.size()));
        feedDecoders(mutate(sample, seed));
    }

    @Property(tries = 300)
    void framesNeverAllocateBeyondTheirLimit(@ForAll @Size(max = 64) byte[] bytes) {
        try {
            byte[] f = Frames.read(new ByteArrayInputStream(bytes), 16);
            if (f.length > 16) {
                throw new AssertionError("frame of " + f.length + " bytes");
            }
        } catch (IOException expected) {
            // EOF or over the limit
        }
    }

    @Property(tries = 200)
    void noiseHandshakeWithRandomPeerOnlyFails(@ForAll @Size(max = 200) byte[] bytes, @ForAll boolean initiator) {
        try {
            NoiseStream.handshake(
                    null,
                    new ByteArrayInputStream(bytes),
                    new ByteArrayOutputStream(),
                    initiator ? NoiseHandshake.Role.INITIATOR : NoiseHandshake.Role.RESPONDER);
        } catch (IOException expected) {
            // EOF, oversized or undecryptable handshake message
        }
    }

    /** A socket whose streams are given: the server side of the preface without a network. */
    static final class FakeSocket extends java.net.Socket {
        final java.io.InputStream in;
        final java.io.OutputStream out = new ByteArrayOutputStream();

        FakeSocket(byte[] bytes) {
            this.in = new ByteArrayInputStream(bytes);
        }

        @Override
        public java.io.InputStream getInputStream() {
            return in;
        }

        @Override
        public java.io.OutputStream getOutputStream() {
            return out;
        }

        @Override
        public void setTcpNoDelay(boolean on) {
            // no socket
        }
    }

    @Property(tries = 300)
    void prefaceWithRandomClientOnlyFails(@ForAll @Size(max = 300) byte[] bytes, @ForAll boolean validPrefix) {
        byte[] input = bytes;
        if (validPrefix) {
            // A well-formed Encryption frame first, so the random rest reaches the Noise handshake.
            byte[] enc = Net.Encryption.newBuilder()
                    .setNoiseNn(Net.Encryption.NoiseNN.getDefaultInstance())
                    .build()
                    .toByteArray();
            input = new byte[4 + enc.length + bytes.length];
            input[0] = (byte) enc.length;
            System.arraycopy(enc, 0, input, 4, enc.length);
            System.arraycopy(bytes, 0, input, 4 + enc.length, bytes.length);
        }
        try {
            Preface.accept(new FakeSocket(input));
            throw new AssertionError("random bytes passed the preface");
        } catch (IOException expected) {
            // EOF, a frame over the limit, a malformed message or a failed Noise handshake
        }
    }

    /** A server connection fed random application frames through a real Noise session on loopback. */
    @Property(tries = 40)
    void connectionRefusesRandomFramesAndCloses(
            @ForAll @Size(min = 1, max = 2000) byte[] bytes, @ForAll boolean validHeader) throws Exception {
        try (java.net.ServerSocket server = new java.net.ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            var accepted = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                try {
                    return NoiseStream.server(server.accept());
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            java.net.Socket client = new java.net.Socket(InetAddress.getLoopbackAddress(), server.getLocalPort());
            try (NoiseStream c = NoiseStream.client(client)) {
                NoiseStream s = accepted.get(5, java.util.concurrent.TimeUnit.SECONDS);
                RpcConfig rpc = RpcConfig.defaults(1 << 20, 1 << 16);
                java.util.Map<Rpc, Connection.Handler> handlers = new java.util.EnumMap<>(Rpc.class);
                handlers.put(Rpc.GET_BLOCK, req -> {
                    NetCodec.parse(Net.GetBlockReq.parser(), req, "GetBlockReq");
                    return new byte[0];
                });
                Connection conn = new Connection("fuzzed", s, rpc, handlers, null, null)
                        .serveItems(Rpc.PUSH_TXS, (req, meter) -> {
                            meter.take(NetCodec.decodePushTxs(req).size());
                            return new byte[0];
                        })
                        .start();
                byte[] out = bytes;
                if (validHeader && bytes.length >= Connection.HEADER) {
                    // A request for a served rpc whose declared length is what follows: the body reaches a handler.
                    out = bytes.clone();
                    out[0] = Connection.REQUEST;
                    out[1] = (byte) (bytes[1] % 2 == 0 ? Rpc.GET_BLOCK.id() : Rpc.PUSH_TXS.id());
                    int len = Math.min(bytes.length - Connection.HEADER, 1000);
                    out[6] = 0;
                    out[7] = 0;
                    out[8] = (byte) (len >>> 8);
                    out[9] = (byte) len;
                }
                c.out().write(out);
                c.out().flush();
                client.shutdownOutput();
                // Whatever the bytes, the connection ends with a reason (a violation or the EOF), never a dead reader.
                String reason = conn.closed().get(5, java.util.concurrent.TimeUnit.SECONDS);
                if (reason == null || reason.isEmpty()) {
                    throw new AssertionError("closed without a reason");
                }
            }
        }
    }
}
