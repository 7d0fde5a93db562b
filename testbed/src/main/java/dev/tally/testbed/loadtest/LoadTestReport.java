package dev.tally.testbed.loadtest;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The report of a {@link LoadTest} run: its settings, the machine, and the figures of the measurement window, as JSON
 * ({@code --json}) and as the table {@code tally bench} prints; for {@code --smoke}, what is missing from it.
 */
public final class LoadTestReport {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private final LoadTestSettings settings;
    private final Bench.Result result;
    private final ObjectNode json;

    private LoadTestReport(LoadTestSettings settings, Bench.Result result, ObjectNode json) {
        this.settings = settings;
        this.result = result;
        this.json = json;
    }

    static LoadTestReport of(LoadTest test, LoadTest.Outcome outcome) {
        return new LoadTestReport(test.settings(), outcome.result(), report(test, outcome));
    }

    /** The report as indented JSON. */
    public String json() {
        try {
            return JSON.writeValueAsString(json);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a tree of plain values always serializes", e);
        }
    }

    private static ObjectNode report(LoadTest test, LoadTest.Outcome outcome) {
        LoadTestSettings t = test.settings();
        Bench.Result r = outcome.result();
        int validators = t.validators();
        int jvms = t.jvms();
        boolean inProcess = t.inProcess();
        ObjectNode o = JSON.createObjectNode();
        ObjectNode s = o.putObject("settings");
        s.put("mode", !inProcess ? "processes" : jvms == 1 ? "in-process" : "in-process in " + jvms + " JVMs")
                .put("jvms", inProcess ? jvms : validators)
                .put("validators", validators)
                .put("storage", t.storage().cliName())
                .put("gossip", test.gossipRing() ? "ring of " + LoadTest.GOSSIP_RING + " successors" : "full mesh")
                .put("jvm_heap", inProcess && jvms > 1 ? test.hostHeap() : null)
                .put("payload_limit", t.payloadLimit())
                .put("tx_size", t.txSize())
                .put("rate", t.openLoop() ? null : t.rate())
                .put("open_loop", t.openLoop())
                .put("client", t.client().cliName())
                .put("batch_interval_ms", t.openLoop() ? null : t.batchIntervalMs())
                .put("unloaded_s", t.unloadedSeconds())
                .put("warmup_s", t.warmupSeconds())
                .put("duration_s", t.durationSeconds())
                .put("window_s", round(r.seconds(), 1))
                .put("view_timeout_ms", t.viewTimeoutMs())
                .put("empty_block_interval_ms", emptyBlockIntervalMs(t))
                .put("senders", t.senders().orElse(Math.min(validators, 6)));
        machine(o.putObject("machine"), outcome);
        ObjectNode res = o.putObject("results");
        double secs = r.seconds();
        res.put("seconds_to_first_block", round(r.startSeconds(), 2));
        res.put("final_blocks", r.blocks()).put("blocks_per_s", round(r.blocks() / secs, 1));
        res.put("transactions_final", r.txs()).put("tx_per_s", round(r.txs() / secs, 1));
        res.put("payload_mb_per_s", round(r.payloadBytes() / secs / 1e6, 3));
        latency(res.putObject("tx_finality_ms"), r.txLatency());
        latency(res.putObject("tx_final_at_node0_ms"), r.txLatencyAtNode());
        ObjectNode p2f = latency(res.putObject("proposal_to_final_ms"), r.proposalToFinal());
        p2f.put("blocks_without_figure", r.blocksWithoutLatency());
        cpu(res, r, secs);
        ObjectNode mem = res.putObject("peak_memory_mb");
        mem.put(
                "max",
                round(r.peakMemory().stream().max(Comparator.naturalOrder()).orElse(0L) / 1e6, 1));
        mem.put(
                "mean",
                round(
                        r.peakMemory().stream()
                                        .mapToLong(Long::longValue)
                                        .average()
                                        .orElse(0)
                                / 1e6,
                        1));
        mem.put("measure", outcome.memoryMeasure());
        ObjectNode c = res.putObject("client");
        c.put("sent", r.windowSent())
                .put("send_rate", round(r.windowSent() / secs, 1))
                .put("accepted", r.windowAccepted())
                .put("duplicate", r.windowDuplicate())
                .put("rejected", r.windowRejected())
                .put("first_rejection", r.firstRejection())
                .put("final", r.windowTxsFinalized())
                .put("not_final_after_drain", r.windowAccepted() - r.windowTxsFinalized())
                .put("included_twice", r.duplicateInclusions())
                .put("foreign", r.foreignTxs());
        load(res, r);
        return o;
    }

    /**
     * What an overload run is judged by: every request answered ({@code requests.failed_or_unanswered} 0), blocks/s
     * under load against those without ({@code --unloaded}), and how long the backlog took to drain.
     */
    private static void load(ObjectNode res, Bench.Result r) {
        Bench.Requests q = r.requests();
        long sent = q.answered() + q.overloaded() + q.failed();
        res.putObject("requests")
                .put("sent", sent)
                .put("answered", q.answered())
                .put("refused_overloaded", q.overloaded())
                .put("failed_or_unanswered", q.failed())
                .put("first_failure", q.firstFailure())
                .put("transactions", q.transactions())
                .put("transactions_per_request", sent == 0 ? null : round((double) q.transactions() / sent, 1));
        Bench.Unloaded u = r.unloaded();
        Double unloadedRate = u.seconds() > 0 ? round(u.blocks() / u.seconds(), 2) : null;
        double loadedRate = r.blocks() / r.seconds();
        res.putObject("blocks_per_s_unloaded_vs_loaded")
                .put("unloaded", unloadedRate)
                .put("loaded", round(loadedRate, 2))
                .put("ratio", unloadedRate == null || unloadedRate == 0 ? null : round(loadedRate / unloadedRate, 2));
        Bench.Drain d = r.drain();
        res.putObject("drain")
                .put("accepted", d.accepted())
                .put("final", d.finalized())
                .put("seconds", num(d.seconds()));
        Bench.Monitoring m = r.monitoring();
        res.putObject("monitoring")
                .put("polls", m.polls())
                .put("failed", m.failed())
                .put("slowest_ms", round(m.slowestNanos() / 1e6, 1))
                .put("first_failure", m.firstFailure());
    }

    /** What the figures were taken on: cores, CPU, memory, JDK and the load around the run. */
    private static void machine(ObjectNode m, LoadTest.Outcome outcome) {
        m.put("nproc", Runtime.getRuntime().availableProcessors())
                .put("cpu", Machine.cpuModel())
                .put("memory_gb", Machine.memoryGb())
                .put("jdk", Runtime.version() + " (" + System.getProperty("java.vm.name") + ")")
                .put("load_average_before", outcome.loadBefore())
                .put("load_average_after", outcome.loadAfter());
    }

    private static ObjectNode latency(ObjectNode o, LatencyStats.Summary s) {
        o.put("count", s.count());
        o.put("p50", num(s.p50()))
                .put("p90", num(s.p90()))
                .put("p99", num(s.p99()))
                .put("max", num(s.max()));
        return o;
    }

    /** The nodes' empty-block interval as set, null for the node's default. */
    private static Long emptyBlockIntervalMs(LoadTestSettings t) {
        return t.emptyBlockIntervalMs().stream().boxed().findFirst().orElse(null);
    }

    private static Double num(double v) {
        return Double.isFinite(v) ? round(v, 2) : null;
    }

    private static double round(double v, int digits) {
        double f = Math.pow(10, digits);
        return Math.round(v * f) / f;
    }

    /** The report as the table {@code tally bench} prints. */
    public String table() {
        StringBuilder b = new StringBuilder();
        appendSetting(b, json.get("settings"), json.get("machine"));
        appendThroughputAndLatency(b, json.get("results"));
        appendCosts(b, json.get("results"));
        appendLoad(b, json.get("results"));
        appendCompilerNote(b, json.get("results"));
        return b.toString();
    }

    /** The compilers' share of the nodes' CPU above which the table says the window was not the steady state. */
    static final double COMPILER_SHARE_NOTED = 0.10;

    private static void appendCompilerNote(StringBuilder b, JsonNode r) {
        compilerNote(
                        r.get("node_cpu_cores").asDouble(),
                        r.get("node_compiler_cpu_cores").asDouble())
                .ifPresent(note -> b.append(note).append(System.lineSeparator()));
    }

    /** The note for a window in which the nodes' JIT compilers took {@code compilerCores} of their {@code nodeCores}. */
    static Optional<String> compilerNote(double nodeCores, double compilerCores) {
        if (nodeCores <= 0 || compilerCores / nodeCores < COMPILER_SHARE_NOTED) {
            return Optional.empty();
        }
        return Optional.of(String.format(
                "note: the nodes' JIT compilers used %.0f %% of their CPU in the window, so its figures include their"
                        + " warm-up; a longer --warmup measures the steady state",
                100 * compilerCores / nodeCores));
    }

    private static final String ROW = "%-28s %s%n";

    private static void appendSetting(StringBuilder b, JsonNode s, JsonNode m) {
        b.append(String.format(
                "tally bench: %d validators (%s, %s), payload limit %d B, tx %d B, %s, %.0f s window after %d s warm-up%n",
                s.get("validators").asInt(),
                s.get("mode").asText(),
                s.get("storage").asText(),
                s.get("payload_limit").asInt(),
                s.get("tx_size").asInt(),
                s.get("open_loop").asBoolean()
                        ? "open loop"
                        : s.get("rate").asLong() + " tx/s offered ("
                                + batching(s.get("batch_interval_ms").asLong()) + ")",
                s.get("window_s").asDouble(),
                s.get("warmup_s").asInt()));
        b.append(String.format(
                "machine: %d cores, %s, %s GB, JDK %s; load average %s -> %s%n",
                m.get("nproc").asInt(),
                m.get("cpu").asText(),
                m.get("memory_gb").asText(),
                m.get("jdk").asText(),
                m.get("load_average_before").asText(),
                m.get("load_average_after").asText()));
    }

    /** The window's CPU figures: per block, per transaction, in cores. */
    private static void cpu(ObjectNode res, Bench.Result r, double secs) {
        res.put("node_cpu_ms_per_block", r.blocks() == 0 ? null : round(r.nodeCpuNanos() / 1e6 / r.blocks(), 3));
        // All nodes' CPU over the window per transaction final in it: the cost figure.
        res.put("node_cpu_us_per_tx", r.txs() == 0 ? null : round(r.nodeCpuNanos() / 1e3 / r.txs(), 1));
        res.put("node_cpu_cores", round(r.nodeCpuNanos() / 1e9 / secs, 2));
        // The JIT compilers' part of it: far from zero, the window measured the nodes' warm-up, not their steady state.
        res.put("node_compiler_cpu_cores", round(r.compilerCpuNanos() / 1e9 / secs, 2));
        res.put("harness_cpu_cores", round(r.harnessCpuNanos() / 1e9 / secs, 2));
    }

    private static String batching(long intervalMs) {
        return intervalMs == 0 ? "each sent when due" : "batches held up to " + intervalMs + " ms";
    }

    private static void appendThroughputAndLatency(StringBuilder b, JsonNode r) {
        b.append(String.format(
                ROW,
                "final blocks/s",
                r.get("blocks_per_s").asText() + "  (" + r.get("final_blocks").asText() + " blocks)"));
        b.append(String.format(
                ROW,
                "transactions/s",
                r.get("tx_per_s").asText() + "  (" + r.get("transactions_final").asText() + " final)"));
        b.append(String.format(ROW, "payload MB/s", r.get("payload_mb_per_s").asText()));
        b.append(String.format("%-28s %9s %9s %9s %9s %9s%n", "latency (ms)", "p50", "p90", "p99", "max", "count"));
        Map<String, String> rows = new LinkedHashMap<>();
        rows.put("tx_finality_ms", "  tx submitted -> final");
        rows.put("tx_final_at_node0_ms", "  tx sent -> final at node0");
        rows.put("proposal_to_final_ms", "  proposal -> final (node0)");
        for (var row : rows.entrySet()) {
            var l = r.get(row.getKey());
            b.append(String.format(
                    "%-28s %9s %9s %9s %9s %9s%n",
                    row.getValue(),
                    l.get("p50").asText(),
                    l.get("p90").asText(),
                    l.get("p99").asText(),
                    l.get("max").asText(),
                    l.get("count").asText()));
        }
    }

    private static void appendCosts(StringBuilder b, JsonNode r) {
        b.append(String.format(
                ROW,
                "node CPU per final block",
                r.get("node_cpu_ms_per_block").asText() + " ms  (nodes used "
                        + r.get("node_cpu_cores").asText() + " cores, "
                        + r.get("node_compiler_cpu_cores").asText() + " of them JIT compiling; harness "
                        + r.get("harness_cpu_cores").asText() + ")"));
        b.append(String.format(
                ROW, "node CPU per final tx", r.get("node_cpu_us_per_tx").asText() + " us  (all nodes)"));
        b.append(String.format(
                ROW,
                "peak memory per node",
                "max " + r.get("peak_memory_mb").get("max").asText() + " MB, mean "
                        + r.get("peak_memory_mb").get("mean").asText() + " MB  ("
                        + r.get("peak_memory_mb").get("measure").asText() + ")"));
        var c = r.get("client");
        b.append(String.format(
                ROW,
                "client",
                "sent " + c.get("sent").asText() + " (" + c.get("send_rate").asText() + "/s), accepted "
                        + c.get("accepted").asText() + ", rejected "
                        + c.get("rejected").asText() + ", not final after drain "
                        + c.get("not_final_after_drain").asText() + ", included twice "
                        + c.get("included_twice").asText()
                        + (c.get("first_rejection").isNull()
                                ? ""
                                : "; first rejection: "
                                        + c.get("first_rejection").asText())));
    }

    private static void appendLoad(StringBuilder b, JsonNode r) {
        JsonNode q = r.get("requests");
        b.append(String.format(
                ROW,
                "requests",
                q.get("sent").asText() + " sent: " + q.get("answered").asText() + " answered, "
                        + q.get("refused_overloaded").asText() + " refused as overloaded, "
                        + q.get("failed_or_unanswered").asText() + " failed or unanswered; "
                        + q.get("transactions_per_request").asText() + " transactions per request" + firstFailure(q)));
        JsonNode rates = r.get("blocks_per_s_unloaded_vs_loaded");
        b.append(String.format(
                ROW,
                "blocks/s unloaded, loaded",
                rates.get("unloaded").asText() + ", " + rates.get("loaded").asText() + "  (ratio "
                        + rates.get("ratio").asText() + ")"));
        JsonNode d = r.get("drain");
        b.append(String.format(
                ROW,
                "drain after the load",
                d.get("final").asText() + " of " + d.get("accepted").asText() + " accepted final"
                        + (d.get("seconds").isNull()
                                ? ", not all within the drain time"
                                : " after " + d.get("seconds").asText() + " s")));
        JsonNode m = r.get("monitoring");
        b.append(String.format(
                ROW,
                "reads of node0's blocks",
                m.get("polls").asText() + ", " + m.get("failed").asText() + " failed, slowest "
                        + m.get("slowest_ms").asText() + " ms (a read waits for the next block)" + firstFailure(m)));
    }

    private static String firstFailure(JsonNode counts) {
        JsonNode first = counts.get("first_failure");
        return first.isNull() ? "" : " (first: " + first.asText() + ")";
    }

    /** What --smoke requires and this run lacks: progress, matched transactions, and no empty field in the report. */
    public List<String> smokeProblems() {
        Bench.Result r = result;
        List<String> problems = new ArrayList<>();
        if (r.blocks() == 0) {
            problems.add("no block was finalized in the window");
        }
        if (settings.rate() > 0 || settings.openLoop()) {
            if (!r.txLatency().complete()) {
                problems.add("no transaction sent in the window was matched in a final block");
            }
        }
        if (!r.proposalToFinal().complete()) {
            problems.add("no proposal-to-final figure from node0");
        }
        if (r.nodeCpuNanos() <= 0) {
            problems.add("no node CPU time measured");
        }
        if (r.peakMemory().isEmpty() || r.peakMemory().stream().anyMatch(b -> b <= 0)) {
            problems.add("no peak memory measured");
        }
        for (String path : List.of(
                "blocks_per_s",
                "tx_per_s",
                "payload_mb_per_s",
                "node_cpu_ms_per_block",
                "node_cpu_us_per_tx",
                "node_cpu_cores",
                "node_compiler_cpu_cores",
                "tx_finality_ms/p50",
                "tx_finality_ms/p90",
                "tx_finality_ms/p99",
                "tx_finality_ms/max",
                "tx_final_at_node0_ms/p50",
                "tx_final_at_node0_ms/p99",
                "proposal_to_final_ms/p50",
                "proposal_to_final_ms/p90",
                "proposal_to_final_ms/p99",
                "proposal_to_final_ms/max",
                "peak_memory_mb/max",
                "peak_memory_mb/mean")) {
            var node = json.get("results").at("/" + path);
            if (node.isMissingNode() || node.isNull()) {
                problems.add("report field results." + path.replace('/', '.') + " is missing");
            }
        }
        return problems;
    }
}
