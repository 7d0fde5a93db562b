package dev.tally.network;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import dev.tally.crypto.NodeSecretKey;
import dev.tally.network.proto.Net;
import dev.tally.protocol.DecodeException;
import dev.tally.protocol.TestChain;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Transaction gossip in batches (push_txs): the wire format, its strict decoder, results, throttling, queues. */
class TxGossipTest {
    final TestChain chain = TestNets.chain();
    final List<Network> nets = new ArrayList<>();
    final List<AutoCloseable> others = new ArrayList<>();

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable c : others) {
            c.close();
        }
        nets.forEach(Network::close);
    }

    static byte[] tx(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static List<String> texts(List<byte[]> txs) {
        return txs.stream().map(b -> new String(b, StandardCharsets.UTF_8)).toList();
    }

    Network start(NetworkConfig cfg, TransactionSink txs) throws Exception {
        Network n = Network.start(cfg, new TestNets.MemoryStore(0), new TestNets.MemoryStore(0), txs);
        nets.add(n);
        return n;
    }

    /**
     * A gossip connection of our own to {@code server}, with the given client-side limits; it records the
     * transactions the server pushes to it (accepting them all).
     */
    Connection rawPeer(Network server, NodeSecretKey serverKey, RpcConfig rpc, List<byte[]> received) throws Exception {
        NoiseStream s = Preface.connect(server.boundAddress(), Preface.Endpoint.GOSSIP, Duration.ofSeconds(5));
        Handshake.gossipOutbound(s, NodeSecretKey.generate(), chain.genesis.hash(), serverKey.publicKey(), false);
        s.socket().setSoTimeout(0);
        Map<Rpc, Connection.Handler> handlers = new EnumMap<>(Rpc.class);
        for (Rpc r : List.of(Rpc.PUSH_BLOCK_STORE_STATE, Rpc.PUSH_VALIDATOR_ADDRS, Rpc.PUSH_GOSSIP_PEERS)) {
            handlers.put(r, req -> new byte[0]);
        }
        Connection c = new Connection("raw", s, rpc, handlers, null, null)
                .serveItems(Rpc.PUSH_TXS, (req, meter) -> {
                    List<byte[]> txs = NetCodec.decodePushTxs(req);
                    meter.take(txs.size());
                    received.addAll(txs);
                    return NetCodec.encodePushTxsResp(Collections.nCopies(txs.size(), TransactionSink.Result.ACCEPTED));
                })
                .start();
        others.add(c);
        return c;
    }

    // ------------------------------------------------------------------ wire format

    @Test
    void batchRoundTripsAndItsSizeIsKnownInAdvance() throws Exception {
        List<byte[]> txs = List.of(tx("a"), new byte[300], new byte[70_000], tx("last"));
        byte[] req = NetCodec.encodePushTxs(txs);
        assertThat(req.length)
                .isEqualTo(txs.stream().mapToInt(NetCodec::pushTxsEntrySize).sum());
        assertThat(NetCodec.decodePushTxs(req)).containsExactlyElementsOf(txs);
        // The schema: one repeated bytes field.
        assertThat(Net.PushTxs.parseFrom(req).getTxsList()).hasSize(4);

        List<TransactionSink.Result> results = List.of(
                TransactionSink.Result.ACCEPTED,
                TransactionSink.Result.DUPLICATE,
                new TransactionSink.Result.Rejected("why"),
                TransactionSink.Result.ACCEPTED);
        byte[] resp = NetCodec.encodePushTxsResp(results);
        assertThat(NetCodec.decodePushTxsResp(resp, 4))
                .containsExactly(
                        Net.PushTxsResp.Result.ACCEPTED,
                        Net.PushTxsResp.Result.DUPLICATE,
                        Net.PushTxsResp.Result.REJECTED,
                        Net.PushTxsResp.Result.ACCEPTED);
        // A full batch's response fits its limit with room to spare.
        byte[] full = NetCodec.encodePushTxsResp(
                Collections.nCopies(GossipNetwork.MAX_TXS_PER_PUSH, TransactionSink.Result.DUPLICATE));
        assertThat(full.length)
                .isLessThanOrEqualTo(
                        RpcConfig.defaults(1 << 20, 1 << 16).limit(Rpc.PUSH_TXS).maxResponseBytes());
    }

    @Test
    void decoderRefusesEmptyOverlongAndMalformedBatches() throws Exception {
        assertThatThrownBy(() -> NetCodec.decodePushTxs(new byte[0]))
                .isInstanceOf(DecodeException.class)
                .hasMessage("PushTxs.txs: empty batch");
        List<byte[]> tooMany = Collections.nCopies(GossipNetwork.MAX_TXS_PER_PUSH + 1, tx("x"));
        assertThatThrownBy(() -> NetCodec.decodePushTxs(NetCodec.encodePushTxs(tooMany)))
                .isInstanceOf(DecodeException.class)
                .hasMessage("PushTxs.txs: 1001 transactions exceed the limit of 1000");
        assertThat(NetCodec.decodePushTxs(NetCodec.encodePushTxs(tooMany.subList(0, 1000))))
                .hasSize(1000);
        byte[] unknownField = Net.PushTxs.newBuilder()
                .addTxs(ByteString.copyFromUtf8("a"))
                .setUnknownFields(com.google.protobuf.UnknownFieldSet.newBuilder()
                        .addField(
                                9,
                                com.google.protobuf.UnknownFieldSet.Field.newBuilder()
                                        .addVarint(1)
                                        .build())
                        .build())
                .build()
                .toByteArray();
        assertThatThrownBy(() -> NetCodec.decodePushTxs(unknownField))
                .isInstanceOf(DecodeException.class)
                .hasMessageContaining("unknown field number(s) [9]");
        assertThatThrownBy(() -> NetCodec.decodePushTxs(new byte[] {(byte) 0x0a, 5, 1}))
                .isInstanceOf(DecodeException.class)
                .hasMessageContaining("not a valid protobuf encoding");
        // Responses: exactly one known result per transaction sent.
        byte[] two =
                NetCodec.encodePushTxsResp(List.of(TransactionSink.Result.ACCEPTED, TransactionSink.Result.ACCEPTED));
        assertThatThrownBy(() -> NetCodec.decodePushTxsResp(two, 3))
                .isInstanceOf(DecodeException.class)
                .hasMessage("PushTxsResp.results: 2 results for 3 transactions");
        // Numbers outside the enum on purpose: what a hostile peer sends, which the enum setter cannot.
        @SuppressWarnings("AvoidValueSetter")
        byte[] unspecified = Net.PushTxsResp.newBuilder()
                .addResultsValue(0)
                .addResultsValue(7)
                .build()
                .toByteArray();
        assertThatThrownBy(() -> NetCodec.decodePushTxsResp(unspecified, 2))
                .isInstanceOf(DecodeException.class)
                .hasMessageContaining("results[0]: not a result (0)");
    }

    // ------------------------------------------------------------------ over the wire

    @Test
    void aBatchGetsOneResultPerTransactionAndOnlyAcceptedOnesAreRelayedOnwardButNotBack() throws Exception {
        NodeSecretKey serverKey = NodeSecretKey.generate();
        GossipTest.Mempool serverPool = new GossipTest.Mempool();
        serverPool.push(tx("dup"));
        Network server = start(TestNets.config(serverKey, chain).build(), serverPool);
        GossipTest.Mempool thirdPool = new GossipTest.Mempool();
        start(
                TestNets.config(NodeSecretKey.generate(), chain)
                        .gossipStaticOutbound(serverKey.publicKey(), server.boundAddress())
                        .build(),
                thirdPool);
        TestNets.await(
                "third connected",
                Duration.ofSeconds(10),
                () -> server.gossip().peers().size() == 1);
        List<byte[]> backToUs = Collections.synchronizedList(new ArrayList<>());
        Connection raw = rawPeer(server, serverKey, RpcConfig.defaults(1 << 20, 1 << 16), backToUs);
        TestNets.await(
                "raw connected",
                Duration.ofSeconds(10),
                () -> server.gossip().peers().size() == 2);

        List<byte[]> batch = List.of(tx("ok-1"), tx("dup"), tx("bad-1"), tx("ok-2"), tx("ok-1"), new byte[0]);
        byte[] resp = raw.call(Rpc.PUSH_TXS, NetCodec.encodePushTxs(batch), batch.size(), Duration.ofSeconds(10));
        assertThat(NetCodec.decodePushTxsResp(resp, batch.size()))
                .containsExactly(
                        Net.PushTxsResp.Result.ACCEPTED,
                        Net.PushTxsResp.Result.DUPLICATE,
                        Net.PushTxsResp.Result.REJECTED,
                        Net.PushTxsResp.Result.ACCEPTED,
                        Net.PushTxsResp.Result.DUPLICATE,
                        Net.PushTxsResp.Result.ACCEPTED);
        TestNets.await(
                "relayed to the third node",
                Duration.ofSeconds(10),
                () -> thirdPool.txs.containsAll(List.of("ok-1", "ok-2", "")));
        Thread.sleep(300);
        assertThat(thirdPool.txs).containsExactlyInAnyOrder("ok-1", "ok-2", "");
        assertThat(backToUs)
                .as("nothing is pushed back to the node it came from")
                .isEmpty();
        // The server's own client transaction does reach us.
        server.gossip().submitTransaction(tx("from-server"));
        TestNets.await(
                "pushed to us",
                Duration.ofSeconds(10),
                () -> texts(List.copyOf(backToUs)).contains("from-server"));
        assertThat(raw.isOpen()).isTrue();
    }

    @Test
    void overlongEmptyOversizedAndMalformedBatchesCloseTheConnectionWithAClearReason() throws Exception {
        NodeSecretKey serverKey = NodeSecretKey.generate();
        Network server = start(TestNets.config(serverKey, chain).build(), new GossipTest.Mempool());
        RpcConfig rpc = RpcConfig.defaults(1 << 20, 1 << 16);
        int limit = rpc.limit(Rpc.PUSH_TXS).maxRequestBytes();
        // Over the request size limit: refused on the frame header (our own client would not send it; a raw one does).
        RpcConfig lax = rpc.with(Rpc.PUSH_TXS, new RpcConfig.Limit(RpcConfig.Rate.UNLIMITED, 1 << 22, 4096));
        List<Map.Entry<byte[], String>> bad = new ArrayList<>(); // (request, error) pairs, in order
        bad.add(Map.entry(
                NetCodec.encodePushTxs(Collections.nCopies(GossipNetwork.MAX_TXS_PER_PUSH + 1, tx("x"))),
                "push_txs request rejected: PushTxs.txs: 1001 transactions exceed the limit of 1000"));
        bad.add(Map.entry(new byte[0], "push_txs request rejected: PushTxs.txs: empty batch"));
        bad.add(Map.entry(
                new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff},
                "push_txs request rejected: PushTxs: not a valid protobuf encoding"));
        bad.add(Map.entry(
                NetCodec.encodePushTxs(List.of(new byte[limit])),
                "protocol violation: push_txs request of " + (limit + 4) + " bytes exceeds the limit of " + limit));
        for (Map.Entry<byte[], String> e : bad) {
            Connection raw = rawPeer(server, serverKey, lax, new ArrayList<>());
            TestNets.await(
                    "connected",
                    Duration.ofSeconds(5),
                    () -> server.gossip().peerList().size() == 1);
            Connection serverSide = server.gossip().peerList().getFirst().conn;
            assertThatThrownBy(() -> raw.call(Rpc.PUSH_TXS, e.getKey(), 1, Duration.ofSeconds(10)))
                    .isInstanceOf(java.io.IOException.class);
            assertThat(serverSide.closed().get(5, java.util.concurrent.TimeUnit.SECONDS))
                    .startsWith(e.getValue());
            TestNets.await(
                    "server forgets the bad peer",
                    Duration.ofSeconds(5),
                    () -> server.gossip().peers().isEmpty());
        }
        // The server still serves an honest batch.
        Connection honest = rawPeer(server, serverKey, rpc, new ArrayList<>());
        byte[] ok = honest.call(Rpc.PUSH_TXS, NetCodec.encodePushTxs(List.of(tx("fine"))), 1, Duration.ofSeconds(10));
        assertThat(NetCodec.decodePushTxsResp(ok, 1)).containsExactly(Net.PushTxsResp.Result.ACCEPTED);
    }

    @Test
    void aPeerFloodingBatchesIsThrottledPerTransactionNotPerBatch() throws Exception {
        // The server: 100 transactions at once, then 200/s. Per batch, 50-transaction batches would pass at 50x that.
        NodeSecretKey serverKey = NodeSecretKey.generate();
        RpcConfig serverRpc = RpcConfig.defaults(1 << 20, 1 << 16)
                .with(
                        Rpc.PUSH_TXS,
                        new RpcConfig.Limit(new RpcConfig.Rate(100, Duration.ofMillis(5)), 256 * 1024, 4096));
        AtomicInteger taken = new AtomicInteger();
        TransactionSink counting = t -> {
            taken.incrementAndGet();
            return TransactionSink.Result.DUPLICATE; // nothing is relayed
        };
        Network server = start(TestNets.config(serverKey, chain).rpc(serverRpc).build(), counting);
        // The flooder ignores the rate (unlimited on its side) but keeps to the in-flight limit.
        RpcConfig greedy =
                serverRpc.with(Rpc.PUSH_TXS, new RpcConfig.Limit(RpcConfig.Rate.UNLIMITED, 256 * 1024, 4096));
        Connection flooder = rawPeer(server, serverKey, greedy, new ArrayList<>());
        AtomicInteger served = new AtomicInteger();
        long start = System.nanoTime();
        long end = start + Duration.ofSeconds(2).toNanos();
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < Rpc.PUSH_TXS.inflight(); t++) {
            int thread = t;
            threads.add(Thread.ofVirtual().start(() -> {
                int n = 0;
                try {
                    while (System.nanoTime() < end) {
                        List<byte[]> batch = new ArrayList<>();
                        for (int i = 0; i < 50; i++) {
                            batch.add(tx("flood-" + thread + "-" + n++));
                        }
                        flooder.call(Rpc.PUSH_TXS, NetCodec.encodePushTxs(batch), batch.size(), null);
                        served.addAndGet(batch.size());
                    }
                } catch (java.io.IOException | InterruptedException e) {
                    // stop
                }
            }));
        }
        for (Thread t : threads) {
            t.join();
        }
        double secs = (System.nanoTime() - start) / 1e9;
        // A burst of 100 then 200/s, plus the batches in flight at the end: far below 50 x (100 + 200/s).
        assertThat(served.get()).isBetween(200, (int) (100 + 200 * secs * 1.1) + Rpc.PUSH_TXS.inflight() * 50);
        assertThat(taken.get()).isLessThanOrEqualTo(served.get() + Rpc.PUSH_TXS.inflight() * 50);
        assertThat(flooder.isOpen()).as("throttled, not dropped").isTrue();
    }

    @Test
    void transactionsGoOncePerNodeInBatchesEvenOverTwoConnections() throws Exception {
        NodeSecretKey ka = NodeSecretKey.generate();
        NodeSecretKey kb = NodeSecretKey.generate();
        var ta = LoopbackPorts.freeAddress();
        var tb = LoopbackPorts.freeAddress();
        GossipTest.Mempool ma = new GossipTest.Mempool();
        GossipTest.Mempool mb = new GossipTest.Mempool();
        Network a = start(
                TestNets.config(ka, chain)
                        .listen(ta)
                        .gossipStaticOutbound(kb.publicKey(), tb)
                        .build(),
                ma);
        Network b = start(
                TestNets.config(kb, chain)
                        .listen(tb)
                        .gossipStaticOutbound(ka.publicKey(), ta)
                        .build(),
                mb);
        TestNets.await(
                "connected both ways",
                Duration.ofSeconds(10),
                () -> a.gossip().peerList().size() == 2 && b.gossip().peerList().size() == 2);
        int n = 5000;
        List<byte[]> txs = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            txs.add(tx("tx-" + i + "-" + "p".repeat(200)));
        }
        for (int i = 0; i < n; i += 500) {
            assertThat(a.gossip().submitTransactions(txs.subList(i, i + 500)))
                    .allMatch(TransactionSink.Result.ACCEPTED::equals);
        }
        TestNets.await("all arrive", Duration.ofSeconds(20), () -> mb.txs.size() == n);
        Thread.sleep(300);
        GossipNetwork.TxStats sa = a.gossip().txStats();
        assertThat(sa.sent())
                .as("each transaction once, not once per connection")
                .isEqualTo(n);
        assertThat(sa.accepted()).isEqualTo(n);
        assertThat(sa.dropped()).isZero();
        assertThat(b.gossip().txStats().sent())
                .as("not back to where they came from")
                .isZero();
        // Batched: a few hundred bytes per transaction on the wire, not a frame and a round trip each.
        long perTx = a.gossip().traffic().bytesSent() / n;
        assertThat(perTx).isLessThan(400);
    }

    @Test
    void peerSetsRoundTripAndTheirDecoderIsStrict() throws Exception {
        List<dev.tally.crypto.NodePublicKey> keys = List.of(
                NodeSecretKey.generate().publicKey(), NodeSecretKey.generate().publicKey());
        assertThat(NetCodec.decodePushGossipPeers(NetCodec.encodePushGossipPeers(keys)))
                .containsExactlyInAnyOrder(
                        ByteString.copyFrom(keys.get(0).bytes()),
                        ByteString.copyFrom(keys.get(1).bytes()));
        assertThat(NetCodec.decodePushGossipPeers(new byte[0])).isEmpty();
        Net.PushGossipPeers.Builder tooMany = Net.PushGossipPeers.newBuilder();
        for (int i = 0; i <= GossipNetwork.MAX_GOSSIP_PEERS; i++) {
            tooMany.addNodeKeys(ByteString.copyFrom(new byte[32]));
        }
        assertThatThrownBy(() -> NetCodec.decodePushGossipPeers(tooMany.build().toByteArray()))
                .isInstanceOf(DecodeException.class)
                .hasMessage("PushGossipPeers.node_keys: 1025 keys exceed the limit of 1024");
        byte[] shortKey = Net.PushGossipPeers.newBuilder()
                .addNodeKeys(ByteString.copyFrom(new byte[32]))
                .addNodeKeys(ByteString.copyFrom(new byte[31]))
                .build()
                .toByteArray();
        assertThatThrownBy(() -> NetCodec.decodePushGossipPeers(shortKey))
                .isInstanceOf(DecodeException.class)
                .hasMessage("PushGossipPeers.node_keys[1]: 31 bytes, not a 32-byte Ed25519 key");
        int limit = RpcConfig.defaults(1 << 20, 1 << 16)
                .limit(Rpc.PUSH_GOSSIP_PEERS)
                .maxRequestBytes();
        assertThat(tooMany.build().getSerializedSize()).isLessThan(limit + 40);
    }

    @Test
    void aFullMeshCarriesEachTransactionOncePerNodeAndALineStillRelays() throws Exception {
        // Four nodes: a, b, c dial each other (a full mesh); d is connected to c only.
        List<NodeSecretKey> keys = List.of(
                NodeSecretKey.generate(), NodeSecretKey.generate(), NodeSecretKey.generate(), NodeSecretKey.generate());
        List<java.net.InetSocketAddress> addrs = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            addrs.add(LoopbackPorts.freeAddress());
        }
        List<GossipTest.Mempool> pools = new ArrayList<>();
        List<Network> ns = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            NetworkConfig.Builder b = TestNets.config(keys.get(i), chain).listen(addrs.get(i));
            for (int j = 0; j < 3; j++) {
                if (i < 3 && j != i) {
                    b.gossipStaticOutbound(keys.get(j).publicKey(), addrs.get(j));
                }
            }
            if (i == 3) {
                b.gossipStaticOutbound(keys.get(2).publicKey(), addrs.get(2));
            }
            pools.add(new GossipTest.Mempool());
            ns.add(start(b.build(), pools.getLast()));
        }
        int[] peerCount = {2, 2, 3, 1};
        for (int i = 0; i < 4; i++) {
            Network n = ns.get(i);
            int want = peerCount[i];
            TestNets.await(
                    "peers and their peer sets",
                    Duration.ofSeconds(10),
                    () -> n.gossip().peers().size() == want
                            && n.gossip().peerList().stream()
                                    .allMatch(p -> p.itsPeers.size() == peerCount[indexOf(keys, p.key)] - 1));
        }
        int n = 300;
        for (int i = 0; i < n; i++) {
            ns.get(0).gossip().submitTransaction(tx("from-a-" + i));
        }
        TestNets.await(
                "everyone has them",
                Duration.ofSeconds(10),
                () -> pools.stream().allMatch(p -> p.txs.size() == n));
        Thread.sleep(300);
        // a pushes each to b and c; b relays nothing (a is connected to c); c relays to d only (a is not connected to
        // d).
        assertThat(ns.get(0).gossip().txStats().sent()).isEqualTo(2L * n);
        assertThat(ns.get(1).gossip().txStats().sent()).isZero();
        assertThat(ns.get(2).gossip().txStats().sent()).isEqualTo(n);
        assertThat(ns.get(3).gossip().txStats().sent()).isZero();
        // 300 submitted back to back: a few batches per connection, not one each.
        assertThat(ns.get(0).gossip().txStats().batches()).isLessThan(40);
        assertThat(ns.stream().mapToLong(x -> x.gossip().txStats().duplicate())).containsOnly(0L);
    }

    static int indexOf(List<NodeSecretKey> keys, dev.tally.crypto.NodePublicKey k) {
        for (int i = 0; i < keys.size(); i++) {
            if (keys.get(i).publicKey().equals(k)) {
                return i;
            }
        }
        throw new AssertionError(k);
    }

    // ------------------------------------------------------------------ queue and rate units

    @Test
    void queueTakesBatchesWithinCountAndBytesAndDropsTheOldestBeyondItsBounds() throws Exception {
        LongAdder dropped = new LongAdder();
        TxQueue q = new TxQueue(5, 1000, dropped);
        q.addAll(List.of(tx("1"), tx("2"), tx("3"), tx("4"), tx("5"), tx("6"), tx("7")));
        assertThat(dropped.sum()).isEqualTo(2);
        assertThat(texts(q.take(2, 1000, NetCodec::pushTxsEntrySize, 0, 0))).containsExactly("3", "4");
        // Each entry is 3 bytes encoded: a budget of 7 takes two.
        assertThat(texts(q.take(10, 7, NetCodec::pushTxsEntrySize, 0, 0))).containsExactly("5", "6");
        q.addAll(List.of(new byte[600], new byte[600])); // 1,200 bytes: the oldest goes (then "7" and one 600)
        assertThat(q.size()).isEqualTo(1);
        assertThat(dropped.sum()).isEqualTo(4);
        // Too large for a request on its own: dropped, not stuck at the head.
        q.addAll(List.of(tx("after")));
        assertThat(texts(q.take(10, 100, NetCodec::pushTxsEntrySize, 0, 0))).containsExactly("after");
        assertThat(dropped.sum()).isEqualTo(5);
        long t0 = System.nanoTime();
        assertThat(q.take(10, 100, NetCodec::pushTxsEntrySize, 50, 0)).isEmpty();
        assertThat(System.nanoTime() - t0)
                .isGreaterThanOrEqualTo(Duration.ofMillis(40).toNanos());
    }

    @Test
    void aTakerLingersForMoreUntilTheBatchIsFullOrTheLingerIsOver() throws Exception {
        TxQueue q = new TxQueue(100, 1 << 20, new LongAdder());
        Thread feeder = Thread.ofVirtual().start(() -> {
            for (int i = 0; i < 5; i++) {
                q.addAll(List.of(tx("t" + i)));
                try {
                    Thread.sleep(5);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
        // A trickle of one every 5 ms: a 1-second linger gathers a full batch of 5 and returns as soon as it is full.
        long t0 = System.nanoTime();
        assertThat(texts(q.take(5, 1 << 20, NetCodec::pushTxsEntrySize, 1000, 1000)))
                .containsExactly("t0", "t1", "t2", "t3", "t4");
        assertThat(System.nanoTime() - t0).isLessThan(Duration.ofMillis(900).toNanos());
        feeder.join();
        // Nothing more comes: it lingers its time, then sends what it has.
        q.addAll(List.of(tx("alone")));
        t0 = System.nanoTime();
        assertThat(texts(q.take(5, 1 << 20, NetCodec::pushTxsEntrySize, 1000, 30)))
                .containsExactly("alone");
        assertThat(System.nanoTime() - t0)
                .isGreaterThanOrEqualTo(Duration.ofMillis(25).toNanos());
    }

    @Test
    void tokenBucketTakesSeveralTokensAtOnce() {
        TokenBucket b = new TokenBucket(10, Duration.ofSeconds(1));
        assertThat(b.reserve(10)).isZero();
        // 5 more: 5 refills away (the next tick boundary is at most 1 s away, so 4-5 s).
        long wait = b.reserve(5);
        assertThat(wait)
                .isBetween(
                        Duration.ofSeconds(4).toNanos(), Duration.ofSeconds(5).toNanos());
        assertThat(b.tryAcquire()).isFalse();
        assertThat(b.reserve(0)).isZero();
        assertThat(new TokenBucket(RpcConfig.Rate.UNLIMITED).reserve(1_000_000)).isZero();
        assertThatThrownBy(() -> b.reserve(-1)).isInstanceOf(IllegalArgumentException.class);
    }
}
