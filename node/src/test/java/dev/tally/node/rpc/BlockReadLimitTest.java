package dev.tally.node.rpc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tally.node.SoloNode;
import dev.tally.node.config.HttpLimits;
import dev.tally.node.executor.Node;
import dev.tally.node.http.RawHttp;
import dev.tally.protocol.TestChain;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Issue 17, memory stays bounded: answers that carry blocks are megabytes each, so the RPC server makes and writes
 * only a few at once; one more is refused as overloaded at once, the other methods answer, and once the readers go
 * blocks are served again.
 */
class BlockReadLimitTest {
    static final HttpClient HTTP = HttpClient.newHttpClient();

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void aBlockReadBeyondTheLimitIsRefusedAsOverloadedWhileTheOthersAreInFlight() throws Exception {
        Node node = SoloNode.start(new TestChain(1));
        RpcServer server = RpcServer.start(
                new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                HttpLimits.builder().maxBlockReadsInFlight(2).build(),
                new RpcMethods(node),
                node.metrics());
        List<Socket> readers = new ArrayList<>();
        try {
            long large = largeBlock(node);
            String read = "block?number=" + large;
            // Two readers ask for 40 copies of a 90 KB block (its JSON answer is 8 MiB, beyond what the socket
            // buffers hold) and read nothing: both answers stay in flight.
            for (int i = 0; i < 2; i++) {
                readers.add(stalledBatchOfBlockReads(server.address(), large, 40));
            }
            HttpResponse<String> refused =
                    await(server, read, r -> r.statusCode() == 429, "a third block read refused as overloaded");
            assertThat(refused.body()).contains("overloaded", "requests reading blocks");
            assertThat(refused.headers().firstValue("Retry-After")).isPresent();
            HttpResponse<String> feed = get(server, "blocks?from=" + large);
            assertThat(feed.statusCode()).as("a read of the block feed").isEqualTo(429);
            assertThat(feed.body()).contains("overloaded", "requests reading blocks");
            assertThat(get(server, "last_view").statusCode())
                    .as("a method that reads no block")
                    .isEqualTo(200);

            for (Socket s : readers) {
                s.close();
            }
            await(server, read, r -> r.statusCode() == 200, "block reads answered once the readers are gone");
        } finally {
            for (Socket s : readers) {
                s.close();
            }
            server.close();
            node.close();
        }
    }

    /** Submits about 90 KB of transactions; the number of the final block that carries them. */
    private static long largeBlock(Node node) throws InterruptedException {
        List<byte[]> txs = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            byte[] tx = new byte[900];
            ThreadLocalRandom.current().nextBytes(tx);
            txs.add(tx);
        }
        node.submitTransactions(txs);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            for (long b = node.storedBlocks().first(); b <= node.storedBlocks().last(); b++) {
                var block = node.execution().block(b);
                if (block.isPresent() && block.get().payload().size() > 80_000) {
                    return b;
                }
            }
            Thread.sleep(20);
        }
        throw new AssertionError("no block carries the transactions");
    }

    /** A client that posts a batch of {@code copies} calls of {@code block} and never reads the answer. */
    private static Socket stalledBatchOfBlockReads(InetSocketAddress server, long block, int copies)
            throws IOException {
        String call = RpcHardeningTest.blockCall(block);
        byte[] body =
                ("[" + String.join(",", Collections.nCopies(copies, call)) + "]").getBytes(StandardCharsets.UTF_8);
        Socket s = new Socket();
        s.setReceiveBufferSize(4096);
        s.connect(server);
        RawHttp.post(s.getOutputStream(), "/", "application/json", body, body.length);
        return s;
    }

    private static HttpResponse<String> get(RpcServer server, String path) throws IOException, InterruptedException {
        return HTTP.send(
                HttpRequest.newBuilder(URI.create(
                                "http://127.0.0.1:" + server.address().getPort() + "/" + path))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static HttpResponse<String> await(
            RpcServer server, String path, Predicate<HttpResponse<String>> done, String what)
            throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        HttpResponse<String> last;
        do {
            last = get(server, path);
            if (done.test(last)) {
                return last;
            }
            Thread.sleep(50);
        } while (System.nanoTime() < deadline);
        throw new AssertionError("timed out waiting for " + what + "; last answer " + last.statusCode());
    }
}
