package example.guestbook;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tally.crypto.BlsSecretKey;
import dev.tally.crypto.NodeSecretKey;
import dev.tally.node.client.TallyClient;
import dev.tally.node.config.NodeConfig;
import dev.tally.node.embed.TallyNode;
import dev.tally.protocol.Genesis;
import dev.tally.protocol.LeaderSelection;
import dev.tally.protocol.ValidatorInfo;
import dev.tally.protocol.ValidatorSchedule;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** A one-validator chain of the guestbook, started from Java; a client signs it through the node's RPC. */
class GuestbookNodeTest {
    @TempDir
    Path dataDir;

    @Test
    @Timeout(120)
    void aNameSubmittedThroughTheRpcIsFinalizedAndApplied() throws Exception {
        Guestbook guestbook = new Guestbook();
        try (TallyNode node = TallyNode.builder(soloValidator()).application(guestbook).dataDir(dataDir).start()) {
            URI rpc = URI.create("http://127.0.0.1:" + node.rpcAddress().orElseThrow().getPort() + "/");
            try (TallyClient client = new TallyClient(rpc)) {
                TallyClient.BatchResult result = client.submit(List.of(utf8("ada"), utf8(" ")));
                assertEquals(new TallyClient.TxStatus.Accepted(), result.results().get(0));
                // The application's reason for refusing a transaction reaches the client.
                TallyClient.TxStatus.Refused refused =
                        assertInstanceOf(TallyClient.TxStatus.Refused.class, result.results().get(1));
                assertTrue(refused.reason().contains("a name has 1 to 40 characters"), refused.reason());
            }
            Instant deadline = Instant.now().plusSeconds(60);
            while (!guestbook.names().contains("ada") && Instant.now().isBefore(deadline)) {
                Thread.sleep(20);
            }
            assertEquals(List.of("ada"), guestbook.names());
            assertTrue(guestbook.lastApplied().isPresent(), "the applied block is reported");
            // The application's query, answered over JSON-RPC by the node.
            String answer = jsonRpc(rpc, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"guestbook_signed\","
                    + "\"params\":{\"name\":\"ada\"}}");
            assertTrue(answer.contains("\"result\":true"), answer);
        }
    }

    /** A chain whose only validator is this node: it finalizes blocks alone. */
    private static NodeConfig soloValidator() {
        BlsSecretKey validatorKey = BlsSecretKey.generate();
        Genesis genesis = new Genesis(
                /* chain id */ 270,
                /* fork */ 0,
                /* first block */ 0,
                Genesis.PROTOCOL_VERSION,
                Optional.of(new ValidatorSchedule(
                        List.of(new ValidatorInfo(validatorKey.publicKey(), 1, true)),
                        new LeaderSelection(1, LeaderSelection.Mode.ROUND_ROBIN))));
        InetSocketAddress anyPort = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
        return new NodeConfig(
                /* server */ anyPort,
                // The address other validators would dial; a chain of one has none.
                /* public */ new InetSocketAddress(InetAddress.getLoopbackAddress(), 1),
                /* rpc */ Optional.of(anyPort),
                /* metrics */ Optional.empty(),
                /* debug page */ Optional.empty(),
                genesis,
                /* max payload bytes */ 1_000_000,
                /* max transaction bytes */ 1_000,
                /* view timeout */ Duration.ofSeconds(2),
                Optional.of(validatorKey),
                NodeSecretKey.generate(),
                /* gossip inbound limit */ 10,
                /* static inbound peers */ List.of(),
                /* static outbound peers */ Map.of(),
                /* block fetch interval */ Duration.ofSeconds(5),
                /* block retention: all */ Optional.empty(),
                /* later committees: none, the genesis one rules */ List.of());
    }

    private static String jsonRpc(URI rpc, String request) throws Exception {
        try (HttpClient http = HttpClient.newHttpClient()) {
            HttpResponse<String> response = http.send(
                    HttpRequest.newBuilder(rpc)
                            .header("Content-Type", "application/json")
                            .POST(HttpRequest.BodyPublishers.ofString(request))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            return response.body();
        }
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
