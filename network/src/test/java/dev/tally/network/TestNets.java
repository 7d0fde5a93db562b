package dev.tally.network;

import dev.tally.protocol.TestChain;
import java.io.IOException;

/** Shared fixtures for the network tests. */
final class TestNets {
    private static TestChain chain;

    private TestNets() {}

    static synchronized TestChain chain() {
        if (chain == null) {
            chain = new TestChain(4);
        }
        return chain;
    }

    static void writeFrame(NoiseStream s, byte[] frame) throws IOException {
        byte[] len = {(byte) frame.length, (byte) (frame.length >>> 8), (byte) (frame.length >>> 16), (byte) (frame.length >>> 24)};
        s.out().write(len);
        s.out().write(frame);
        s.out().flush();
    }
}
