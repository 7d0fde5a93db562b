package dev.tally.cli;

import static dev.tally.cli.HaltHealthEndToEndTest.awaitConsole;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tally.examples.kvstore.KvLoad;
import dev.tally.testbed.localnet.Localnet;
import dev.tally.testbed.localnet.RpcClient;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code tally localnet --app kvstore --tx-rate 200}: the load is {@code set} writes the store takes (random bytes it
 * would refuse), so the blocks carry them, the store holds the load's keys and its root moves; the console shows it.
 */
class KvstoreLocalnetLoadTest {
    private static final Pattern BLOCK_LINE = Pattern.compile("(?m)^block +\\d+ .* (\\d+) tx ");

    @TempDir
    Path dir;

    @Test
    @Timeout(value = 5, unit = TimeUnit.MINUTES)
    void theLoadOfAKvstoreLocalnetIsWritesThatMoveItsRoot() throws Exception {
        Path net = dir.resolve("net");
        List<Localnet.Member> members = Localnet.generate(net, 1, 0, Duration.ofMillis(1000));
        Path console = dir.resolve("localnet.out");
        Process localnet = Localnet.launchJvm(
                "localnet",
                List.of(),
                List.of("localnet", "--dir", net.toString(), "--app", "kvstore", "--tx-rate", "200"),
                console);
        try {
            RpcClient rpc = new RpcClient(members.getFirst().config().rpcAddr().orElseThrow());
            JsonNode first = awaitRoot(rpc, -1, null, console);
            JsonNode later = awaitRoot(
                    rpc, first.get("block").asLong(), first.get("root").asText(), console);
            assertThat(later.get("root").asText())
                    .isNotEqualTo(first.get("root").asText());
            // The store holds load keys (the first writes may have gone out before the node was up: any will do).
            List<String> values = awaitLoadValues(rpc, console);
            assertThat(values).allMatch(v -> v.startsWith("run "));
            // The console: blocks with writes in them (beside the root attestation), and the app's root.
            awaitConsole(console, "app: block ");
            String out = Files.readString(console);
            Matcher m = BLOCK_LINE.matcher(out);
            long most = 0;
            while (m.find()) {
                most = Math.max(most, Long.parseLong(m.group(1)));
            }
            assertThat(most).as(out).isGreaterThan(1);
        } finally {
            localnet.destroy(); // SIGTERM: localnet stops its nodes
            if (!localnet.waitFor(30, TimeUnit.SECONDS)) {
                localnet.descendants().forEach(ProcessHandle::destroyForcibly);
                localnet.destroyForcibly();
            }
        }
    }

    /**
     * Polls {@code kv_root} until the store applied a block after {@code afterBlock} with a root other than {@code
     * notRoot} (3 minutes at most: the JVMs may start slowly on a busy machine).
     */
    private static JsonNode awaitRoot(RpcClient rpc, long afterBlock, String notRoot, Path console) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
        while (System.nanoTime() < deadline) {
            try {
                JsonNode r = rpc.call("kv_root");
                if (r.path("block").isNumber()
                        && r.get("block").asLong() > afterBlock
                        && !r.get("root").asText().equals(notRoot)
                        && !r.get("root").asText().matches("0+")) {
                    return r;
                }
            } catch (IOException e) {
                // not up yet
            }
            Thread.sleep(200);
        }
        throw new AssertionError(
                "the store's root did not move past block " + afterBlock + "; console:\n" + Files.readString(console));
    }

    /** The values of the load keys load/0, load/100, ... that are stored, once there is one (a minute at most). */
    private static List<String> awaitLoadValues(RpcClient rpc, Path console) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
        while (System.nanoTime() < deadline) {
            List<String> values = new ArrayList<>();
            for (int k = 0; k < KvLoad.KEYS; k += 100) {
                JsonNode v = rpc.call("kv_get", "load/" + k);
                if (v.isTextual()) {
                    values.add(v.asText());
                }
            }
            if (!values.isEmpty()) {
                return values;
            }
            Thread.sleep(500);
        }
        throw new AssertionError("no load key stored; console:\n" + Files.readString(console));
    }
}
