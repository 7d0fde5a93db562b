package dev.tally.node.rpc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tally.execution.TransactionPayload;
import dev.tally.node.SoloNode;
import dev.tally.node.client.TallyClient;
import dev.tally.node.client.TallyClient.TxStatus;
import dev.tally.node.executor.Node;
import dev.tally.node.http.RawHttp.Answer;
import dev.tally.protocol.Payload;
import dev.tally.protocol.TestChain;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A node that cannot take more answers "overloaded, retry later" at once (HTTP 429 with Retry-After, JSON-RPC
 * -32005) and keeps finalizing: its mempool never drains (its proposals are empty), and its mempool can be made to hold
 * every submission in progress.
 */
class AdmissionControlTest {
    static final TestChain CHAIN = new TestChain(1);
    static final int CAPACITY = 20;

    /** Proposes only empty blocks, so that what the mempool holds stays; holds submissions while {@code hold} is set. */
    static final class NeverDraining extends HoldableMempool {
        NeverDraining(dev.tally.storage.Storage storage) {
            super(storage, CHAIN.genesis, CAPACITY);
        }

        @Override
        public Payload proposePayload(long blockNumber, int maxPayloadSize) {
            return TransactionPayload.encode(List.of());
        }
    }

    static NeverDraining mempool;
    static Node node;
    static RpcServer server;
    static TallyClient client;

    @BeforeAll
    static void start() throws Exception {
        node = SoloNode.start(CHAIN, storage -> mempool = new NeverDraining(storage));
        server = RpcServer.start(
                new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), new RpcMethods(node), node.metrics());
        node.attach(server);
        client = TxBatchPathTest.clientOf(server);
    }

    @AfterAll
    static void stop() {
        client.close();
        node.close();
    }

    static List<byte[]> txs(int n) {
        List<byte[]> txs = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            txs.add(TxBatchPathTest.tx(64));
        }
        return txs;
    }

    @Test
    void aFullMempoolAnswersOverloadedAtOnceAndTheChainGoesOn() throws Exception {
        mempool.hold = null;
        client.submit(txs(CAPACITY)); // fills it, whatever an earlier test left
        assertThat(mempool.mempoolSize()).isEqualTo(CAPACITY);
        long lastBlock = node.storedBlocks().last();

        long start = System.nanoTime();
        TallyClient.BatchResult r = client.submit(txs(3));
        assertThat(r.results())
                .containsOnly(
                        new TxStatus.Overloaded("transaction 0: mempool full (20 transactions); retry later"),
                        new TxStatus.Overloaded("transaction 1: mempool full (20 transactions); retry later"),
                        new TxStatus.Overloaded("transaction 2: mempool full (20 transactions); retry later"));
        assertThat(r.retryAfter()).contains(Duration.ofSeconds(Submissions.RETRY_AFTER_SECONDS));

        Answer single = RpcHardeningTest.exchange(
                server,
                RpcHardeningTest.post("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"push_tx\",\"params\":[\""
                        + HexFormat.of().formatHex(txs(1).getFirst()) + "\"]}"));
        assertThat(single.status()).isEqualTo(429);
        assertThat(single.head()).containsIgnoringCase("Retry-After: 1");
        assertThat(single.json().at("/error/code").asInt()).isEqualTo(RpcException.OVERLOADED);
        assertThat(single.json().at("/error/message").asText())
                .contains("mempool full")
                .endsWith("retry later");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));

        assertThat(mempool.mempoolSize()).as("memory stays bounded").isEqualTo(CAPACITY);
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (node.storedBlocks().last() < lastBlock + 3) {
            assertThat(System.nanoTime()).as("blocks keep finalizing").isLessThan(deadline);
            Thread.sleep(20);
        }
    }

    @Test
    void submissionsBeyondTheInFlightLimitAreTurnedAwayAtOnce() throws Exception {
        mempool.held.set(0);
        mempool.hold = new CountDownLatch(1);
        ExecutorService senders = Executors.newVirtualThreadPerTaskExecutor();
        List<TallyClient> clients = new ArrayList<>();
        List<Future<TallyClient.BatchResult>> held = new ArrayList<>();
        try {
            for (int i = 0; i < Submissions.MAX_IN_FLIGHT; i++) {
                TallyClient c = TxBatchPathTest.clientOf(server);
                clients.add(c);
                held.add(senders.submit(() -> c.submit(txs(1))));
            }
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (mempool.held.get() < Submissions.MAX_IN_FLIGHT) {
                assertThat(System.nanoTime())
                        .as("every sender reached the mempool")
                        .isLessThan(deadline);
                Thread.sleep(10);
            }
            long start = System.nanoTime();
            TallyClient.BatchResult r = client.submit(txs(2));
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(2));
            assertThat(r.results())
                    .containsOnly(
                            new TxStatus.Overloaded("overloaded: 16 submissions are being admitted; retry in 1 s"));
            assertThat(r.retryAfter()).contains(Duration.ofSeconds(1));
        } finally {
            mempool.hold.countDown();
            mempool.hold = null;
        }
        for (Future<TallyClient.BatchResult> f : held) {
            assertThat(f.get().results())
                    .as("the held submissions are answered once released")
                    .hasSize(1);
        }
        senders.close();
        clients.forEach(TallyClient::close);
    }
}
