package dev.tally.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayInputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code tally bench --smoke} as CI runs it: the validators finalize blocks, the harness matches its transactions in
 * them, and the report has every field. It checks that the harness works, never how fast the nodes are.
 */
class BenchSmokeTest {
    @TempDir
    Path dir;

    /** Six validator processes. */
    @Test
    @Timeout(value = 5, unit = TimeUnit.MINUTES)
    void smokeRunPassesAndReportsEveryField() throws Exception {
        JsonNode report = smoke();
        assertThat(report.at("/settings/mode").asText()).isEqualTo("processes");
    }

    /** Six validators over two child JVMs ({@code tally bench-host}), three in-process in each, driven over their RPC. */
    @Test
    @Timeout(value = 5, unit = TimeUnit.MINUTES)
    void groupedInProcessSmokeRunPassesAndReportsEveryField() throws Exception {
        JsonNode report = smoke("--in-process", "--jvms", "2", "--storage", "memory");
        assertThat(report.at("/settings/mode").asText()).isEqualTo("in-process in 2 JVMs");
        assertThat(report.at("/settings/jvms").asInt()).isEqualTo(2);
        assertThat(report.at("/settings/jvm_heap").asText()).matches("\\d+m");
        assertThat(report.at("/results/peak_memory_mb/measure").asText())
                .contains("each of the 2 JVMs divided by the nodes it runs");
        assertThat(report.at("/results/node_cpu_cores").asDouble()).isPositive();
        assertThat(report.at("/results/node_compiler_cpu_cores").asDouble())
                .isNotNegative()
                .isLessThanOrEqualTo(report.at("/results/node_cpu_cores").asDouble());
    }

    /** Runs {@code bench --smoke} with {@code options}, checks it passed with every figure present, returns the JSON report. */
    private JsonNode smoke(String... options) throws Exception {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        Path json = dir.resolve("report.json");
        List<String> args = new ArrayList<>(
                List.of("bench", "--smoke", "--dir", dir.resolve("net").toString(), "--json", json.toString()));
        args.addAll(List.of(options));
        int code = Main.commandLine(new ByteArrayInputStream(new byte[0]))
                .setOut(new PrintWriter(out))
                .setErr(new PrintWriter(err))
                .execute(args.toArray(String[]::new));

        assertThat(code).as("stdout:%n%s%nstderr:%n%s", out, err).isZero();
        assertThat(out.toString())
                .contains(
                        "final blocks/s",
                        "tx submitted -> final",
                        "tx sent -> final at node0",
                        "proposal -> final",
                        "node CPU per final block",
                        "node CPU per final tx",
                        "peak memory per node");
        JsonNode report = new ObjectMapper().readTree(json.toFile());
        JsonNode r = report.get("results");
        assertThat(r.get("final_blocks").asLong()).isPositive();
        assertThat(r.get("transactions_final").asLong()).isPositive();
        for (String field : new String[] {
            "blocks_per_s", "tx_per_s", "payload_mb_per_s", "node_cpu_ms_per_block", "node_cpu_us_per_tx"
        }) {
            assertThat(r.get(field).isNumber()).as(field).isTrue();
        }
        for (String latency : new String[] {"tx_finality_ms", "tx_final_at_node0_ms", "proposal_to_final_ms"}) {
            for (String q : new String[] {"p50", "p90", "p99", "max"}) {
                assertThat(r.get(latency).get(q).isNumber())
                        .as(latency + "." + q)
                        .isTrue();
            }
        }
        assertThat(r.get("peak_memory_mb").get("max").asDouble()).isPositive();
        return report;
    }
}
