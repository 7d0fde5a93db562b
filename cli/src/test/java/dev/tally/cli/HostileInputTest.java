package dev.tally.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.ByteString;
import com.southernstorm.noise.protocol.CipherState;
import com.southernstorm.noise.protocol.CipherStatePair;
import com.southernstorm.noise.protocol.HandshakeState;
import dev.tally.crypto.NodeSecretKey;
import dev.tally.network.proto.Net;
import dev.tally.protocol.proto.Validator;
import dev.tally.testbed.localnet.Localnet;
import dev.tally.testbed.localnet.RpcClient;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hostile input at the socket of a real node process (a one-validator network, which finalizes on its own): random
 * bytes, truncated and oversized frames at every layer (preface, Noise handshake, Noise transport, endpoint
 * handshake), wrong genesis, bad and replayed signatures, and many idle half-open connections. The decoders are
 * fuzzed in-process by the network module's {@code DecoderFuzzTest}; this checks the assembled process: it keeps
 * finalizing throughout, and once the attack stops its threads and file descriptors return near where they were and
 * its resident memory stays bounded.
 */
class HostileInputTest {
    private static final String NOISE = "Noise_NN_25519_ChaChaPoly_SHA256";

    @TempDir
    Path dir;

    Process node;

    @AfterEach
    void stop() throws InterruptedException {
        if (node != null) {
            node.destroy();
            if (!node.waitFor(15, TimeUnit.SECONDS)) {
                node.destroyForcibly();
            }
        }
    }

    @Test
    @EnabledOnOs(OS.LINUX) // reads the node's threads, descriptors and memory from /proc
    @Timeout(value = 5, unit = TimeUnit.MINUTES)
    void aNodeUnderHostileInputKeepsFinalizingWithBoundedResources() throws Exception {
        Localnet.Member m =
                Localnet.generate(dir, 1, 0, Duration.ofMillis(1000)).getFirst();
        node = Localnet.launch(m);
        RpcClient rpc = new RpcClient(m.config().rpcAddr().orElseThrow());
        InetSocketAddress target = m.config().serverAddr();
        long h0 = awaitHeight(rpc, 2, Duration.ofSeconds(120));
        Thread.sleep(2000); // let the JVM settle before the baseline
        Usage before = usage(node.pid());

        Random random = new Random(42);
        List<Attack> attacks = attacks();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        int rounds = 0;
        AtomicIntegerArray answered = new AtomicIntegerArray(attacks.size());
        while (System.nanoTime() < deadline) {
            // Every attack at once, each on its own connection; seeds fixed per round and attack.
            List<Thread> threads = new ArrayList<>();
            for (int i = 0; i < attacks.size(); i++) {
                int a = i;
                Random r = new Random(random.nextLong());
                threads.add(Thread.ofVirtual().start(() -> {
                    try (Socket s = new Socket()) {
                        s.connect(target, 2000);
                        s.setSoTimeout(2000);
                        attacks.get(a).run(s, r);
                        // The node must close the connection (at the latest when its handshake timeout passes).
                        if (drainUntilClosed(s)) {
                            answered.incrementAndGet(a);
                        }
                    } catch (IOException e) {
                        answered.incrementAndGet(a); // reset by the node: refused, as it should be
                    }
                }));
            }
            for (Thread t : threads) {
                t.join();
            }
            rounds++;
        }
        long h1 = awaitHeight(rpc, h0 + 1, Duration.ofSeconds(30));
        assertThat(node.isAlive()).isTrue();
        assertThat(h1).as("finalized during the attack").isGreaterThan(h0);

        // Many idle connections, then all closed: the node must not keep their threads or descriptors.
        List<Socket> idle = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            Socket s = new Socket();
            s.connect(target, 2000);
            s.getOutputStream().write(new byte[] {5, 0}); // an incomplete preface frame, then silence
            idle.add(s);
        }
        long h2 = awaitHeight(rpc, h1 + 1, Duration.ofSeconds(30));
        for (Socket s : idle) {
            s.close();
        }
        awaitHeight(rpc, h2 + 2, Duration.ofSeconds(30));
        Thread.sleep(7000); // the node's preface timeout (5 s) closes what it has not noticed closed
        Usage after = usage(node.pid());
        System.out.printf(
                "hostile input: %d rounds of %d attacks; height %d -> %d; %s -> %s%n",
                rounds, attacks.size(), h0, awaitHeight(rpc, h2 + 2, Duration.ofSeconds(1)), before, after);
        for (int i = 0; i < attacks.size(); i++) {
            assertThat(answered.get(i))
                    .as("attack %s: connections the node closed", attacks.get(i).name())
                    .isPositive();
        }
        assertThat(after.fds())
                .as("descriptors after the attack (before: %s)", before)
                .isLessThan(before.fds() + 50);
        assertThat(after.threads())
                .as("threads after the attack (before: %s)", before)
                .isLessThan(before.threads() + 50);
        assertThat(after.rssKb())
                .as("resident memory after the attack (before: %s)", before)
                .isLessThan(before.rssKb() + 300_000);
    }

    /**
     * A Byzantine validator (one of six, so within f) authenticated on the consensus endpoint of the five honest
     * ones sends what an honest one never would: votes for stale and far-future views, votes signed by another key,
     * new-views whose commit QC carries huge or wrongly sized signer bitmaps, garbage messages and frames declaring
     * more bytes than allowed. The five keep finalizing and agree.
     */
    @Test
    @EnabledOnOs(OS.LINUX)
    @Timeout(value = 6, unit = TimeUnit.MINUTES)
    void aByzantineValidatorsHostileMessagesDoNotStopTheOthers() throws Exception {
        List<Localnet.Member> members = Localnet.generate(dir, 6, 0, Duration.ofMillis(1000));
        List<Process> honest = new ArrayList<>();
        try {
            for (int i = 0; i < 5; i++) {
                honest.add(Localnet.launch(members.get(i)));
            }
            List<RpcClient> rpc = members.subList(0, 5).stream()
                    .map(m -> new RpcClient(m.config().rpcAddr().orElseThrow()))
                    .toList();
            long h0 = awaitHeight(rpc.getFirst(), 3, Duration.ofSeconds(180));
            dev.tally.crypto.BlsSecretKey byzantine =
                    members.get(5).config().validatorKey().orElseThrow();
            dev.tally.crypto.BlsSecretKey stranger = dev.tally.crypto.BlsSecretKey.generate();
            dev.tally.protocol.Genesis genesis = members.getFirst().config().genesis();
            dev.tally.protocol.GenesisHash gh = genesis.hash();
            Random r = new Random(7);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(25);
            int sent = 0;
            int connections = 0;
            int accepted = 0;
            while (System.nanoTime() < deadline) {
                long view = rpc.getFirst().call("last_view").get("view").asLong();
                for (int target = 0; target < 5; target++) {
                    try (Socket s = new Socket()) {
                        s.connect(members.get(target).config().serverAddr(), 2000);
                        s.setSoTimeout(2000);
                        Noise n = Noise.connect(s);
                        // Every other connection on the stream endpoint, whose messages are one-way frames.
                        boolean stream = connections % 2 == 1;
                        Net.Endpoint.Builder endpoint = Net.Endpoint.newBuilder();
                        if (stream) {
                            endpoint.setConsensusStream(Net.Endpoint.ConsensusStream.getDefaultInstance());
                        } else {
                            endpoint.setConsensusNet(Net.Endpoint.ConsensusNet.getDefaultInstance());
                        }
                        n.send(frame(endpoint.build().toByteArray()));
                        n.send(frame(consensusHandshake(n.sessionId, byzantine, gh)));
                        connections++;
                        // The node answers with its own handshake only when it accepted ours.
                        Net.ConsensusHandshake reply = Net.ConsensusHandshake.parseFrom(n.receiveFrame());
                        if (reply.hasSessionId()) {
                            accepted++;
                        }
                        for (int call = 0; call < 3; call++) { // the consensus RPC allows three calls in flight
                            byte[] body = hostileConsensusMessage(r, byzantine, stranger, gh, view);
                            long declared = r.nextInt(20) == 0 ? Integer.MAX_VALUE : body.length;
                            n.send(stream ? appFrame(3, 0, declared, body) : appFrame(1, call, declared, body));
                            sent++;
                        }
                        s.shutdownOutput();
                        drainUntilClosed(s);
                    } catch (IOException e) {
                        // dropped by the node: fine
                    }
                }
            }
            for (int i = 0; i < 5; i++) {
                assertThat(honest.get(i).isAlive())
                        .as("honest validator %d alive", i)
                        .isTrue();
            }
            long h1 = awaitHeight(rpc.getFirst(), h0 + 5, Duration.ofSeconds(60));
            for (RpcClient c : rpc) {
                awaitHeight(c, h1, Duration.ofSeconds(60));
            }
            assertSameBlocks(rpc, h0, h1);
            System.out.printf(
                    "byzantine validator: %d hostile messages over %d connections (%d handshakes accepted); height %d -> %d%n",
                    sent, connections, accepted, h0, h1);
            assertThat(accepted)
                    .as("consensus handshakes the honest validators accepted")
                    .isGreaterThan(connections / 2);
        } finally {
            LocalnetEndToEndTest.stopAll(honest);
        }
    }

    /** Every validator behind {@code rpc} holds the same block at every height from {@code from} to {@code to}. */
    private static void assertSameBlocks(List<RpcClient> rpc, long from, long to)
            throws IOException, InterruptedException {
        for (long b = from; b <= to; b++) {
            java.util.Set<String> hashes = new java.util.HashSet<>();
            for (RpcClient c : rpc) {
                hashes.add(c.call("block", b).get("payload_hash").asText());
            }
            assertThat(hashes).as("block %d across the honest validators", b).hasSize(1);
        }
    }

    private static byte[] consensusHandshake(
            byte[] sessionId, dev.tally.crypto.BlsSecretKey key, dev.tally.protocol.GenesisHash genesis) {
        Validator.Msg msg = Validator.Msg.newBuilder()
                .setSessionId(ByteString.copyFrom(sessionId))
                .build();
        byte[] hash = dev.tally.crypto.Keccak256.of(msg.toByteArray()).bytes();
        byte[] signed = Validator.Signed.newBuilder()
                .setMsg(msg)
                .setKey(Validator.PublicKey.newBuilder()
                        .setBls12381(ByteString.copyFrom(key.publicKey().bytes())))
                .setSig(Validator.Signature.newBuilder()
                        .setBls12381(ByteString.copyFrom(key.sign(hash).bytes())))
                .build()
                .toByteArray();
        return Net.ConsensusHandshake.newBuilder()
                .setSessionId(ByteString.copyFrom(signed))
                .setGenesis(Validator.GenesisHash.newBuilder()
                        .setKeccak256(ByteString.copyFrom(genesis.keccak().bytes()))
                        .build()
                        .toByteString())
                .build()
                .toByteArray();
    }

    /** {@code u8 kind (1: request, 3: message) ++ u8 rpc (2: consensus) ++ u32 call ++ u32 length ++ body}, big-endian. */
    private static byte[] appFrame(int kind, int call, long declared, byte[] body) {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(10 + body.length);
        b.put((byte) kind).put((byte) 2).putInt(call).putInt((int) declared).put(body);
        return b.array();
    }

    private static byte[] hostileConsensusMessage(
            Random r,
            dev.tally.crypto.BlsSecretKey me,
            dev.tally.crypto.BlsSecretKey stranger,
            dev.tally.protocol.GenesisHash gh,
            long view) {
        dev.tally.protocol.BlockHeader header = new dev.tally.protocol.BlockHeader(
                Math.max(0, view - 1 - r.nextInt(3)),
                new dev.tally.protocol.PayloadHash(dev.tally.crypto.Keccak256.of(bytes(r, 16))));
        dev.tally.protocol.ReplicaCommit stale =
                new dev.tally.protocol.ReplicaCommit(new dev.tally.protocol.View(gh, 0, r.nextInt(2)), header);
        dev.tally.protocol.ReplicaCommit future = new dev.tally.protocol.ReplicaCommit(
                new dev.tally.protocol.View(gh, 0, view + 1_000_000_000L + r.nextInt(1000)), header);
        dev.tally.protocol.ReplicaCommit current =
                new dev.tally.protocol.ReplicaCommit(new dev.tally.protocol.View(gh, 0, view), header);
        byte[] msg = switch (r.nextInt(9)) {
            case 0 -> dev.tally.protocol.Codec.encode(dev.tally.protocol.Signed.sign(me, stale));
            case 1 -> dev.tally.protocol.Codec.encode(dev.tally.protocol.Signed.sign(me, future));
            case 2 ->
                dev.tally.protocol.Codec.encode(dev.tally.protocol.Signed.sign(
                        me,
                        new dev.tally.protocol.ReplicaTimeout(
                                future.view(), java.util.Optional.of(future), java.util.Optional.empty())));
            case 3 -> { // signed by someone else, claimed as ours
                var forged = dev.tally.protocol.Signed.sign(stranger, current);
                yield dev.tally.protocol.Codec.encode(
                        new dev.tally.protocol.Signed<>(current, me.publicKey(), forged.signature()));
            }
            case 4, 5 -> { // a new view whose commit QC has a huge (or wrongly sized) signer bitmap
                int size = r.nextBoolean() ? 1 << (16 + r.nextInt(8)) : 7;
                dev.tally.protocol.Signers signers = dev.tally.protocol.Signers.of(size, 0, 1, 2, 3, 4, size - 1);
                var agg = dev.tally.crypto.BlsAggregateSignature.aggregate(
                        List.of(dev.tally.protocol.Signed.sign(me, current).signature()));
                var qc = new dev.tally.protocol.CommitQC(current, signers, agg);
                yield dev.tally.protocol.Codec.encode(
                        dev.tally.protocol.Signed.sign(me, new dev.tally.protocol.ReplicaNewView(qc)));
            }
            case 6 ->
                dev.tally.protocol.Codec.encode(dev.tally.protocol.Signed.sign(me, current)); // an equivocating vote
            case 7 -> bytes(r, r.nextInt(500));
            default -> { // a valid message with bytes flipped
                byte[] b = dev.tally.protocol.Codec.encode(dev.tally.protocol.Signed.sign(me, current));
                for (int i = 0; i < 3; i++) {
                    b[r.nextInt(b.length)] ^= (byte) (1 + r.nextInt(255));
                }
                yield b;
            }
        };
        return Net.ConsensusReq.newBuilder()
                .setMsg(ByteString.copyFrom(msg))
                .build()
                .toByteArray();
    }

    /** One kind of hostile connection. */
    record Attack(String name, Step step) {
        void run(Socket s, Random r) throws IOException {
            step.run(s, r);
        }
    }

    interface Step {
        void run(Socket s, Random r) throws IOException;
    }

    private List<Attack> attacks() {
        byte[] genesis = Validator.GenesisHash.newBuilder()
                .setKeccak256(ByteString.copyFrom(new byte[32]))
                .build()
                .toByteArray();
        List<Attack> a = new ArrayList<>();
        a.add(new Attack("random bytes", (s, r) -> s.getOutputStream().write(bytes(r, 1 + r.nextInt(4096)))));
        a.add(new Attack(
                "oversized preface frame", (s, r) -> s.getOutputStream().write(new byte[] {-1, -1, -1, 127, 1, 2, 3})));
        a.add(new Attack("truncated preface frame", (s, r) -> {
            byte[] enc = frame(Net.Encryption.newBuilder()
                    .setNoiseNn(Net.Encryption.NoiseNN.getDefaultInstance())
                    .build()
                    .toByteArray());
            s.getOutputStream().write(enc, 0, 1 + r.nextInt(enc.length - 1));
            s.shutdownOutput();
        }));
        a.add(new Attack(
                "garbage preface message", (s, r) -> s.getOutputStream().write(frame(bytes(r, r.nextInt(200))))));
        a.add(new Attack("garbage noise handshake", (s, r) -> {
            writePreface(s);
            byte[] msg = bytes(r, r.nextInt(100));
            s.getOutputStream().write(new byte[] {(byte) msg.length, 0});
            s.getOutputStream().write(msg);
        }));
        a.add(new Attack("oversized noise handshake", (s, r) -> {
            writePreface(s);
            s.getOutputStream().write(new byte[] {-1, -1});
            s.getOutputStream().write(bytes(r, 1000));
        }));
        a.add(new Attack("forged noise transport", (s, r) -> {
            Noise.connect(s);
            byte[] junk = bytes(r, 16 + r.nextInt(1000));
            s.getOutputStream().write(new byte[] {(byte) junk.length, (byte) (junk.length >>> 8)});
            s.getOutputStream().write(junk);
        }));
        a.add(new Attack("truncated noise transport", (s, r) -> {
            Noise.connect(s);
            s.getOutputStream().write(new byte[] {-1, -1, 1, 2, 3});
            s.shutdownOutput();
        }));
        a.add(new Attack("no endpoint", (s, r) -> Noise.connect(s).send(frame(new byte[0]))));
        a.add(new Attack("garbage endpoint", (s, r) -> Noise.connect(s).send(frame(bytes(r, 1 + r.nextInt(50))))));
        a.add(new Attack("oversized handshake frame", (s, r) -> {
            Noise n = Noise.connect(s);
            n.send(frame(gossipEndpoint()));
            n.send(new byte[] {-1, -1, -1, -1});
            n.send(bytes(r, 2000));
        }));
        a.add(new Attack("garbage gossip handshake", (s, r) -> {
            Noise n = Noise.connect(s);
            n.send(frame(gossipEndpoint()));
            n.send(frame(bytes(r, r.nextInt(300))));
        }));
        a.add(new Attack("gossip handshake, wrong genesis", (s, r) -> {
            Noise n = Noise.connect(s);
            n.send(frame(gossipEndpoint()));
            NodeSecretKey k = NodeSecretKey.generate();
            n.send(frame(gossipHandshake(n.sessionId, k, bytes(r, 64), genesis)));
        }));
        a.add(new Attack("gossip handshake, bad signature", (s, r) -> {
            Noise n = Noise.connect(s);
            n.send(frame(gossipEndpoint()));
            n.send(frame(gossipHandshake(n.sessionId, NodeSecretKey.generate(), bytes(r, 64), genesisOf(dir))));
        }));
        a.add(new Attack("gossip handshake, another session", (s, r) -> {
            Noise n = Noise.connect(s);
            n.send(frame(gossipEndpoint()));
            n.send(frame(gossipHandshake(bytes(r, 32), NodeSecretKey.generate(), bytes(r, 64), genesisOf(dir))));
        }));
        a.add(new Attack("consensus handshake, not a validator", (s, r) -> {
            Noise n = Noise.connect(s);
            n.send(frame(Net.Endpoint.newBuilder()
                    .setConsensusNet(Net.Endpoint.ConsensusNet.getDefaultInstance())
                    .build()
                    .toByteArray()));
            n.send(frame(Net.ConsensusHandshake.newBuilder()
                    .setSessionId(ByteString.copyFrom(bytes(r, 200)))
                    .setGenesis(ByteString.copyFrom(genesisOf(dir)))
                    .build()
                    .toByteArray()));
        }));
        return a;
    }

    private static byte[] gossipEndpoint() {
        return Net.Endpoint.newBuilder()
                .setGossipNet(Net.Endpoint.GossipNet.getDefaultInstance())
                .build()
                .toByteArray();
    }

    private static byte[] gossipHandshake(byte[] sessionId, NodeSecretKey key, byte[] sig, byte[] genesis) {
        return Net.GossipHandshake.newBuilder()
                .setSessionId(Net.NodeSigned.newBuilder()
                        .setMsg(Net.NodeMsg.newBuilder().setSessionId(ByteString.copyFrom(sessionId)))
                        .setKey(ByteString.copyFrom(key.publicKey().bytes()))
                        .setSig(ByteString.copyFrom(sig)))
                .setIsStatic(false)
                .setGenesis(ByteString.copyFrom(genesis))
                .build()
                .toByteArray();
    }

    private static byte[] genesisOf(Path dir) throws IOException {
        try {
            var g = Localnet.read(dir).getFirst().config().genesis();
            return Validator.GenesisHash.newBuilder()
                    .setKeccak256(ByteString.copyFrom(g.hash().keccak().bytes()))
                    .build()
                    .toByteArray();
        } catch (dev.tally.node.config.ConfigException e) {
            throw new IOException(e);
        }
    }

    private static void writePreface(Socket s) throws IOException {
        s.getOutputStream()
                .write(frame(Net.Encryption.newBuilder()
                        .setNoiseNn(Net.Encryption.NoiseNN.getDefaultInstance())
                        .build()
                        .toByteArray()));
    }

    /** {@code u32 little-endian length ++ bytes}. */
    private static byte[] frame(byte[] b) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        o.write(b.length);
        o.write(b.length >>> 8);
        o.write(b.length >>> 16);
        o.write(b.length >>> 24);
        o.writeBytes(b);
        return o.toByteArray();
    }

    private static byte[] bytes(Random r, int n) {
        byte[] b = new byte[n];
        r.nextBytes(b);
        return b;
    }

    /** The client side of the preface's Noise NN handshake, and encrypted writes after it. */
    private static final class Noise {
        final Socket socket;
        final CipherState send;
        final CipherState receive;
        final byte[] sessionId;

        private Noise(Socket socket, CipherState send, CipherState receive, byte[] sessionId) {
            this.socket = socket;
            this.send = send;
            this.receive = receive;
            this.sessionId = sessionId;
        }

        /** Reads one {@code u32le length ++ bytes} frame from the decrypted stream. */
        byte[] receiveFrame() throws IOException {
            ByteArrayOutputStream plain = new ByteArrayOutputStream();
            InputStream in = socket.getInputStream();
            while (true) {
                byte[] p = plain.toByteArray();
                if (p.length >= 4) {
                    int n = (p[0] & 0xff) | (p[1] & 0xff) << 8 | (p[2] & 0xff) << 16 | (p[3] & 0xff) << 24;
                    if (n < 0 || n > 1 << 20) {
                        throw new IOException("frame of " + n + " bytes");
                    }
                    if (p.length >= 4 + n) {
                        return java.util.Arrays.copyOfRange(p, 4, 4 + n);
                    }
                }
                int len = in.read() | in.read() << 8;
                if (len < 0) {
                    throw new IOException("closed");
                }
                byte[] c = in.readNBytes(len);
                if (c.length < len) {
                    throw new IOException("closed");
                }
                byte[] out = new byte[len];
                try {
                    int m = receive.decryptWithAd(null, c, 0, out, 0, len);
                    plain.write(out, 0, m);
                } catch (java.security.GeneralSecurityException e) {
                    throw new IOException(e);
                }
            }
        }

        static Noise connect(Socket s) throws IOException {
            writePreface(s);
            OutputStream out = s.getOutputStream();
            InputStream in = s.getInputStream();
            try {
                HandshakeState hs = new HandshakeState(NOISE, HandshakeState.INITIATOR);
                hs.start();
                byte[] buf = new byte[65535];
                byte[] payload = new byte[65535];
                while (true) {
                    switch (hs.getAction()) {
                        case HandshakeState.WRITE_MESSAGE -> {
                            int n = hs.writeMessage(buf, 2, new byte[0], 0, 0);
                            buf[0] = (byte) n;
                            buf[1] = (byte) (n >>> 8);
                            out.write(buf, 0, n + 2);
                        }
                        case HandshakeState.READ_MESSAGE -> {
                            int n = in.read() | in.read() << 8;
                            in.readNBytes(buf, 0, n);
                            hs.readMessage(buf, 0, n, payload, 0);
                        }
                        case HandshakeState.SPLIT -> {
                            byte[] id = hs.getHandshakeHash().clone();
                            CipherStatePair pair = hs.split();
                            return new Noise(s, pair.getSender(), pair.getReceiver(), id);
                        }
                        default -> throw new IOException("noise handshake failed");
                    }
                }
            } catch (java.security.GeneralSecurityException e) {
                throw new IOException(e);
            }
        }

        /** Encrypts {@code plain} into transport messages of at most 65535 bytes each. */
        void send(byte[] plain) throws IOException {
            byte[] out = new byte[65535];
            int off = 0;
            do {
                int len = Math.min(65535 - 16, plain.length - off);
                try {
                    int n = send.encryptWithAd(null, plain, off, out, 0, len);
                    socket.getOutputStream().write(new byte[] {(byte) n, (byte) (n >>> 8)});
                    socket.getOutputStream().write(out, 0, n);
                } catch (java.security.GeneralSecurityException e) {
                    throw new IOException(e);
                }
                off += len;
            } while (off < plain.length);
        }
    }

    /** Reads until the node closes the connection; false if it kept it open past the read timeout. */
    private static boolean drainUntilClosed(Socket s) throws IOException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(8);
        byte[] buf = new byte[4096];
        while (System.nanoTime() < deadline) {
            try {
                if (s.getInputStream().read(buf) < 0) {
                    return true;
                }
            } catch (java.net.SocketTimeoutException e) {
                // still open; keep waiting for the node's timeout
            }
        }
        return false;
    }

    record Usage(long rssKb, long threads, long fds) {
        @Override
        public String toString() {
            return "rss " + rssKb / 1024 + " MB, " + threads + " threads, " + fds + " fds";
        }
    }

    private static Usage usage(long pid) throws IOException {
        long rss = 0;
        long threads = 0;
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
            if (line.startsWith("VmRSS:")) {
                rss = Long.parseLong(line.replaceAll("\\D", ""));
            } else if (line.startsWith("Threads:")) {
                threads = Long.parseLong(line.replaceAll("\\D", ""));
            }
        }
        long fds;
        try (var s = Files.list(Path.of("/proc", Long.toString(pid), "fd"))) {
            fds = s.count();
        }
        return new Usage(rss, threads, fds);
    }

    private static long awaitHeight(RpcClient rpc, long height, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        long last = -1;
        while (true) {
            try {
                JsonNode b = rpc.call("last_committed_block");
                if (!b.isNull()) {
                    last = b.get("number").asLong();
                }
            } catch (IOException e) {
                // starting
            }
            if (last >= height || System.nanoTime() > deadline) {
                assertThat(last).as("height within %s", timeout).isGreaterThanOrEqualTo(height);
                return last;
            }
            Thread.sleep(100);
        }
    }
}
