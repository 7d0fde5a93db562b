package dev.tally.network;

import com.google.protobuf.ByteString;
import dev.tally.crypto.NodeSecretKey;
import dev.tally.network.proto.Net;
import dev.tally.protocol.Codec;
import dev.tally.protocol.DecodeException;
import dev.tally.protocol.FinalBlock;
import dev.tally.protocol.GenesisHash;
import dev.tally.protocol.TestChain;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
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
 * ({@link DecodeException} from decoders; {@link IOException}, mostly {@link ProtocolException}, from the wire
 * steps), and nothing allocates more than the frame limits allow.
 */
class DecoderFuzzProperties {
    static final TestChain CHAIN = TestNets.chain();
    static final GenesisHash GENESIS = CHAIN.genesis.hash();
    static final byte[] SESSION = new byte[32];
    static final NodeSecretKey NODE = NodeSecretKey.fromBytes(new byte[32]);

    /** Valid encodings of every message a peer can send, to mutate. */
    static final List<byte[]> SAMPLES;

    static {
        Arrays.fill(SESSION, (byte) 7);
        FinalBlock block = TestNets.blocks(2).get(1);
        SignedNetAddress addr = SignedNetAddress.sign(CHAIN.keys.get(0),
                new InetSocketAddress(InetAddress.getLoopbackAddress(), 3054), 5, Instant.ofEpochSecond(1_700_000_000, 5));
        SAMPLES = List.of(
                NetCodec.encode(addr),
                NetCodec.signSessionId(CHAIN.keys.get(0), SESSION),
                NetCodec.encode(GENESIS),
                Codec.encode(block),
                Codec.encode(CHAIN.sign(0, CHAIN.vote(3, 1, block.payload()))),
                Net.PushBlockStoreState.newBuilder().setState(NetCodec.encode(new BlockStoreState(0, Optional.of(block.justification()))))
                        .build().toByteArray(),
                Net.GetBlockResp.newBuilder().setBlock(ByteString.copyFrom(Codec.encode(block))).build().toByteArray(),
                Net.PushValidatorAddrs.newBuilder().addNetAddresses(ByteString.copyFrom(NetCodec.encode(addr))).build().toByteArray(),
                Net.GossipHandshake.newBuilder().setSessionId(NetCodec.signSessionId(NODE, SESSION)).setIsStatic(true)
                        .setGenesis(ByteString.copyFrom(NetCodec.encode(GENESIS))).build().toByteArray(),
                Net.ConsensusHandshake.newBuilder().setSessionId(ByteString.copyFrom(NetCodec.signSessionId(CHAIN.keys.get(1), SESSION)))
                        .setGenesis(ByteString.copyFrom(NetCodec.encode(GENESIS))).build().toByteArray(),
                Net.PushTx.newBuilder().setTx(ByteString.copyFromUtf8("tx")).build().toByteArray());
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
            b -> NetCodec.decode(NetCodec.parse(Net.PushBlockStoreState.parser(), b, "PushBlockStoreState").getState()),
            b -> NetCodec.parse(Net.GetBlockResp.parser(), b, "GetBlockResp"),
            b -> {
                for (ByteString a : NetCodec.parse(Net.PushValidatorAddrs.parser(), b, "PushValidatorAddrs").getNetAddressesList()) {
                    NetCodec.decodeSignedNetAddress(a.toByteArray());
                }
            },
            b -> NetCodec.parse(Net.PushTx.parser(), b, "PushTx"),
            b -> NetCodec.parse(Net.ConsensusReq.parser(), b, "ConsensusReq"),
            b -> NetCodec.parse(Net.GetBlockReq.parser(), b, "GetBlockReq"),
            b -> NetCodec.parse(Net.PingReq.parser(), b, "PingReq"),
            b -> NetCodec.parse(Net.Encryption.parser(), b, "Encryption"),
            b -> NetCodec.parse(Net.Endpoint.parser(), b, "Endpoint"));

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
            Handshake.checkConsensus(bytes, GENESIS, SESSION);
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
            NoiseStream.handshake(null, new ByteArrayInputStream(bytes), new ByteArrayOutputStream(),
                    initiator ? com.southernstorm.noise.protocol.HandshakeState.INITIATOR : com.southernstorm.noise.protocol.HandshakeState.RESPONDER);
        } catch (IOException expected) {
            // EOF, oversized or undecryptable handshake message
        }
    }
}
