package dev.tally.node.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tally.node.Main;
import java.io.ByteArrayInputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code tally bench --smoke} once, as CI runs it: six validator processes finalize blocks, the harness matches its
 * transactions in them, and the report has every field. It checks that the harness works, never how fast the nodes are.
 */
class BenchSmokeTest {
    @TempDir
    Path dir;

    @Test
    @Timeout(value = 5, unit = TimeUnit.MINUTES)
    void smokeRunPassesAndReportsEveryField() throws Exception {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        Path json = dir.resolve("report.json");
        int code = Main.commandLine(new ByteArrayInputStream(new byte[0])).setOut(new PrintWriter(out)).setErr(new PrintWriter(err))
                .execute("bench", "--smoke", "--dir", dir.resolve("net").toString(), "--json", json.toString());

        assertThat(code).as("stdout:%n%s%nstderr:%n%s", out, err).isZero();
        assertThat(out.toString()).contains("final blocks/s", "tx submitted -> final", "proposal -> final", "node CPU per final block",
                "peak memory per node");
        JsonNode r = new ObjectMapper().readTree(json.toFile()).get("results");
        assertThat(r.get("final_blocks").asLong()).isPositive();
        assertThat(r.get("transactions_final").asLong()).isPositive();
        for (String field : new String[] {"blocks_per_s", "tx_per_s", "payload_mb_per_s", "node_cpu_ms_per_block"}) {
            assertThat(r.get(field).isNumber()).as(field).isTrue();
        }
        for (String latency : new String[] {"tx_finality_ms", "proposal_to_final_ms"}) {
            for (String q : new String[] {"p50", "p90", "p99", "max"}) {
                assertThat(r.get(latency).get(q).isNumber()).as(latency + "." + q).isTrue();
            }
        }
        assertThat(r.get("peak_memory_mb").get("max").asDouble()).isPositive();
    }
}
