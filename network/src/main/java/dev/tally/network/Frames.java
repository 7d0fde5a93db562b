package dev.tally.network;

import com.google.protobuf.MessageLite;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/** {@code u32 little-endian length ++ bytes} frames, used by the preface and the endpoint handshakes. */
final class Frames {
    /** The largest preface or handshake frame. */
    static final int MAX_HANDSHAKE_FRAME = 10 * 1024;

    private Frames() {}

    static void write(OutputStream out, MessageLite msg) throws IOException {
        byte[] b = msg.toByteArray();
        out.write(
                new byte[] {(byte) b.length, (byte) (b.length >>> 8), (byte) (b.length >>> 16), (byte) (b.length >>> 24)
                });
        out.write(b);
        out.flush();
    }

    /** Reads one frame, refusing (before allocating) one longer than {@code max}. */
    static byte[] read(InputStream in, int max) throws IOException {
        byte[] len = new byte[4];
        NoiseStream.readFully(in, len, 0, 4);
        long n = (len[0] & 0xffL) | (len[1] & 0xffL) << 8 | (len[2] & 0xffL) << 16 | (len[3] & 0xffL) << 24;
        if (n > max) {
            throw new ProtocolException("frame of " + n + " bytes exceeds the limit of " + max);
        }
        byte[] b = new byte[(int) n];
        NoiseStream.readFully(in, b, 0, b.length);
        return b;
    }
}
