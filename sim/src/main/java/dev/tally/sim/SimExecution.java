package dev.tally.sim;

import dev.tally.protocol.Payload;
import java.nio.ByteBuffer;
import java.util.SplittableRandom;

/**
 * The simulated execution layer: real payloads that can be checked. A payload is the block number it was built
 * for, the proposer's node id, some transactions (random bytes) and a checksum over all of it; a payload is valid
 * for block n only if it names n and its checksum holds.
 */
final class SimExecution {
    private static final int HEADER = 8 + 4;
    private static final int CHECKSUM = 8;

    private SimExecution() {}

    static Payload propose(long blockNumber, int node, SplittableRandom rng) {
        int txBytes = 16 + rng.nextInt(112);
        ByteBuffer b = ByteBuffer.allocate(HEADER + txBytes + CHECKSUM);
        b.putLong(blockNumber).putInt(node);
        for (int i = 0; i < txBytes; i++) {
            b.put((byte) rng.nextInt(256));
        }
        b.putLong(checksum(b.array(), b.position()));
        return Payload.of(b.array());
    }

    /** A payload that names the right block but whose checksum is wrong: the execution layer refuses it. */
    static Payload corrupt(long blockNumber, int node, SplittableRandom rng) {
        byte[] bytes = propose(blockNumber, node, rng).bytes().toByteArray();
        bytes[bytes.length - 1] ^= 1;
        return Payload.of(bytes);
    }

    /** Why the payload is not acceptable for this block, or null if it is. */
    static String verify(long blockNumber, Payload payload) {
        byte[] bytes = payload.bytes().toByteArray();
        if (bytes.length < HEADER + CHECKSUM) {
            return "payload of " + bytes.length + " bytes is shorter than its header";
        }
        ByteBuffer b = ByteBuffer.wrap(bytes);
        if (b.getLong(0) != blockNumber) {
            return "payload built for block " + b.getLong(0) + ", proposed as block " + blockNumber;
        }
        if (b.getLong(bytes.length - CHECKSUM) != checksum(bytes, bytes.length - CHECKSUM)) {
            return "payload checksum mismatch";
        }
        return null;
    }

    private static long checksum(byte[] bytes, int length) {
        long h = 0xcbf29ce484222325L;
        for (int i = 0; i < length; i++) {
            h = (h ^ (bytes[i] & 0xff)) * 0x100000001b3L;
        }
        return h;
    }
}
