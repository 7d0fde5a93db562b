package dev.tally.cli;

import static dev.tally.cli.LocalnetEndToEndTest.awaitBlock;
import static dev.tally.cli.LocalnetEndToEndTest.tally;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tally.examples.kvstore.KvStore;
import dev.tally.examples.kvstore.KvTx;
import dev.tally.testbed.localnet.Localnet;
import dev.tally.testbed.localnet.RpcClient;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The key-value store example on six validator processes and a full node, as {@code bin/tally localnet --app kvstore}
 * runs it: 10,000 writes through the client path (push_tx), a validator SIGKILLed during them and restarted (it
 * replays), a full node that syncs from genesis after them; every node ends with the root of the whole write set.
 */
class KvstoreLocalnetEndToEndTest {
    static final int VALIDATORS = 6;
    static final int WRITES = 10_000;
    static final int VICTIM = 3;

    @TempDir
    Path dir;

    final List<Process> processes = new ArrayList<>();

    @AfterEach
    void stopAll() throws InterruptedException {
        LocalnetEndToEndTest.stopAll(processes);
    }

    private static final List<String> APP = List.of("--app", "kvstore");

    @Test
    @Timeout(value = 4, unit = TimeUnit.MINUTES)
    void tenThousandWritesReachTheSameRootOnEveryNode() throws Exception {
        var gen = tally(
                "localnet",
                "--validators",
                "6",
                "--full-nodes",
                "1",
                "--dir",
                dir.toString(),
                "--generate-only",
                "--view-timeout-ms",
                "2000");
        assertThat(gen.exitCode()).as(gen.err()).isZero();
        List<Localnet.Member> members = Localnet.read(dir);
        List<RpcClient> rpc = members.stream()
                .map(m -> new RpcClient(m.config().rpcAddr().orElseThrow()))
                .toList();
        for (int i = 0; i < VALIDATORS; i++) {
            processes.add(Localnet.launch(members.get(i), List.of(), APP));
        }
        for (int i = 0; i < VALIDATORS; i++) {
            awaitBlock(rpc.get(i), members.get(i), 1, Duration.ofSeconds(90));
        }

        // checkTx refusals reach the client with the application's reason.
        assertThatThrownBy(() -> rpc.getFirst()
                        .call(
                                "push_tx",
                                HexFormat.of()
                                        .formatHex(
                                                "{\"op\":\"put\"}".getBytes(java.nio.charset.StandardCharsets.UTF_8))))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("\"op\" must be \"set\" or \"delete\"");

        // Keys set first (and final before the rest) so that the concurrent writes may delete them in any order.
        List<byte[]> writes = new ArrayList<>();
        for (int j = 0; j < 50; j++) {
            writes.add(KvTx.set("old-" + j, "gone soon").encode());
            rpc.getFirst().call("push_tx", HexFormat.of().formatHex(writes.getLast()));
        }
        for (int j = 0; j < 50; j++) {
            while (rpc.getFirst().call("kv_get", "old-" + j).isNull()) {
                Thread.sleep(50);
            }
        }
        int first = writes.size();
        for (int i = 0; i < WRITES; i++) {
            // Half binary, half JSON; every 200th deletes one of the keys set first.
            KvTx t = i % 200 == 199 ? KvTx.delete("old-" + i / 200) : KvTx.set("key-" + i, "value-" + i);
            writes.add(i % 2 == 0 ? t.encode() : t.encodeJson());
        }
        AtomicInteger next = new AtomicInteger(first);
        List<Thread> clients = new ArrayList<>();
        for (int c = 0; c < 8; c++) {
            // Clients write to the validators that stay up: a transaction accepted only by the victim could die with
            // it before gossip carried it on, and the client would not know.
            int target = c % (VALIDATORS - 1) >= VICTIM ? c % (VALIDATORS - 1) + 1 : c % (VALIDATORS - 1);
            clients.add(Thread.ofVirtual().start(() -> {
                for (int i = next.getAndIncrement(); i < writes.size(); i = next.getAndIncrement()) {
                    String hex = HexFormat.of().formatHex(writes.get(i));
                    try {
                        assertThat(rpc.get(target).call("push_tx", hex).asText())
                                .isEqualTo("accepted");
                    } catch (IOException | InterruptedException e) {
                        throw new AssertionError("write " + i + ": " + e.getMessage(), e);
                    }
                }
            }));
        }
        while (next.get() < first + WRITES * 3 / 10) {
            Thread.sleep(10);
        }
        processes.get(VICTIM).destroyForcibly(); // SIGKILL
        assertThat(processes.get(VICTIM).waitFor(20, TimeUnit.SECONDS)).isTrue();
        while (next.get() < first + WRITES * 6 / 10) {
            Thread.sleep(10);
        }
        processes.set(VICTIM, Localnet.launch(members.get(VICTIM), List.of(), APP));
        for (Thread t : clients) {
            t.join();
        }
        // The full node joins late and syncs every block from genesis.
        processes.add(Localnet.launch(members.get(VALIDATORS), List.of(), APP));

        String expected = expectedRoot(writes);
        for (int i = 0; i < members.size(); i++) {
            awaitRoot(rpc.get(i), members.get(i), expected, Duration.ofSeconds(120));
        }
        for (RpcClient c : rpc) {
            assertThat(c.call("kv_get", "key-0").asText()).isEqualTo("value-0");
            assertThat(c.call("kv_get", "old-0").isNull())
                    .as("old-0 was deleted")
                    .isTrue();
            assertThat(c.call("app_state").get("root_mismatches").asLong()).isZero();
        }
    }

    /** The root of the store after all the writes: the root depends on the content alone, not the blocks. */
    private String expectedRoot(List<byte[]> writes) {
        try (KvStore local = KvStore.open(dir.resolve("expected"))) {
            return HexFormat.of().formatHex(local.applyBlock(0, writes));
        }
    }

    private static void awaitRoot(RpcClient c, Localnet.Member m, String root, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        JsonNode last = null;
        while (System.nanoTime() < deadline) {
            try {
                last = c.call("kv_root");
                if (last.get("root").asText().equals(root)) {
                    return;
                }
            } catch (IOException e) {
                // not up yet
            }
            Thread.sleep(200);
        }
        throw new AssertionError(m.name() + " reports " + last + ", not root " + root + ", within " + timeout
                + "; log tail:\n" + LocalnetEndToEndTest.logTail(m));
    }
}
