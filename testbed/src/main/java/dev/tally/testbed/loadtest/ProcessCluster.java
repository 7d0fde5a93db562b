package dev.tally.testbed.loadtest;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.tally.node.client.BlockFeed;
import dev.tally.node.client.TallyClient;
import dev.tally.node.metrics.NodeMetrics;
import dev.tally.testbed.localnet.Localnet;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * A localnet of real node processes on loopback, driven over RPC: transactions as binary batches through
 * {@link TallyClient} ({@code POST /txs}), or as JSON-RPC batches of {@code push_tx}; final blocks from node0's
 * binary feed ({@code GET /blocks}), each the moment it is stored. Either one process per node, as {@code bin/tally
 * localnet} runs them ({@link #perNode}), or the nodes spread over a few JVMs that each run their share in-process
 * ({@link #grouped}, {@code tally bench-host}); every node keeps its own RPC port either way. CPU and peak memory
 * come from {@code /proc/<pid>} of the processes.
 */
final class ProcessCluster implements Cluster {
    private static final JsonFactory JSON = new JsonFactory();
    private static final HexFormat HEX = HexFormat.of();

    /** A child process and the nodes it runs (one, or a group), with the file its output goes to. */
    private record Host(String name, Process process, List<Localnet.Member> nodes, Path log) {
        String describe() {
            return nodes.size() == 1 && nodes.getFirst().name().equals(name)
                    ? name
                    : name + " (" + nodes.getFirst().name() + ".."
                            + nodes.getLast().name() + ")";
        }
    }

    private interface Launcher {
        /** Starts the processes, adding each to {@code into} as soon as it runs (so that a later failure stops it). */
        void launch(List<Host> into) throws IOException;
    }

    private final List<Localnet.Member> members;
    private final List<Host> hosts = new CopyOnWriteArrayList<>();
    /** Stops the child processes if this JVM exits without closing the cluster (Ctrl-C): they would run on. */
    private final Thread stopOnExit =
            new Thread(() -> hosts.forEach(h -> h.process().destroy()), "bench-stop-nodes");

    private final String memoryMeasure;
    private final List<URI> rpc = new ArrayList<>();
    private final LoadTestSettings.Client client;
    private final List<HttpClient> submitClients = new ArrayList<>();
    private final List<TallyClient> tallyClients = new ArrayList<>();
    private final HttpClient readClient = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(2))
            .build();

    private ProcessCluster(
            List<Localnet.Member> members, String memoryMeasure, LoadTestSettings.Client client, Launcher launcher)
            throws IOException {
        this.members = List.copyOf(members);
        this.client = client;
        this.memoryMeasure = memoryMeasure;
        for (Localnet.Member m : members) {
            InetSocketAddress a = m.config().rpcAddr().orElseThrow();
            rpc.add(URI.create("http://" + a.getAddress().getHostAddress() + ":" + a.getPort() + "/"));
            tallyClients.add(new TallyClient(rpc.getLast()));
            submitClients.add(HttpClient.newBuilder()
                    .version(HttpClient.Version.HTTP_1_1)
                    .connectTimeout(Duration.ofSeconds(2))
                    .build());
        }
        Runtime.getRuntime().addShutdownHook(stopOnExit);
        try {
            launcher.launch(hosts);
        } catch (IOException | RuntimeException e) {
            close();
            throw e;
        }
    }

    /** One node process per member ({@code tally node}), with {@code nodeJvmOptions} as {@link Localnet#launch} takes them. */
    static ProcessCluster perNode(
            List<Localnet.Member> members, List<String> nodeJvmOptions, LoadTestSettings.Client client)
            throws IOException {
        return new ProcessCluster(members, "VmHWM (peak resident set) of each node process", client, into -> {
            for (Localnet.Member m : members) {
                into.add(new Host(m.name(), Localnet.launch(m, nodeJvmOptions), List.of(m), m.logFile()));
            }
        });
    }

    /**
     * One JVM per group ({@code tally bench-host}, named jvm0, jvm1, ...; output in {@code dir}/jvmK.log) running the
     * group's nodes in-process, with RocksDB or in-memory storage. Its heap is {@code heapMb} for each hosted node
     * unless {@code jvmOptions} set one ({@code {node}} in them stands for the JVM's name).
     */
    static ProcessCluster grouped(
            List<Localnet.Member> members,
            List<List<Localnet.Member>> groups,
            boolean rocksdb,
            long heapMbPerNode,
            List<String> jvmOptions,
            Path dir,
            LoadTestSettings.Client client)
            throws IOException {
        String measure =
                "VmHWM (peak resident set) of each of the " + groups.size() + " JVMs divided by the nodes it runs ("
                        + groups.stream().mapToInt(List::size).min().orElse(0) + "-"
                        + groups.stream().mapToInt(List::size).max().orElse(0)
                        + "; the nodes of one JVM share its heap, JIT and GC)";
        return new ProcessCluster(members, measure, client, into -> {
            for (int k = 0; k < groups.size(); k++) {
                List<Localnet.Member> group = groups.get(k);
                String name = "jvm" + k;
                List<String> options = new ArrayList<>();
                if (jvmOptions.stream().noneMatch(o -> o.startsWith("-Xmx"))) {
                    options.add("-Xmx" + hostHeapMb(group.size(), heapMbPerNode) + "m");
                }
                options.addAll(jvmOptions);
                List<String> args = new ArrayList<>(List.of("bench-host"));
                if (!rocksdb) {
                    args.add("--in-memory");
                }
                for (Localnet.Member m : group) {
                    args.addAll(List.of("--config", m.configFile().toString()));
                }
                Path log = dir.resolve(name + ".log");
                into.add(new Host(name, Localnet.launchJvm(name, options, args, log), List.copyOf(group), log));
            }
        });
    }

    /** The heap of a JVM running {@code nodes} nodes: {@code perNode} each, and room for the JVM's own. */
    static long hostHeapMb(int nodes, long perNode) {
        return 64 + nodes * perNode;
    }

    @Override
    public int size() {
        return members.size();
    }

    @Override
    public Submitted submit(int node, List<byte[]> txs) throws IOException, InterruptedException {
        return switch (client) {
            case BINARY -> submitBinary(node, txs);
            case JSON_RPC -> submitJsonRpc(node, txs);
        };
    }

    private Submitted submitBinary(int node, List<byte[]> txs) throws IOException, InterruptedException {
        TallyClient.BatchResult r = tallyClients.get(node).submit(txs);
        String firstRejection = null;
        for (TallyClient.TxStatus s : r.results()) {
            switch (s) {
                case TallyClient.TxStatus.Accepted a -> {}
                case TallyClient.TxStatus.Duplicate d -> {}
                case TallyClient.TxStatus.Refused f ->
                    firstRejection = Objects.requireNonNullElse(firstRejection, f.reason());
                case TallyClient.TxStatus.Overloaded o ->
                    firstRejection = Objects.requireNonNullElse(firstRejection, o.reason());
            }
        }
        int accepted = (int) r.count(TallyClient.TxStatus.Accepted.class);
        int duplicate = (int) r.count(TallyClient.TxStatus.Duplicate.class);
        int overloaded = (int) r.count(TallyClient.TxStatus.Overloaded.class);
        return new Submitted(accepted, duplicate, txs.size() - accepted - duplicate, overloaded, firstRejection);
    }

    /** The path before the binary one, for comparison: a JSON-RPC batch of {@code push_tx}, hex in JSON. */
    private Submitted submitJsonRpc(int node, List<byte[]> txs) throws IOException, InterruptedException {
        StringBuilder body = new StringBuilder(txs.size() * (txs.getFirst().length * 2 + 64) + 2).append('[');
        for (int i = 0; i < txs.size(); i++) {
            if (i > 0) {
                body.append(',');
            }
            body.append("{\"jsonrpc\":\"2.0\",\"method\":\"push_tx\",\"id\":")
                    .append(i)
                    .append(",\"params\":[\"");
            HEX.formatHex(body, txs.get(i));
            body.append("\"]}");
        }
        body.append(']');
        HttpResponse<InputStream> r = submitClients
                .get(node)
                .send(request(rpc.get(node), body.toString(), 30), HttpResponse.BodyHandlers.ofInputStream());
        var counts = new BatchAnswer() {
            int accepted;
            int duplicate;
            int rejected;
            int overloaded;
            String firstRejection;

            @Override
            public void result(JsonParser p) throws IOException {
                if (p.getText().equals("accepted")) {
                    accepted++;
                } else {
                    duplicate++;
                }
            }

            @Override
            public void error(int code, String message) {
                rejected++;
                if (message.startsWith("overloaded")) {
                    overloaded++;
                }
                if (firstRejection == null) {
                    firstRejection = message;
                }
            }
        };
        readBatch(r.body(), counts);
        return new Submitted(
                counts.accepted, counts.duplicate, counts.rejected, counts.overloaded, counts.firstRejection);
    }

    @Override
    public long lastBlock() throws IOException, InterruptedException {
        HttpResponse<InputStream> r = readClient.send(
                request(rpc.getFirst(), "{\"jsonrpc\":\"2.0\",\"method\":\"last_committed_block\",\"id\":1}", 5),
                HttpResponse.BodyHandlers.ofInputStream());
        long number = -1;
        try (InputStream in = r.body();
                JsonParser p = JSON.createParser(in)) {
            expect(p.nextToken(), JsonToken.START_OBJECT, "a response");
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                p.nextToken();
                if (field.equals("result") && p.currentToken() == JsonToken.START_OBJECT) {
                    while (p.nextToken() == JsonToken.FIELD_NAME) {
                        String f = p.currentName();
                        p.nextToken();
                        if (f.equals("number")) {
                            number = p.getLongValue();
                        } else {
                            p.skipChildren();
                        }
                    }
                } else if (field.equals("error")) {
                    throw new IOException("last_committed_block: " + error(p).message());
                } else {
                    p.skipChildren();
                }
            }
        }
        return number;
    }

    @Override
    public List<Block> follow(long from, int max, Duration wait) throws IOException, InterruptedException {
        List<Block> blocks = new ArrayList<>();
        for (BlockFeed.Entry e : tallyClients.getFirst().blocks(from, max, wait)) {
            blocks.add(new Block(
                    e.block().number(),
                    e.block().payload(),
                    e.finalAtMillis().isPresent()
                            ? Optional.of(new NodeMetrics.Finalization(
                                    e.finalAtMillis().getAsLong(), e.proposalToFinalMillis()))
                            : Optional.empty()));
        }
        return blocks;
    }

    /** One answer of a JSON-RPC batch: the parser sits on its result's value, or the error's message is given. */
    private interface BatchAnswer {
        void result(JsonParser p) throws IOException;

        void error(int code, String message) throws IOException;
    }

    /** Streams a JSON-RPC batch response, handing each answer's result or error to {@code answer}. */
    private static void readBatch(InputStream body, BatchAnswer answer) throws IOException {
        try (InputStream in = body;
                JsonParser p = JSON.createParser(in)) {
            expect(p.nextToken(), JsonToken.START_ARRAY, "a batch response");
            while (p.nextToken() == JsonToken.START_OBJECT) {
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    String field = p.currentName();
                    p.nextToken();
                    if (field.equals("result")) {
                        answer.result(p);
                    } else if (field.equals("error")) {
                        RpcError e = error(p);
                        answer.error(e.code(), e.message());
                    } else {
                        p.skipChildren();
                    }
                }
            }
        }
    }

    private record RpcError(int code, String message) {}

    private static RpcError error(JsonParser p) throws IOException {
        int code = 0;
        String message = "(no message)";
        if (p.currentToken() == JsonToken.START_OBJECT) {
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String f = p.currentName();
                p.nextToken();
                switch (f) {
                    case "code" -> code = p.getIntValue();
                    case "message" -> message = p.getText();
                    default -> p.skipChildren();
                }
            }
        }
        return new RpcError(code, message);
    }

    private static void expect(JsonToken got, JsonToken want, String what) throws IOException {
        if (got != want) {
            throw new IOException("expected " + what + ", got " + got);
        }
    }

    private static HttpRequest request(URI uri, String body, int timeoutSeconds) {
        return HttpRequest.newBuilder(uri)
                .timeout(Duration.ofSeconds(timeoutSeconds))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body))
                .build();
    }

    @Override
    public long cpuNanos() throws IOException {
        return overHosts(ProcCpu::processNanos);
    }

    @Override
    public long compilerCpuNanos() throws IOException {
        return overHosts(ProcCpu::compilerNanos);
    }

    /** A CPU time of one process, by its pid. */
    private interface ProcessCpu {
        long nanos(long pid) throws IOException;
    }

    private long overHosts(ProcessCpu cpu) throws IOException {
        long ns = 0;
        for (Host h : hosts) {
            ns += cpu.nanos(h.process().pid());
        }
        return ns;
    }

    /** Per node, in the members' order: its process's VmHWM, shared evenly by the nodes that process runs. */
    @Override
    public List<Long> peakMemoryBytes() throws IOException {
        List<Long> peaks = new ArrayList<>();
        for (Host h : hosts) {
            long kb = -1;
            for (String line : Files.readAllLines(
                    Path.of("/proc", Long.toString(h.process().pid()), "status"))) {
                if (line.startsWith("VmHWM:")) {
                    kb = Long.parseLong(line.substring(6).trim().split("\\s+")[0]);
                }
            }
            if (kb < 0) {
                throw new IOException("no VmHWM in /proc/" + h.process().pid() + "/status");
            }
            for (int i = 0; i < h.nodes().size(); i++) {
                peaks.add(kb * 1024 / h.nodes().size());
            }
        }
        return peaks;
    }

    @Override
    public String memoryMeasure() {
        return memoryMeasure;
    }

    @Override
    public void checkAlive() throws IOException {
        for (Host h : hosts) {
            if (!h.process().isAlive()) {
                throw new IOException(h.describe() + " exited with status "
                        + h.process().exitValue() + "; the end of " + h.log() + ":\n" + tail(h.log(), 15));
            }
        }
    }

    private static String tail(Path file, int lines) {
        try {
            List<String> all = Files.readAllLines(file);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException | RuntimeException e) {
            return "(unreadable: " + e + ")";
        }
    }

    /** SIGTERM to every process, then a forced kill of those still running after 10 s. */
    @Override
    public void close() {
        hosts.forEach(h -> h.process().destroy());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        for (Host h : hosts) {
            Process p = h.process();
            try {
                if (!p.waitFor(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                    p.destroyForcibly();
                }
            } catch (InterruptedException e) {
                p.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
        submitClients.forEach(HttpClient::close);
        tallyClients.forEach(TallyClient::close);
        readClient.close();
        try {
            Runtime.getRuntime().removeShutdownHook(stopOnExit);
        } catch (IllegalStateException e) {
            // this JVM is exiting: the hook runs anyway, to no effect
        }
    }
}
