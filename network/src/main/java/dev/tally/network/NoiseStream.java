package dev.tally.network;

import java.io.BufferedInputStream;
import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.security.GeneralSecurityException;
import java.util.Arrays;

/**
 * A byte stream over TCP encrypted with {@value #PROTOCOL} ({@link NoiseHandshake}, then {@link NoiseCipher}s on
 * the JDK's ChaCha20-Poly1305, byte for byte what noise-java sends). On the wire, every Noise message (handshake or
 * transport) is {@code u16 little-endian length ++ message}, the message at most {@value #MAX_MESSAGE} bytes, so a
 * transport message carries at most {@value #MAX_PAYLOAD} plaintext bytes; larger writes are split. The NN pattern
 * authenticates nobody: the endpoint handshake that follows signs {@link #sessionId()} (the handshake hash) with the
 * node's or validator's key.
 *
 * <p>One thread may read and another write at the same time; neither side is safe for concurrent use by more than
 * one thread. Buffers start at {@value #INITIAL_BUFFER} bytes and grow to the largest message seen, at most
 * {@value #MAX_MESSAGE} bytes: at n = 100 a validator holds about 200 connections, most carrying messages of a few
 * hundred bytes, and buffers of the largest size (320 KiB a connection) were 64 MB per validator; with 25 validators
 * in one JVM their churn of garbage stalled it in collections longer than the ping timeout.
 */
final class NoiseStream implements Closeable {
    static final String PROTOCOL = "Noise_NN_25519_ChaChaPoly_SHA256";
    static final int MAX_MESSAGE = 65535;
    static final int MAC_LENGTH = NoiseCipher.MAC_LENGTH;
    static final int MAX_PAYLOAD = MAX_MESSAGE - MAC_LENGTH;
    /** NN handshake messages carry an ephemeral key (32 bytes) and an empty payload (+16 bytes of MAC at most). */
    static final int MAX_HANDSHAKE_MESSAGE = 256;
    /** The size buffers start at, and of the buffered raw input under each stream (larger reads bypass it). */
    static final int INITIAL_BUFFER = 8192;
    /** Transport messages authenticate no associated data. */
    private static final byte[] NO_AD = new byte[0];

    private final Socket socket;
    private final byte[] sessionId;
    private final Input input;
    private final Output output;

    private NoiseStream(
            Socket socket, InputStream rawIn, OutputStream rawOut, NoiseHandshake.Ciphers ciphers, byte[] sessionId) {
        this.socket = socket;
        this.sessionId = sessionId;
        this.input = new Input(rawIn, ciphers.receiver());
        this.output = new Output(rawOut, ciphers.sender());
    }

    static NoiseStream client(Socket socket) throws IOException {
        return handshake(socket, NoiseHandshake.Role.INITIATOR);
    }

    static NoiseStream server(Socket socket) throws IOException {
        return handshake(socket, NoiseHandshake.Role.RESPONDER);
    }

    /** Runs the NN handshake over the raw socket streams. */
    static NoiseStream handshake(Socket socket, NoiseHandshake.Role role) throws IOException {
        InputStream in = new BufferedInputStream(socket.getInputStream(), INITIAL_BUFFER);
        OutputStream out = socket.getOutputStream();
        return handshake(socket, in, out, role);
    }

    static NoiseStream handshake(Socket socket, InputStream in, OutputStream out, NoiseHandshake.Role role)
            throws IOException {
        return handshake(socket, in, out, new NoiseHandshake(role));
    }

    /** Runs the given handshake's messages over the streams, each {@code u16 little-endian length ++ message}. */
    static NoiseStream handshake(Socket socket, InputStream in, OutputStream out, NoiseHandshake hs)
            throws IOException {
        byte[] buf = new byte[MAX_HANDSHAKE_MESSAGE];
        while (!hs.done()) {
            if (hs.writesNext()) {
                byte[] m = hs.writeMessage();
                buf[0] = (byte) m.length;
                buf[1] = (byte) (m.length >>> 8);
                System.arraycopy(m, 0, buf, 2, m.length);
                out.write(buf, 0, m.length + 2);
                out.flush();
            } else {
                int n = readLength(in);
                if (n > MAX_HANDSHAKE_MESSAGE - 2) {
                    throw new HandshakeException("noise handshake message of " + n + " bytes is too large");
                }
                readFully(in, buf, 0, n);
                hs.readMessage(buf, n);
            }
        }
        NoiseHandshake.Ciphers ciphers = hs.split();
        return new NoiseStream(socket, in, out, ciphers, hs.handshakeHash());
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

    /**
     * {@code buffer}, or a larger copy of it (doubled, at most {@code max}) if it holds fewer than {@code needed} bytes.
     */
    private static byte[] atLeast(byte[] buffer, int needed, int max) {
        if (buffer.length >= needed) {
            return buffer;
        }
        int size = buffer.length;
        while (size < needed) {
            size = Math.min(2 * size, max);
        }
        return Arrays.copyOf(buffer, size);
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
        private final NoiseCipher cipher;
        private byte[] frame = new byte[INITIAL_BUFFER];
        private byte[] plain = new byte[INITIAL_BUFFER];
        private int pos;
        private int limit;

        Input(InputStream raw, NoiseCipher cipher) {
            this.raw = raw;
            this.cipher = cipher;
        }

        private void fill() throws IOException {
            while (pos >= limit) {
                int n = readLength(raw);
                if (n < MAC_LENGTH) {
                    throw new ProtocolException("noise message of " + n + " bytes is shorter than its MAC");
                }
                frame = atLeast(frame, n, MAX_MESSAGE);
                plain = atLeast(plain, n - MAC_LENGTH, MAX_PAYLOAD);
                readFully(raw, frame, 0, n);
                try {
                    limit = cipher.decryptWithAd(NO_AD, frame, 0, n, plain, 0);
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

    /**
     * Buffers plaintext and seals it into transport messages of at most {@value #MAX_PAYLOAD} bytes: one message per
     * flush while that holds (the plaintext buffer grows to it), the rest split.
     */
    private static final class Output extends OutputStream {
        private final OutputStream raw;
        private final NoiseCipher cipher;
        private byte[] plain = new byte[INITIAL_BUFFER];
        private byte[] frame = new byte[INITIAL_BUFFER];
        private int count;

        Output(OutputStream raw, NoiseCipher cipher) {
            this.raw = raw;
            this.cipher = cipher;
        }

        @Override
        public void write(int b) throws IOException {
            if (count == MAX_PAYLOAD) {
                seal(plain, 0, count);
                count = 0;
            }
            plain = atLeast(plain, count + 1, MAX_PAYLOAD);
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
                int n = Math.min(len, MAX_PAYLOAD - count);
                plain = atLeast(plain, count + n, MAX_PAYLOAD);
                System.arraycopy(b, off, plain, count, n);
                count += n;
                off += n;
                len -= n;
                if (count == MAX_PAYLOAD) {
                    seal(plain, 0, count);
                    count = 0;
                }
            }
        }

        private void seal(byte[] src, int off, int len) throws IOException {
            int n;
            frame = atLeast(frame, 2 + len + MAC_LENGTH, MAX_MESSAGE + 2);
            try {
                n = cipher.encryptWithAd(NO_AD, src, off, len, frame, 2);
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
