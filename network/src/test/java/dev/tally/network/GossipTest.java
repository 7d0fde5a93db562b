package dev.tally.network;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tally.crypto.NodeSecretKey;
import dev.tally.protocol.ChonkyMessage;
import dev.tally.protocol.Signed;
import dev.tally.protocol.TestChain;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Transactions and validator addresses spread over gossip; inbound limits hold. */
class GossipTest {
    final TestChain chain = TestNets.chain();
    final List<Network> nets = new ArrayList<>();

    @AfterEach
    void stop() {
        nets.forEach(Network::close);
    }

    /** A mempool that accepts each distinct transaction once. */
    static final class Mempool implements TransactionSink {
        final Set<String> txs = ConcurrentHashMap.newKeySet();

        @Override
        public Result push(byte[] tx) {
            String s = new String(tx, java.nio.charset.StandardCharsets.UTF_8);
            if (s.startsWith("bad")) {
                return new Result.Rejected("bad");
            }
            return txs.add(s) ? Result.ACCEPTED : Result.DUPLICATE;
        }
    }

    @Test
    void acceptedTransactionsAreRebroadcastAlongALine() throws Exception {
        NodeSecretKey ka = NodeSecretKey.generate();
        NodeSecretKey kb = NodeSecretKey.generate();
        Mempool ma = new Mempool();
        Mempool mb = new Mempool();
        Mempool mc = new Mempool();
        Network a = start(TestNets.config(ka, chain).build(), ma);
        Network b = start(
                TestNets.config(kb, chain)
                        .gossipStaticOutbound(ka.publicKey(), a.boundAddress())
                        .build(),
                mb);
        Network c = start(
                TestNets.config(NodeSecretKey.generate(), chain)
                        .gossipStaticOutbound(kb.publicKey(), b.boundAddress())
                        .build(),
                mc);
        TestNets.await(
                "line",
                Duration.ofSeconds(10),
                () -> b.gossip().peers().size() == 2 && c.gossip().peers().size() == 1);
        assertThat(a.gossip().submitTransaction("tx-1".getBytes(StandardCharsets.UTF_8)))
                .isEqualTo(TransactionSink.Result.ACCEPTED);
        assertThat(a.gossip().submitTransaction("tx-1".getBytes(StandardCharsets.UTF_8)))
                .isEqualTo(TransactionSink.Result.DUPLICATE);
        assertThat(a.gossip().submitTransaction("bad-1".getBytes(StandardCharsets.UTF_8)))
                .isInstanceOf(TransactionSink.Result.Rejected.class);
        c.gossip().submitTransaction("tx-2".getBytes(StandardCharsets.UTF_8));
        TestNets.await(
                "spread",
                Duration.ofSeconds(10),
                () -> mc.txs.contains("tx-1") && ma.txs.contains("tx-2") && mb.txs.containsAll(Set.of("tx-1", "tx-2")));
        assertThat(ma.txs).containsExactlyInAnyOrder("tx-1", "tx-2");
    }

    @Test
    void dynamicInboundLimitRefusesExtraPeersButNotStaticOnes() throws Exception {
        NodeSecretKey server = NodeSecretKey.generate();
        NodeSecretKey friend = NodeSecretKey.generate();
        Network s = start(
                TestNets.config(server, chain)
                        .gossipDynamicInboundLimit(1)
                        .gossipStaticInbound(friend.publicKey())
                        .build(),
                new Mempool());
        Network d1 = start(
                TestNets.config(NodeSecretKey.generate(), chain)
                        .gossipStaticOutbound(server.publicKey(), s.boundAddress())
                        .build(),
                new Mempool());
        TestNets.await(
                "first dynamic peer",
                Duration.ofSeconds(10),
                () -> s.gossip().peers().size() == 1);
        Network d2 = start(
                TestNets.config(NodeSecretKey.generate(), chain)
                        .gossipStaticOutbound(server.publicKey(), s.boundAddress())
                        .build(),
                new Mempool());
        Network f = start(
                TestNets.config(friend, chain)
                        .gossipStaticOutbound(server.publicKey(), s.boundAddress())
                        .build(),
                new Mempool());
        TestNets.await(
                "static peer", Duration.ofSeconds(10), () -> s.gossip().peers().contains(friend.publicKey()));
        Thread.sleep(500);
        assertThat(s.gossip().peers()).hasSize(2);
        assertThat(d2.gossip().peers()).isEmpty();
        assertThat(d1.gossip().peers()).hasSize(1);
        assertThat(f.gossip().peers()).hasSize(1);
    }

    @Test
    void validatorsFindEachOtherThroughDiscovery() throws Exception {
        // Three validators of a 4-validator committee, no static consensus addresses: a gossip line only.
        RpcConfig fastAddrs = RpcConfig.defaults(1 << 20, 1 << 16)
                .with(
                        Rpc.PUSH_VALIDATOR_ADDRS,
                        new RpcConfig.Limit(new RpcConfig.Rate(1, Duration.ofMillis(50)), 100 * 1024, 1024));
        NodeSecretKey k0 = NodeSecretKey.generate();
        NodeSecretKey k1 = NodeSecretKey.generate();
        Network v0 = start(
                TestNets.config(k0, chain)
                        .rpc(fastAddrs)
                        .validatorKey(chain.keys.get(0))
                        .build(),
                new Mempool());
        Network v1 = start(
                TestNets.config(k1, chain)
                        .rpc(fastAddrs)
                        .validatorKey(chain.keys.get(1))
                        .gossipStaticOutbound(k0.publicKey(), v0.boundAddress())
                        .build(),
                new Mempool());
        Network v2 = start(
                TestNets.config(NodeSecretKey.generate(), chain)
                        .rpc(fastAddrs)
                        .validatorKey(chain.keys.get(2))
                        .gossipStaticOutbound(k1.publicKey(), v1.boundAddress())
                        .build(),
                new Mempool());
        Network[] vs = {v0, v1, v2};
        for (Network v : vs) {
            TestNets.await(
                    "mesh via discovery",
                    Duration.ofSeconds(20),
                    () -> v.consensus().get().links().sendingTo().size() == 2);
        }
        Signed<?> m = chain.sign(2, chain.vote(1, 0, TestChain.payload("d")));
        v2.broadcast((Signed<? extends ChonkyMessage>) m);
        for (Network v : vs) {
            assertThat(v.inbox().poll(Duration.ofSeconds(10))).isEqualTo(m);
        }
        assertThat(v0.addressBook()
                        .get(chain.keys.get(2).publicKey())
                        .orElseThrow()
                        .address())
                .isEqualTo(v2.boundAddress());
    }

    @Test
    void announcementsAreCheckedInTheNodesSignatureBatches() throws Exception {
        // The full node's parallelism is one no other network of these tests has: its batcher counts its checks only.
        NodeSecretKey k0 = NodeSecretKey.generate();
        Network v0 =
                start(TestNets.config(k0, chain).validatorKey(chain.keys.get(0)).build(), new Mempool());
        SignatureBatcher batcher = SignatureBatcher.shared(7);
        long before = batcher.checked();
        Network full = start(
                TestNets.config(NodeSecretKey.generate(), chain)
                        .verifierThreads(7)
                        .gossipStaticOutbound(k0.publicKey(), v0.boundAddress())
                        .build(),
                new Mempool());
        TestNets.await(
                "v0's address at the full node",
                Duration.ofSeconds(10),
                () -> full.addressBook().get(chain.keys.get(0).publicKey()).isPresent());
        assertThat(batcher.checked() - before).isEqualTo(1);
    }

    @Test
    void addressesCrossALineOfValidatorsWithoutWaitingForTheRateLimit() throws Exception {
        // Six validators in a gossip line (each dials the one before), default limits: an address that arrives
        // just after a push goes on at once, not after the limit's refill (it was one push per 5 s per connection,
        // so crossing 5 hops took 20 s, and a 100-validator ring about two minutes).
        TestChain six = new TestChain(6);
        List<Network> line = new ArrayList<>();
        NodeSecretKey previous = null;
        for (int i = 0; i < 6; i++) {
            NodeSecretKey key = NodeSecretKey.generate();
            var b = TestNets.config(key, six).validatorKey(six.keys.get(i));
            if (previous != null) {
                b.gossipStaticOutbound(previous.publicKey(), line.get(i - 1).boundAddress());
            }
            line.add(start(b.build(), new Mempool()));
            previous = key;
        }
        for (Network v : line) {
            TestNets.await(
                    "every address at " + v.boundAddress(),
                    Duration.ofSeconds(8),
                    () -> six.keys.stream()
                            .allMatch(k -> v.addressBook().get(k.publicKey()).isPresent()));
        }
    }

    @Test
    void peersAndThePublicAddressGivenByHostNameAreResolvedWhenUsed() throws Exception {
        // As in Kubernetes: names that may not resolve at start, and may resolve elsewhere after a peer restarts.
        NodeSecretKey k0 = NodeSecretKey.generate();
        InetSocketAddress a0 = LoopbackPorts.freeAddress();
        InetSocketAddress name0 = InetSocketAddress.createUnresolved("localhost", a0.getPort());
        Network v0 = start(
                TestNets.config(k0, chain)
                        .listen(a0)
                        .publicAddress(name0)
                        .validatorKey(chain.keys.get(0))
                        .build(),
                new Mempool());
        Network v1 = start(
                TestNets.config(NodeSecretKey.generate(), chain)
                        .validatorKey(chain.keys.get(1))
                        .gossipStaticOutbound(k0.publicKey(), name0)
                        .build(),
                new Mempool());
        TestNets.await(
                "gossip over a host name",
                Duration.ofSeconds(20),
                () -> !v1.gossip().peers().isEmpty());
        TestNets.await(
                "v0's announcement, its name resolved",
                Duration.ofSeconds(20),
                () -> v1.addressBook().get(chain.keys.get(0).publicKey()).isPresent());
        InetSocketAddress announced = v1.addressBook()
                .get(chain.keys.get(0).publicKey())
                .orElseThrow()
                .address();
        assertThat(announced.isUnresolved()).isFalse();
        assertThat(announced.getAddress().isLoopbackAddress()).isTrue();
        assertThat(announced.getPort()).isEqualTo(a0.getPort());
        assertThat(v0.gossip().peers()).hasSize(1);
    }

    @Test
    void aHostNameThatDoesNotResolveIsNamedWhenDialed() {
        InetSocketAddress nowhere = InetSocketAddress.createUnresolved("no-such-host.invalid", 3054);
        assertThatThrownBy(() -> Preface.resolve(nowhere))
                .isInstanceOf(UnknownHostException.class)
                .hasMessage("host no-such-host.invalid does not resolve");
    }

    @Test
    void theBlockStoreStateIsReadOnceForAllConnections() throws Exception {
        // Reading it means reading and decoding the last block; every connection pushes it (checking every 100 ms).
        TestNets.MemoryStore store = new TestNets.MemoryStore(0).with(TestNets.blocks(3));
        java.util.concurrent.atomic.AtomicInteger reads = new java.util.concurrent.atomic.AtomicInteger();
        BlockSource counting = new BlockSource() {
            @Override
            public BlockStoreState state() {
                reads.incrementAndGet();
                return store.state();
            }

            @Override
            public java.util.Optional<dev.tally.protocol.FinalBlock> block(long number) {
                return store.block(number);
            }
        };
        NodeSecretKey hubKey = NodeSecretKey.generate();
        Network hub = Network.start(TestNets.config(hubKey, chain).build(), counting, store, new Mempool());
        nets.add(hub);
        for (int i = 0; i < 4; i++) {
            start(
                    TestNets.config(NodeSecretKey.generate(), chain)
                            .gossipStaticOutbound(hubKey.publicKey(), hub.boundAddress())
                            .build(),
                    new Mempool());
        }
        TestNets.await(
                "four peers", Duration.ofSeconds(10), () -> hub.gossip().peers().size() == 4);
        int before = reads.get();
        Thread.sleep(2000);
        // At most one read per 100 ms for all four (a notified change adds one); per connection it would be ~80.
        assertThat(reads.get() - before).isBetween(5, 30);
        hub.gossip().notifyBlocksChanged();
    }

    Network start(NetworkConfig cfg, TransactionSink txs) throws Exception {
        Network n = Network.start(cfg, new TestNets.MemoryStore(0), new TestNets.MemoryStore(0), txs);
        nets.add(n);
        return n;
    }
}
