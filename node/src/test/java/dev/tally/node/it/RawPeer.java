package dev.tally.node.it;

import com.google.protobuf.ByteString;
import com.southernstorm.noise.protocol.CipherState;
import com.southernstorm.noise.protocol.CipherStatePair;
import com.southernstorm.noise.protocol.HandshakeState;
import dev.tally.crypto.BlsPublicKey;
import dev.tally.crypto.BlsSecretKey;
import dev.tally.crypto.Keccak256;
import dev.tally.crypto.NodeSecretKey;
import dev.tally.network.proto.Net;
import dev.tally.protocol.GenesisHash;
import dev.tally.protocol.proto.Validator;
import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A hand-rolled gossip client, written from the wire description rather than with the network module's classes (its
 * own code is package-private, and an independent client is a better check): the preface (plaintext
 * {@code u32le length ++ Encryption}, Noise NN, encrypted {@code Endpoint}), the gossip handshake, then application
 * frames {@code u8 kind ++ u8 rpc ++ u32 call id ++ u32 length ++ body} (big-endian) inside Noise transport messages
 * ({@code u16le length ++ ciphertext}). It can lie at every step: another genesis, a forged signature, oversized or
 * garbage frames, and it can call RPCs as fast as the server lets it.
 */
final class RawPeer implements AutoCloseable {
    static final int MAX_MESSAGE = 65535;
    static final int MAC = 16;
    static final byte REQUEST = 1;
    static final byte RESPONSE = 2;
    /** Wire ids, as the network module numbers its RPCs. */
    static final int PING = 1;

    static final int PUSH_BLOCK_STORE_STATE = 3;
    static final int GET_BLOCK = 4;
    static final int PUSH_TXS = 7;

    /** How the client lies in the gossip handshake. */
    enum Lie {
        NONE,
        WRONG_GENESIS,
        FORGED_SIGNATURE,
        OTHER_SESSION
    }

    final Socket socket;
    final NodeSecretKey key;
    private final InputStream rawIn;
    private final OutputStream rawOut;
    private final CipherState sender;
    private final CipherState receiver;
    private final byte[] sessionId;
    private final DataInputStream in;
    private final Object writeLock = new Object();
    private final AtomicInteger nextCall = new AtomicInteger();
    private final ConcurrentHashMap<Integer, CompletableFuture<byte[]>> pending = new ConcurrentHashMap<>();
    private volatile Thread reader;

    private RawPeer(Socket socket, NodeSecretKey key) throws IOException, GeneralSecurityException {
        this.socket = socket;
        this.key = key;
        this.rawIn = new BufferedInputStream(socket.getInputStream(), MAX_MESSAGE + 2);
        this.rawOut = socket.getOutputStream();
        writeU32le(
                rawOut,
                Net.Encryption.newBuilder()
                        .setNoiseNn(Net.Encryption.NoiseNN.getDefaultInstance())
                        .build()
                        .toByteArray());
        HandshakeState hs = new HandshakeState("Noise_NN_25519_ChaChaPoly_SHA256", HandshakeState.INITIATOR);
        hs.start();
        byte[] buf = new byte[256];
        byte[] payload = new byte[256];
        while (hs.getAction() != HandshakeState.SPLIT) {
            if (hs.getAction() == HandshakeState.WRITE_MESSAGE) {
                int n = hs.writeMessage(buf, 2, new byte[0], 0, 0);
                buf[0] = (byte) n;
                buf[1] = (byte) (n >>> 8);
                rawOut.write(buf, 0, n + 2);
                rawOut.flush();
            } else if (hs.getAction() == HandshakeState.READ_MESSAGE) {
                int n = readU16le(rawIn);
                readFully(rawIn, buf, n);
                hs.readMessage(buf, 0, n, payload, 0);
            } else {
                throw new IOException("noise handshake failed");
            }
        }
        this.sessionId = hs.getHandshakeHash().clone();
        CipherStatePair pair = hs.split();
        this.sender = pair.getSender();
        this.receiver = pair.getReceiver();
        this.in = new DataInputStream(new Decrypting());
    }

    /** Connects to a node's port, runs the preface for the gossip endpoint and the gossip handshake, lying as told. */
    static RawPeer gossip(InetSocketAddress addr, GenesisHash genesis, Lie lie) throws IOException {
        return gossip(addr, genesis, lie, NodeSecretKey.generate());
    }

    static RawPeer gossip(InetSocketAddress addr, GenesisHash genesis, Lie lie, NodeSecretKey key) throws IOException {
        return open(
                addr,
                key,
                Net.Endpoint.newBuilder()
                        .setGossipNet(Net.Endpoint.GossipNet.getDefaultInstance())
                        .build(),
                p -> p.gossipHandshake(genesis, lie));
    }

    /**
     * Connects to the consensus endpoint and sends a consensus handshake for validator key {@code claimed}, signed by
     * {@code signer} (a forgery when they differ), on {@code genesis}.
     */
    static RawPeer consensus(InetSocketAddress addr, GenesisHash genesis, BlsPublicKey claimed, BlsSecretKey signer)
            throws IOException {
        return open(
                addr,
                NodeSecretKey.generate(),
                Net.Endpoint.newBuilder()
                        .setConsensusNet(Net.Endpoint.ConsensusNet.getDefaultInstance())
                        .build(),
                p -> {
                    Validator.Msg msg = Validator.Msg.newBuilder()
                            .setSessionId(ByteString.copyFrom(p.sessionId))
                            .build();
                    byte[] hash = Keccak256.of(msg.toByteArray()).bytes();
                    byte[] signed = Validator.Signed.newBuilder()
                            .setMsg(msg)
                            .setKey(Validator.PublicKey.newBuilder().setBls12381(ByteString.copyFrom(claimed.bytes())))
                            .setSig(Validator.Signature.newBuilder()
                                    .setBls12381(ByteString.copyFrom(
                                            signer.sign(hash).bytes())))
                            .build()
                            .toByteArray();
                    return Net.ConsensusHandshake.newBuilder()
                            .setSessionId(ByteString.copyFrom(signed))
                            .setGenesis(Validator.GenesisHash.newBuilder()
                                    .setKeccak256(
                                            ByteString.copyFrom(genesis.keccak().bytes()))
                                    .build()
                                    .toByteString())
                            .build()
                            .toByteArray();
                });
    }

    private static RawPeer open(
            InetSocketAddress addr,
            NodeSecretKey key,
            Net.Endpoint endpoint,
            java.util.function.Function<RawPeer, byte[]> handshake)
            throws IOException {
        Socket s = new Socket();
        try {
            s.setTcpNoDelay(true);
            s.connect(addr, 5000);
            s.setSoTimeout(5000);
            RawPeer p = new RawPeer(s, key);
            p.send(u32le(endpoint.toByteArray()));
            p.send(u32le(handshake.apply(p)));
            // The server answers with its own handshake, or closes the connection on refusing ours.
            int n = Integer.reverseBytes(p.in.readInt());
            if (n < 0 || n > 10 * 1024) {
                throw new IOException("server handshake frame of " + n + " bytes");
            }
            p.in.readFully(new byte[n]);
            return p;
        } catch (GeneralSecurityException e) {
            s.close();
            throw new IOException(e);
        } catch (IOException | RuntimeException e) {
            s.close();
            throw e;
        }
    }

    private byte[] gossipHandshake(GenesisHash genesis, Lie lie) {
        byte[] gh = lie == Lie.WRONG_GENESIS ? new byte[32] : genesis.keccak().bytes();
        byte[] sid = lie == Lie.OTHER_SESSION ? new byte[32] : sessionId;
        byte[] signed = Net.NodeMsg.newBuilder()
                .setSessionId(ByteString.copyFrom(sid))
                .build()
                .toByteArray();
        // Forged: claims our key but carries a signature made by another one.
        NodeSecretKey signer = lie == Lie.FORGED_SIGNATURE ? NodeSecretKey.generate() : key;
        return Net.GossipHandshake.newBuilder()
                .setSessionId(Net.NodeSigned.newBuilder()
                        .setMsg(Net.NodeMsg.newBuilder().setSessionId(ByteString.copyFrom(sid)))
                        .setKey(ByteString.copyFrom(key.publicKey().bytes()))
                        .setSig(ByteString.copyFrom(signer.sign(signed).bytes())))
                .setIsStatic(false)
                .setGenesis(Validator.GenesisHash.newBuilder()
                        .setKeccak256(ByteString.copyFrom(gh))
                        .build()
                        .toByteString())
                .build()
                .toByteArray();
    }

    /** A push_txs response taking every transaction of the request. */
    private static byte[] acceptAll(byte[] pushTxs) throws IOException {
        Net.PushTxsResp.Builder r = Net.PushTxsResp.newBuilder();
        for (int i = Net.PushTxs.parseFrom(pushTxs).getTxsCount(); i > 0; i--) {
            r.addResults(Net.PushTxsResp.Result.ACCEPTED);
        }
        return r.build().toByteArray();
    }

    /** Starts the reader: completes our calls, answers the server's requests (pings echoed, the rest acknowledged). */
    RawPeer startReader() throws IOException {
        socket.setSoTimeout(0);
        reader = Thread.ofVirtual().name("raw-peer-read").start(() -> {
            try {
                byte[] h = new byte[10];
                while (true) {
                    in.readFully(h);
                    int rpc = h[1] & 0xff;
                    int call = getInt(h, 2);
                    byte[] body = new byte[getInt(h, 6)];
                    in.readFully(body);
                    if (h[0] == RESPONSE) {
                        CompletableFuture<byte[]> f = pending.remove(call);
                        if (f != null) {
                            f.complete(body);
                        }
                    } else {
                        frame(
                                RESPONSE,
                                rpc,
                                call,
                                rpc == PING ? body : rpc == PUSH_TXS ? acceptAll(body) : new byte[0]);
                    }
                }
            } catch (IOException e) {
                pending.values().forEach(f -> f.completeExceptionally(e));
                pending.clear();
            }
        });
        return this;
    }

    /** Calls an RPC and waits for its response; fails if the connection closes first. */
    byte[] call(int rpc, byte[] body) throws IOException, InterruptedException {
        int id = nextCall.incrementAndGet();
        CompletableFuture<byte[]> f = new CompletableFuture<>();
        pending.put(id, f);
        if (reader != null && !reader.isAlive()) {
            throw new EOFException("connection closed");
        }
        frame(REQUEST, rpc, id, body);
        try {
            return f.get(10, java.util.concurrent.TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IOException("call failed", e.getCause());
        } catch (java.util.concurrent.TimeoutException e) {
            throw new IOException("call timed out", e);
        } finally {
            pending.remove(id);
        }
    }

    /** Sends an application frame declaring {@code body.length} bytes. */
    void frame(byte kind, int rpc, int call, byte[] body) throws IOException {
        frame(kind, rpc, call, body.length, body);
    }

    /** Sends an application frame whose header declares {@code declared} bytes, followed by {@code body}. */
    void frame(byte kind, int rpc, int call, long declared, byte[] body) throws IOException {
        byte[] f = new byte[10 + body.length];
        f[0] = kind;
        f[1] = (byte) rpc;
        putInt(f, 2, call);
        putInt(f, 6, (int) declared);
        System.arraycopy(body, 0, f, 10, body.length);
        send(f);
    }

    /** Encrypts plaintext into transport messages and sends them. */
    void send(byte[] plain) throws IOException {
        synchronized (writeLock) {
            byte[] buf = new byte[MAX_MESSAGE + 2];
            for (int off = 0; off < plain.length || plain.length == 0; ) {
                int len = Math.min(MAX_MESSAGE - MAC, plain.length - off);
                int n;
                try {
                    n = sender.encryptWithAd(null, plain, off, buf, 2, len);
                } catch (GeneralSecurityException e) {
                    throw new IOException(e);
                }
                buf[0] = (byte) n;
                buf[1] = (byte) (n >>> 8);
                rawOut.write(buf, 0, n + 2);
                off += len;
                if (plain.length == 0) {
                    break;
                }
            }
            rawOut.flush();
        }
    }

    /** Writes bytes to the socket as they are, outside the encryption. */
    void sendRaw(byte[] bytes) throws IOException {
        synchronized (writeLock) {
            rawOut.write(bytes);
            rawOut.flush();
        }
    }

    /** True iff the server closes the connection within the timeout (what it sends meanwhile is read and dropped). */
    boolean closedByServer(Duration timeout) throws IOException, InterruptedException {
        if (reader != null) {
            reader.join(timeout);
            return !reader.isAlive();
        }
        socket.setSoTimeout(100);
        long deadline = System.nanoTime() + timeout.toNanos();
        byte[] buf = new byte[4096];
        while (System.nanoTime() < deadline) {
            try {
                if (rawIn.read(buf) < 0) {
                    return true;
                }
            } catch (SocketTimeoutException e) {
                // nothing yet
            } catch (IOException e) {
                return true;
            }
        }
        return false;
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }

    /** Decrypts transport messages on demand. */
    private final class Decrypting extends InputStream {
        private final byte[] frame = new byte[MAX_MESSAGE];
        private final byte[] plain = new byte[MAX_MESSAGE];
        private int pos;
        private int limit;

        private void fill() throws IOException {
            while (pos >= limit) {
                int n = readU16le(rawIn);
                readFully(rawIn, frame, n);
                try {
                    limit = receiver.decryptWithAd(null, frame, 0, plain, 0, n);
                } catch (GeneralSecurityException e) {
                    throw new IOException("does not decrypt", e);
                }
                pos = 0;
            }
        }

        @Override
        public int read() throws IOException {
            fill();
            return plain[pos++] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (len == 0) {
                return 0;
            }
            fill();
            int n = Math.min(len, limit - pos);
            System.arraycopy(plain, pos, b, off, n);
            pos += n;
            return n;
        }
    }

    static byte[] u32le(byte[] b) {
        byte[] f = new byte[4 + b.length];
        f[0] = (byte) b.length;
        f[1] = (byte) (b.length >>> 8);
        f[2] = (byte) (b.length >>> 16);
        f[3] = (byte) (b.length >>> 24);
        System.arraycopy(b, 0, f, 4, b.length);
        return f;
    }

    private static void writeU32le(OutputStream out, byte[] b) throws IOException {
        out.write(u32le(b));
        out.flush();
    }

    private static int readU16le(InputStream in) throws IOException {
        int lo = in.read();
        int hi = in.read();
        if (lo < 0 || hi < 0) {
            throw new EOFException("connection closed");
        }
        return lo | hi << 8;
    }

    private static void readFully(InputStream in, byte[] b, int len) throws IOException {
        for (int off = 0; off < len; ) {
            int n = in.read(b, off, len - off);
            if (n < 0) {
                throw new EOFException("connection closed");
            }
            off += n;
        }
    }

    private static void putInt(byte[] b, int off, int v) {
        b[off] = (byte) (v >>> 24);
        b[off + 1] = (byte) (v >>> 16);
        b[off + 2] = (byte) (v >>> 8);
        b[off + 3] = (byte) v;
    }

    private static int getInt(byte[] b, int off) {
        return (b[off] & 0xff) << 24 | (b[off + 1] & 0xff) << 16 | (b[off + 2] & 0xff) << 8 | (b[off + 3] & 0xff);
    }
}
