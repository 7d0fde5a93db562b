package dev.tally.network;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tally.crypto.BlsPublicKey;
import dev.tally.crypto.NodeSecretKey;
import dev.tally.protocol.TestChain;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.BiFunction;
import org.junit.jupiter.api.Test;

/** One consensus connection per pair of validators (docs/adr/0008): who dials it, and the grace before the other does. */
class SharedConnectionTest {

    @Test
    void ofEachPairExactlyOneDialsFirstAndEachDialsAboutHalf() {
        for (int n : new int[] {2, 3, 4, 5, 6, 16, 100}) {
            TestChain chain = new TestChain(n);
            List<BlsPublicKey> keys =
                    chain.keys.stream().map(k -> k.publicKey()).toList();
            for (BlsPublicKey self : keys) {
                int dialled = 0;
                for (BlsPublicKey peer : keys) {
                    if (peer.equals(self)) {
                        continue;
                    }
                    boolean first = DialOrder.dialsFirst(chain.committee(), self, peer);
                    assertThat(first)
                            .as("n = %d: exactly one of a pair dials first", n)
                            .isNotEqualTo(DialOrder.dialsFirst(chain.committee(), peer, self));
                    dialled += first ? 1 : 0;
                }
                assertThat(dialled).as("n = %d", n).isBetween((n - 1) / 2, n / 2);
            }
        }
    }

    @Test
    void aCommitteeKeepsOneConnectionPerPairAndEveryMessageArrives() throws Exception {
        int n = 5;
        TestChain chain = new TestChain(n);
        List<InetSocketAddress> addrs = addresses(n);
        Network[] nets = start(chain, addrs, (i, j) -> addrs.get(j));
        try {
            awaitFullMesh(nets, n);
            List<BlsPublicKey> keys =
                    chain.keys.stream().map(k -> k.publicKey()).toList();
            for (int i = 0; i < n; i++) {
                ConsensusMesh mesh = nets[i].consensus().orElseThrow();
                assertThat(mesh.links().connections())
                        .as("connections of %d", i)
                        .isEqualTo(n - 1);
                Set<BlsPublicKey> dialledByThem = new HashSet<>();
                for (int j = 0; j < n; j++) {
                    if (j != i && DialOrder.dialsFirst(chain.committee(), keys.get(j), keys.get(i))) {
                        dialledByThem.add(keys.get(j));
                    }
                }
                assertThat(mesh.links().sendingOnTheirConnection()).isEqualTo(dialledByThem);
            }
            TestNets.everyVoteReachesEveryValidator(chain, nets);
        } finally {
            close(nets);
        }
    }

    @Test
    void theValidatorThatDialsSecondDialsAfterTheGraceWhenTheOtherCannotReachIt() throws Exception {
        TestChain chain = new TestChain(2);
        List<InetSocketAddress> addrs = addresses(2);
        BlsPublicKey first = chain.keys.get(0).publicKey();
        assertThat(DialOrder.dialsFirst(
                        chain.committee(), first, chain.keys.get(1).publicKey()))
                .isTrue();
        InetSocketAddress nobody = LoopbackPorts.freeAddress();
        // Validator 0, which dials first, has a wrong address for 1: only 1's own dial, after the grace, links them.
        Network[] nets = start(chain, addrs, (i, j) -> i == 0 ? nobody : addrs.get(j));
        try {
            awaitFullMesh(nets, 2);
            assertThat(nets[0].consensus().orElseThrow().links().sendingOnTheirConnection())
                    .containsExactly(chain.keys.get(1).publicKey());
            TestNets.everyVoteReachesEveryValidator(chain, nets);
        } finally {
            close(nets);
        }
    }

    @Test
    void theValidatorThatDialsFirstDialsAtOnceWhenItsPeerAnnouncesItself() throws Exception {
        // A backoff of 15-30 s after a failed dial, and a grace of 35 s: only 1's announcement, gossiped to 0, can
        // bring the pair's connection up within seconds once 1 starts (1 waits for 0 to dial).
        TestChain chain = new TestChain(2);
        List<InetSocketAddress> addrs = addresses(2);
        Duration slow = Duration.ofSeconds(30);
        NodeSecretKey firstKey = NodeSecretKey.generate();
        Network[] nets = new Network[2];
        try {
            nets[0] = Network.start(
                    TestNets.config(firstKey, chain)
                            .reconnect(slow, slow)
                            .listen(addrs.get(0))
                            .validatorKey(chain.keys.get(0))
                            .validatorAddress(chain.keys.get(1).publicKey(), addrs.get(1))
                            .build(),
                    new TestNets.MemoryStore(0),
                    new TestNets.MemoryStore(0),
                    TestNets.NO_TXS);
            Thread.sleep(1_000); // 0's first dial of 1, not listening yet, fails at once: 0 now waits out its backoff
            nets[1] = Network.start(
                    TestNets.config(NodeSecretKey.generate(), chain)
                            .reconnect(slow, slow)
                            .listen(addrs.get(1))
                            .validatorKey(chain.keys.get(1))
                            .validatorAddress(chain.keys.get(0).publicKey(), addrs.get(0))
                            .gossipStaticOutbound(firstKey.publicKey(), addrs.get(0))
                            .build(),
                    new TestNets.MemoryStore(0),
                    new TestNets.MemoryStore(0),
                    TestNets.NO_TXS);
            ConsensusMesh second = nets[1].consensus().orElseThrow();
            TestNets.await(
                    "1 sending on 0's connection",
                    Duration.ofSeconds(8),
                    () -> second.links()
                            .sendingOnTheirConnection()
                            .contains(chain.keys.get(0).publicKey()));
        } finally {
            close(nets);
        }
    }

    private static List<InetSocketAddress> addresses(int n) throws Exception {
        List<InetSocketAddress> addrs = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            addrs.add(LoopbackPorts.freeAddress());
        }
        return addrs;
    }

    /** Starts a validator per key, validator i knowing validator j at {@code address.apply(i, j)}. */
    private static Network[] start(
            TestChain chain, List<InetSocketAddress> addrs, BiFunction<Integer, Integer, InetSocketAddress> address)
            throws Exception {
        Network[] nets = new Network[addrs.size()];
        for (int i = 0; i < addrs.size(); i++) {
            var b = TestNets.config(NodeSecretKey.generate(), chain)
                    .listen(addrs.get(i))
                    .validatorKey(chain.keys.get(i));
            for (int j = 0; j < addrs.size(); j++) {
                b.validatorAddress(chain.keys.get(j).publicKey(), address.apply(i, j));
            }
            nets[i] =
                    Network.start(b.build(), new TestNets.MemoryStore(0), new TestNets.MemoryStore(0), TestNets.NO_TXS);
        }
        return nets;
    }

    private static void awaitFullMesh(Network[] nets, int n) throws InterruptedException {
        for (int i = 0; i < n; i++) {
            ConsensusMesh mesh = nets[i].consensus().orElseThrow();
            TestNets.await(
                    "full mesh at " + i,
                    Duration.ofSeconds(20),
                    () -> mesh.links().sendingTo().size() == n - 1
                            && mesh.links().receivingFrom().size() == n - 1);
        }
    }

    private static void close(Network[] nets) {
        for (Network net : nets) {
            if (net != null) {
                net.close();
            }
        }
    }
}
