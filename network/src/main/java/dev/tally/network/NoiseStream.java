package dev.tally.network;

import com.southernstorm.noise.protocol.CipherState;
import com.southernstorm.noise.protocol.CipherStatePair;
import com.southernstorm.noise.protocol.HandshakeState;
import java.io.BufferedInputStream;
import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.NoSuchAlgorithmException;

/**
 * A byte stream over TCP encrypted with {@value #PROTOCOL}. On the wire, every Noise message (handshake or
 * transport) is {@code u16 little-endian length ++ message}, the message at most {@value #MAX_MESSAGE} bytes, so a
 * transport message carries at most {@value #MAX_PAYLOAD} plaintext bytes; larger writes are split. The NN pattern
 * authenticates nobody: the endpoint handshake that follows signs {@link #sessionId()} (the handshake hash) with the
 * node's or validator's key.
 *
 * <p>One thread may read and another write at the same time; neither side is safe for concurrent use by more than
 * one thread. Buffers are fixed: two of {@value #MAX_MESSAGE} bytes per direction.
 */
final class NoiseStream implements Closeable {
    static final String PROTOCOL = "Noise_NN_25519_ChaChaPoly_SHA256";
    static final int MAX_MESSAGE = 65535;
    static final int MAC_LENGTH = 16;
    static final int MAX_PAYLOAD = MAX_MESSAGE - MAC_LENGTH;
    /** NN handshake messages carry an ephemeral key (32 bytes) and an empty payload (+16 bytes of MAC at most). */
    static final int MAX_HANDSHAKE_MESSAGE = 256;

    private final Socket socket;
    private final byte[] sessionId;
    private final Input input;
    private final Output output;

    private NoiseStream(
            Socket socket, InputStream rawIn, OutputStream rawOut, CipherStatePair ciphers, byte[] sessionId) {
        this.socket = socket;
        this.sessionId = sessionId;
        this.input = new Input(rawIn, ciphers.getReceiver());
        this.output = new Output(rawOut, ciphers.getSender());
    }

    static NoiseStream client(Socket socket) throws IOException {
        return handshake(socket, HandshakeState.INITIATOR);
    }

    static NoiseStream server(Socket socket) throws IOException {
        return handshake(socket, HandshakeState.RESPONDER);
    }

    /** Runs the NN handshake over the raw socket streams. */
    static NoiseStream handshake(Socket socket, int role) throws IOException {
        InputStream in = new BufferedInputStream(socket.getInputStream(), MAX_MESSAGE + 2);
        OutputStream out = socket.getOutputStream();
        return handshake(socket, in, out, role);
    }

    static NoiseStream handshake(Socket socket, InputStream in, OutputStream out, int role) throws IOException {
        HandshakeState hs;
        try {
            hs = new HandshakeState(PROTOCOL, role);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("noise-java lacks " + PROTOCOL, e);
        }
        try {
            hs.start();
            byte[] buf = new byte[MAX_HANDSHAKE_MESSAGE];
            byte[] payload = new byte[MAX_HANDSHAKE_MESSAGE];
            while (true) {
                switch (hs.getAction()) {
                    case HandshakeState.WRITE_MESSAGE -> {
                        int n = hs.writeMessage(buf, 2, new byte[0], 0, 0);
                        buf[0] = (byte) n;
                        buf[1] = (byte) (n >>> 8);
                        out.write(buf, 0, n + 2);
                        out.flush();
                    }
                    case HandshakeState.READ_MESSAGE -> {
                        int n = readLength(in);
                        if (n > MAX_HANDSHAKE_MESSAGE - 2) {
                            throw new HandshakeException("noise handshake message of " + n + " bytes is too large");
                        }
                        readFully(in, buf, 0, n);
                        int m = hs.readMessage(buf, 0, n, payload, 0);
                        if (m != 0) {
                            throw new HandshakeException("noise handshake message carries an unexpected payload");
                        }
                    }
                    case HandshakeState.SPLIT -> {
                        byte[] id = hs.getHandshakeHash().clone(); // destroy() wipes the original
                        CipherStatePair pair = hs.split();
                        return new NoiseStream(socket, in, out, pair, id);
                    }
                    default -> throw new HandshakeException("noise handshake failed (action " + hs.getAction() + ")");
                }
            }
        } catch (GeneralSecurityException | IllegalStateException e) {
            throw new HandshakeException("noise handshake failed: " + e.getMessage(), e);
        } finally {
            hs.destroy();
        }
    }

    /** The handshake hash: unique to this session, the same at both ends. */
    byte[] sessionId() {
        return sessionId.clone();
    }

    Socket socket() {
        return socket;
    }

    InputStream in() {
        return input;
    }

    OutputStream out() {
        return output;
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }

    static int readLength(InputStream in) throws IOException {
        int lo = in.read();
        int hi = in.read();
        if (lo < 0 || hi < 0) {
            throw new EOFException("connection closed");
        }
        return lo | (hi << 8);
    }

    static void readFully(InputStream in, byte[] b, int off, int len) throws IOException {
        while (len > 0) {
            int n = in.read(b, off, len);
            if (n < 0) {
                throw new EOFException("connection closed");
            }
            off += n;
            len -= n;
        }
    }

    /** Decrypts transport messages on demand. */
    private static final class Input extends InputStream {
        private final InputStream raw;
        private final CipherState cipher;
        private final byte[] frame = new byte[MAX_MESSAGE];
        private final byte[] plain = new byte[MAX_PAYLOAD];
        private int pos;
        private int limit;

        Input(InputStream raw, CipherState cipher) {
            this.raw = raw;
            this.cipher = cipher;
        }

        private void fill() throws IOException {
            while (pos >= limit) {
                int n = readLength(raw);
                if (n < MAC_LENGTH) {
                    throw new ProtocolException("noise message of " + n + " bytes is shorter than its MAC");
                }
                readFully(raw, frame, 0, n);
                try {
                    limit = cipher.decryptWithAd(null, frame, 0, plain, 0, n);
                } catch (GeneralSecurityException e) {
                    throw new ProtocolException("noise message does not decrypt: " + e.getMessage(), e);
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

        @Override
        public int available() {
            return limit - pos;
        }
    }

    /** Buffers plaintext and seals it into transport messages of at most {@value #MAX_PAYLOAD} bytes. */
    private static final class Output extends OutputStream {
        private final OutputStream raw;
        private final CipherState cipher;
        private final byte[] plain = new byte[MAX_PAYLOAD];
        private final byte[] frame = new byte[MAX_MESSAGE + 2];
        private int count;

        Output(OutputStream raw, CipherState cipher) {
            this.raw = raw;
            this.cipher = cipher;
        }

        @Override
        public void write(int b) throws IOException {
            if (count == plain.length) {
                seal(plain, 0, count);
                count = 0;
            }
            plain[count++] = (byte) b;
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            while (len > 0) {
                if (count == 0 && len >= MAX_PAYLOAD) {
                    // Seal straight from the caller's array: no copy for bulk data.
                    seal(b, off, MAX_PAYLOAD);
                    off += MAX_PAYLOAD;
                    len -= MAX_PAYLOAD;
                    continue;
                }
                int n = Math.min(len, plain.length - count);
                System.arraycopy(b, off, plain, count, n);
                count += n;
                off += n;
                len -= n;
                if (count == plain.length) {
                    seal(plain, 0, count);
                    count = 0;
                }
            }
        }

        private void seal(byte[] src, int off, int len) throws IOException {
            int n;
            try {
                n = cipher.encryptWithAd(null, src, off, frame, 2, len);
            } catch (GeneralSecurityException e) {
                throw new IOException("noise encryption failed: " + e.getMessage(), e);
            }
            frame[0] = (byte) n;
            frame[1] = (byte) (n >>> 8);
            raw.write(frame, 0, n + 2);
        }

        @Override
        public void flush() throws IOException {
            if (count > 0) {
                seal(plain, 0, count);
                count = 0;
            }
            raw.flush();
        }
    }
}
