package dev.tally.network;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tally.crypto.BlsPublicKey;
import dev.tally.crypto.NodeSecretKey;
import dev.tally.protocol.TestChain;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/** How a validator sets up its consensus connections when a whole committee starts at once. */
class DialTest {
    @Test
    void eachValidatorDialsTheOthersStartingAfterItself() {
        TestChain chain = new TestChain(6);
        List<BlsPublicKey> keys =
                chain.committee().validators().stream().map(v -> v.key()).toList();
        assertThat(DialOrder.dialOrder(chain.committee(), keys.get(2)))
                .containsExactly(keys.get(3), keys.get(4), keys.get(5), keys.get(0), keys.get(1));
        assertThat(DialOrder.dialOrder(chain.committee(), keys.get(5)))
                .containsExactly(keys.get(0), keys.get(1), keys.get(2), keys.get(3), keys.get(4));
    }

    @Test
    void atMostAFewHandshakesRunAtOnce() throws Exception {
        TestChain chain = new TestChain(20);
        List<Socket> held = new CopyOnWriteArrayList<>();
        // Every peer's address is a listener that accepts and never answers: each dial waits out the handshake
        // timeout (5 s), so the sockets it holds after a second are the dials running at once.
        try (ServerSocket silent = new ServerSocket(0, 100)) {
            Thread.ofVirtual().start(() -> {
                try {
                    while (true) {
                        held.add(silent.accept());
                    }
                } catch (java.io.IOException e) {
                    // closed
                }
            });
            InetSocketAddress silentAddr =
                    new InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), silent.getLocalPort());
            var b = TestNets.config(NodeSecretKey.generate(), chain)
                    .listen(LoopbackPorts.freeAddress())
                    .validatorKey(chain.keys.get(0));
            for (int j = 1; j < 20; j++) {
                b.validatorAddress(chain.keys.get(j).publicKey(), silentAddr);
            }
            Network net =
                    Network.start(b.build(), new TestNets.MemoryStore(0), new TestNets.MemoryStore(0), TestNets.NO_TXS);
            try {
                TestNets.await("first dials", Duration.ofSeconds(5), () -> !held.isEmpty());
                Thread.sleep(1_500);
                assertThat(held).hasSize(ConsensusMesh.MAX_DIALS);
            } finally {
                net.close();
                for (Socket s : held) {
                    s.close();
                }
            }
        }
    }
}
