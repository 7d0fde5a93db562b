package dev.tally.node.rpc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tally.node.Await;
import dev.tally.node.SoloNode;
import dev.tally.node.client.TallyClient;
import dev.tally.node.client.TallyClient.TxStatus;
import dev.tally.node.client.TxBatch;
import dev.tally.node.config.HttpLimits;
import dev.tally.node.executor.Node;
import dev.tally.node.http.RawHttp;
import dev.tally.node.http.RawHttp.Answer;
import dev.tally.protocol.TestChain;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A node flooded by many clients at once answers every request, 200 or 429 "overloaded", whatever the machine's speed:
 * the mempool is held shut on a latch (not slowed by a delay), so that a request the node queued instead of turning it
 * away would wait until the test releases it, and the test's deadlines only bound a hang. Meanwhile the node answers
 * its monitoring calls and keeps finalizing, and once the flood ends its mempool drains.
 */
class OverloadFloodTest {
    static final TestChain CHAIN = new TestChain(1);
    static final int CLIENTS = 3 * Submissions.MAX_IN_FLIGHT;
    static final int REQUESTS_PER_CLIENT = 5;
    static final int BATCH = 10;
    static final int CAPACITY = 100;
    static final Duration HANG = Duration.ofSeconds(60);

    static HoldableMempool mempool;
    static Node node;
    static RpcServer server;
    static RpcServer tight;

    @BeforeAll
    static void start() throws Exception {
        node = SoloNode.start(CHAIN, storage -> mempool = new HoldableMempool(storage, CHAIN.genesis, CAPACITY));
        InetSocketAddress any = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
        server = RpcServer.start(any, new RpcMethods(node), node.metrics());
        node.attach(server);
        tight = RpcServer.start(
                any,
                HttpLimits.builder()
                        .maxBodyBytes(1024)
                        .maxBodyBytesInFlight(1024)
                        .build(),
                new RpcMethods(node),
                node.metrics());
        node.attach(tight);
    }

    @AfterAll
    static void stop() {
        CountDownLatch h = mempool.hold;
        if (h != null) {
            h.countDown();
        }
        node.close();
    }

    /** What one flood's requests got: HTTP status to count; anything else (a timeout, a reset) by its text. */
    record Tally(Map<String, AtomicInteger> answers) {
        Tally() {
            this(new ConcurrentHashMap<>());
        }

        void add(String what) {
            answers.computeIfAbsent(what, k -> new AtomicInteger()).incrementAndGet();
        }

        int count(String what) {
            AtomicInteger n = answers.get(what);
            return n == null ? 0 : n.get();
        }
    }

    @Test
    void everyRequestOfAFloodIsAnsweredAndTheBacklogDrains() throws Exception {
        long lastBlock = node.storedBlocks().last();
        mempool.hold = new CountDownLatch(1);
        Tally held = new Tally();
        AtomicInteger finished = new AtomicInteger();
        List<TallyClient> clients = new ArrayList<>();
        List<Future<?>> stuck = new ArrayList<>();
        ExecutorService senders = Executors.newVirtualThreadPerTaskExecutor();
        try {
            for (int c = 0; c < CLIENTS; c++) {
                TallyClient client = new TallyClient(uri(server), HANG);
                clients.add(client);
                stuck.add(senders.submit(() -> flood(client, held, finished)));
            }
            long deadline = System.nanoTime() + HANG.toNanos();
            while (mempool.held.get() < Submissions.MAX_IN_FLIGHT
                    || finished.get() < CLIENTS - Submissions.MAX_IN_FLIGHT) {
                assertThat(System.nanoTime())
                        .as("every client but those the mempool holds is answered while it holds them: %s", held)
                        .isLessThan(deadline);
                Thread.sleep(10);
            }
            assertThat(held.answers().keySet()).containsOnly("429");
            assertThat(mempool.held.get())
                    .as("no more than the admitted submissions wait")
                    .isEqualTo(Submissions.MAX_IN_FLIGHT);
            Answer monitoring =
                    RawHttp.exchange(server.address(), "GET /last_committed_block HTTP/1.1\r\nHost: x\r\n\r\n");
            assertThat(monitoring.status()).isEqualTo(200);
            while (node.storedBlocks().last() < lastBlock + 2) {
                assertThat(System.nanoTime())
                        .as("blocks keep finalizing during the flood")
                        .isLessThan(deadline);
                Thread.sleep(20);
            }
        } finally {
            mempool.hold.countDown();
            mempool.hold = null;
        }
        for (Future<?> f : stuck) {
            f.get(); // the held ones finish their requests once released
        }

        Tally open = new Tally();
        for (TallyClient client : clients) {
            senders.execute(() -> flood(client, open, new AtomicInteger()));
        }
        senders.close();
        clients.forEach(TallyClient::close);
        assertThat(open.answers().keySet())
                .as("a mempool with room answers 200, a full one 429: %s", open)
                .isSubsetOf("200", "429");

        long deadline = System.nanoTime() + HANG.toNanos();
        while (mempool.mempoolSize() > 0) {
            assertThat(System.nanoTime()).as("the backlog drains").isLessThan(deadline);
            Thread.sleep(20);
        }
    }

    /** One client's share of a flood: its requests one after the other, each answer tallied. */
    private static void flood(TallyClient client, Tally tally, AtomicInteger finished) {
        for (int i = 0; i < REQUESTS_PER_CLIENT; i++) {
            List<byte[]> batch = new ArrayList<>();
            for (int t = 0; t < BATCH; t++) {
                batch.add(TxBatchPathTest.tx(64));
            }
            try {
                TallyClient.BatchResult r = client.submit(batch);
                tally.add(r.results().stream().anyMatch(s -> s instanceof TxStatus.Overloaded) ? "429" : "200");
            } catch (IOException e) {
                tally.add(e.toString());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        finished.incrementAndGet();
    }

    private static URI uri(RpcServer s) {
        return URI.create("http://127.0.0.1:" + s.address().getPort() + "/");
    }

    @Test
    void bodiesBeyondTheBytesInFlightAreReadPastAndAnsweredOverloaded() throws Exception {
        byte[] full = TxBatch.encode(List.of(TxBatchPathTest.tx(1020)));
        Socket a = null;
        try (Socket c = RawHttp.connect(tight.address())) {
            Answer refused = null;
            long deadline = System.nanoTime() + HANG.toNanos();
            while (refused == null || refused.status() != 429) {
                assertThat(System.nanoTime())
                        .as("a body beyond the bytes in flight is refused")
                        .isLessThan(deadline);
                // A body of 1024 bytes begun and not finished holds all the bytes in flight; if the server took c's
                // body first instead (and then refused a's, or took a's after), both are sent again, once the server
                // gave back what the closed connection held (else that, not a's body, refuses c's and a's).
                if (a != null) {
                    a.close();
                    awaitNoBodyHeld(full);
                }
                a = RawHttp.connect(tight.address());
                startPost(a, full, 10);
                startPost(c, full, full.length);
                refused = RawHttp.readAnswer(stream(c));
                assertThat(refused.status()).isIn(200, 429);
            }
            assertThat(refused.head()).containsIgnoringCase("Retry-After: 1");
            assertThat(refused.json().at("/error/code").asInt()).isEqualTo(RpcException.OVERLOADED);
            assertThat(refused.json().at("/error/message").asText())
                    .isEqualTo("overloaded: 1024 bytes of request bodies are being handled; retry later");

            OutputStream out = c.getOutputStream();
            out.write("GET /last_committed_block HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            assertThat(RawHttp.readAnswer(stream(c)).status())
                    .as("the refused body was read past: the connection serves the next request")
                    .isEqualTo(200);

            a.getOutputStream().write(Arrays.copyOfRange(full, 10, full.length));
            a.getOutputStream().flush();
            assertThat(RawHttp.readAnswer(stream(a)).status()).isEqualTo(200);
            startPost(c, TxBatch.encode(List.of(TxBatchPathTest.tx(1020))), full.length);
            assertThat(RawHttp.readAnswer(stream(c)).status())
                    .as("an answered body gives its bytes back")
                    .isEqualTo(200);
        } finally {
            if (a != null) {
                a.close();
            }
        }
    }

    /** Waits until the tight server holds no request body: a full-size body on a fresh connection is taken. */
    private static void awaitNoBodyHeld(byte[] full) throws InterruptedException {
        Await.until("a closed connection's body bytes given back", HANG, () -> {
            try (Socket probe = RawHttp.connect(tight.address())) {
                startPost(probe, full, full.length);
                return RawHttp.readAnswer(stream(probe)).status() == 200;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    /** Sends a POST /txs of {@code body}'s length and the first {@code sent} bytes of it. */
    private static void startPost(Socket s, byte[] body, int sent) throws IOException {
        RawHttp.post(s.getOutputStream(), "/txs", "application/octet-stream", body, sent);
    }

    private static InputStream stream(Socket s) throws IOException {
        return s.getInputStream();
    }
}
