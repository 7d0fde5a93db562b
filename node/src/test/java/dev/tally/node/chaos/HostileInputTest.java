package dev.tally.node.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.ByteString;
import com.southernstorm.noise.protocol.CipherState;
import com.southernstorm.noise.protocol.CipherStatePair;
import com.southernstorm.noise.protocol.HandshakeState;
import dev.tally.crypto.NodeSecretKey;
import dev.tally.network.proto.Net;
import dev.tally.node.localnet.Localnet;
import dev.tally.node.localnet.RpcClient;
import dev.tally.protocol.proto.Validator;
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
        Localnet.Member m = Localnet.generate(dir, 1, 0, Duration.ofMillis(1000)).getFirst();
        node = Localnet.launch(m);
        RpcClient rpc = new RpcClient(m.config().rpcAddr().orElseThrow());
        InetSocketAddress target = m.config().serverAddr();
        long h0 = awaitHeight(rpc, 2, Duration.ofSeconds(120));
        Thread.sleep(2000); // let the JVM settle before the baseline
        Usage before = usage(node.pid());

        Random random = new Random(42);
        List<Attack> attacks = attacks();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
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
        System.out.printf("hostile input: %d rounds of %d attacks; height %d -> %d; %s -> %s%n", rounds, attacks.size(), h0,
                awaitHeight(rpc, h2 + 2, Duration.ofSeconds(1)), before, after);
        for (int i = 0; i < attacks.size(); i++) {
            assertThat(answered.get(i)).as("attack %s: connections the node closed", attacks.get(i).name()).isPositive();
        }
        assertThat(after.fds()).as("descriptors after the attack (before: %s)", before).isLessThan(before.fds() + 50);
        assertThat(after.threads()).as("threads after the attack (before: %s)", before).isLessThan(before.threads() + 50);
        assertThat(after.rssKb()).as("resident memory after the attack (before: %s)", before).isLessThan(before.rssKb() + 300_000);
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
        byte[] genesis = Validator.GenesisHash.newBuilder().setKeccak256(ByteString.copyFrom(new byte[32])).build().toByteArray();
        List<Attack> a = new ArrayList<>();
        a.add(new Attack("random bytes", (s, r) -> s.getOutputStream().write(bytes(r, 1 + r.nextInt(4096)))));
        a.add(new Attack("oversized preface frame", (s, r) -> s.getOutputStream().write(new byte[] {-1, -1, -1, 127, 1, 2, 3})));
        a.add(new Attack("truncated preface frame", (s, r) -> {
            byte[] enc = frame(Net.Encryption.newBuilder().setNoiseNn(Net.Encryption.NoiseNN.getDefaultInstance()).build().toByteArray());
            s.getOutputStream().write(enc, 0, 1 + r.nextInt(enc.length - 1));
            s.shutdownOutput();
        }));
        a.add(new Attack("garbage preface message", (s, r) -> s.getOutputStream().write(frame(bytes(r, r.nextInt(200))))));
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
            n.send(frame(Net.Endpoint.newBuilder().setConsensusNet(Net.Endpoint.ConsensusNet.getDefaultInstance()).build().toByteArray()));
            n.send(frame(Net.ConsensusHandshake.newBuilder().setSessionId(ByteString.copyFrom(bytes(r, 200)))
                    .setGenesis(ByteString.copyFrom(genesisOf(dir))).build().toByteArray()));
        }));
        return a;
    }

    private static byte[] gossipEndpoint() {
        return Net.Endpoint.newBuilder().setGossipNet(Net.Endpoint.GossipNet.getDefaultInstance()).build().toByteArray();
    }

    private static byte[] gossipHandshake(byte[] sessionId, NodeSecretKey key, byte[] sig, byte[] genesis) {
        return Net.GossipHandshake.newBuilder()
                .setSessionId(Net.NodeSigned.newBuilder().setMsg(Net.NodeMsg.newBuilder().setSessionId(ByteString.copyFrom(sessionId)))
                        .setKey(ByteString.copyFrom(key.publicKey().bytes())).setSig(ByteString.copyFrom(sig)))
                .setIsStatic(false).setGenesis(ByteString.copyFrom(genesis)).build().toByteArray();
    }

    private static byte[] genesisOf(Path dir) throws IOException {
        try {
            var g = Localnet.read(dir).getFirst().config().genesis();
            return Validator.GenesisHash.newBuilder().setKeccak256(ByteString.copyFrom(g.hash().keccak().bytes())).build().toByteArray();
        } catch (dev.tally.node.config.ConfigException e) {
            throw new IOException(e);
        }
    }

    private static void writePreface(Socket s) throws IOException {
        s.getOutputStream().write(frame(Net.Encryption.newBuilder().setNoiseNn(Net.Encryption.NoiseNN.getDefaultInstance()).build().toByteArray()));
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
        final byte[] sessionId;

        private Noise(Socket socket, CipherState send, byte[] sessionId) {
            this.socket = socket;
            this.send = send;
            this.sessionId = sessionId;
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
                            return new Noise(s, pair.getSender(), id);
                        }
                        default -> throw new IOException("noise handshake failed");
                    }
                }
            } catch (java.security.GeneralSecurityException e) {
                throw new IOException(e);
            }
        }

        void send(byte[] plain) throws IOException {
            byte[] out = new byte[plain.length + 16];
            try {
                int n = send.encryptWithAd(null, plain, 0, out, 0, plain.length);
                socket.getOutputStream().write(new byte[] {(byte) n, (byte) (n >>> 8)});
                socket.getOutputStream().write(out, 0, n);
            } catch (java.security.GeneralSecurityException e) {
                throw new IOException(e);
            }
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
