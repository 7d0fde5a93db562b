package dev.tally.node.bench;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.tally.node.localnet.Localnet;
import dev.tally.protocol.Payload;
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
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;

/**
 * A localnet of real node processes on loopback (as {@code bin/tally localnet} runs them), driven over JSON-RPC:
 * transactions as batches of {@code push_tx}, final blocks as batches of {@code block} from node0. CPU and peak
 * memory come from {@code /proc/<pid>}.
 */
final class ProcessCluster implements Cluster {
    private static final JsonFactory JSON = new JsonFactory();
    private static final HexFormat HEX = HexFormat.of();
    /** Clock ticks per second of /proc/<pid>/stat times (USER_HZ: 100 on every Linux this runs on). */
    private static final long CLOCK_TICKS = 100;

    private final List<Localnet.Member> members;
    private final List<Process> processes = new ArrayList<>();
    private final List<URI> rpc = new ArrayList<>();
    private final List<HttpClient> submitClients = new ArrayList<>();
    private final HttpClient readClient = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(2)).build();

    ProcessCluster(List<Localnet.Member> members, List<String> nodeJvmOptions) throws IOException {
        this.members = List.copyOf(members);
        try {
            for (Localnet.Member m : members) {
                processes.add(Localnet.launch(m, nodeJvmOptions));
                InetSocketAddress a = m.config().rpcAddr().orElseThrow();
                rpc.add(URI.create("http://" + a.getAddress().getHostAddress() + ":" + a.getPort() + "/"));
                submitClients.add(HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                        .connectTimeout(Duration.ofSeconds(2)).build());
            }
        } catch (IOException | RuntimeException e) {
            close();
            throw e;
        }
    }

    @Override
    public int size() {
        return members.size();
    }

    @Override
    public Submitted submit(int node, List<byte[]> txs) throws IOException, InterruptedException {
        StringBuilder body = new StringBuilder(txs.size() * (txs.getFirst().length * 2 + 64) + 2).append('[');
        for (int i = 0; i < txs.size(); i++) {
            if (i > 0) {
                body.append(',');
            }
            body.append("{\"jsonrpc\":\"2.0\",\"method\":\"push_tx\",\"id\":").append(i).append(",\"params\":[\"");
            HEX.formatHex(body, txs.get(i));
            body.append("\"]}");
        }
        body.append(']');
        HttpResponse<InputStream> r = submitClients.get(node).send(request(rpc.get(node), body.toString(), 30),
                HttpResponse.BodyHandlers.ofInputStream());
        var counts = new BatchAnswer() {
            int accepted;
            int duplicate;
            int rejected;
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
            public void error(String message) {
                rejected++;
                if (firstRejection == null) {
                    firstRejection = message;
                }
            }
        };
        readBatch(r.body(), counts);
        return new Submitted(counts.accepted, counts.duplicate, counts.rejected, counts.firstRejection);
    }

    @Override
    public long lastBlock() throws IOException, InterruptedException {
        HttpResponse<InputStream> r = readClient.send(request(rpc.getFirst(),
                "{\"jsonrpc\":\"2.0\",\"method\":\"last_committed_block\",\"id\":1}", 5), HttpResponse.BodyHandlers.ofInputStream());
        long number = -1;
        try (InputStream in = r.body(); JsonParser p = JSON.createParser(in)) {
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
                    throw new IOException("last_committed_block: " + errorMessage(p));
                } else {
                    p.skipChildren();
                }
            }
        }
        return number;
    }

    @Override
    public List<Block> blocks(long from, long to) throws IOException, InterruptedException {
        StringBuilder body = new StringBuilder("[");
        for (long n = from; n <= to; n++) {
            if (n > from) {
                body.append(',');
            }
            body.append("{\"jsonrpc\":\"2.0\",\"method\":\"block\",\"id\":").append(n).append(",\"params\":[").append(n).append("]}");
        }
        body.append(']');
        HttpResponse<InputStream> r = readClient.send(request(rpc.getFirst(), body.toString(), 30), HttpResponse.BodyHandlers.ofInputStream());
        List<Block> blocks = new ArrayList<>();
        readBatch(r.body(), new BatchAnswer() {
            @Override
            public void result(JsonParser p) throws IOException {
                blocks.add(block(p));
            }

            @Override
            public void error(String message) throws IOException {
                throw new IOException("block: " + message);
            }
        });
        blocks.sort((a, b) -> Long.compare(a.number(), b.number()));
        return blocks;
    }

    /** One answer of a JSON-RPC batch: the parser sits on its result's value, or the error's message is given. */
    private interface BatchAnswer {
        void result(JsonParser p) throws IOException;

        void error(String message) throws IOException;
    }

    /** Streams a JSON-RPC batch response, handing each answer's result or error to {@code answer}. */
    private static void readBatch(InputStream body, BatchAnswer answer) throws IOException {
        try (InputStream in = body; JsonParser p = JSON.createParser(in)) {
            expect(p.nextToken(), JsonToken.START_ARRAY, "a batch response");
            while (p.nextToken() == JsonToken.START_OBJECT) {
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    String field = p.currentName();
                    p.nextToken();
                    if (field.equals("result")) {
                        answer.result(p);
                    } else if (field.equals("error")) {
                        answer.error(errorMessage(p));
                    } else {
                        p.skipChildren();
                    }
                }
            }
        }
    }

    /** The fields of a {@code block} result the harness needs; the others (the encoded block, the QC) are skipped. */
    private static Block block(JsonParser p) throws IOException {
        long number = -1;
        Payload payload = null;
        OptionalLong latency = OptionalLong.empty();
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String f = p.currentName();
            p.nextToken();
            switch (f) {
                case "number" -> number = p.getLongValue();
                case "payload" -> payload = Payload.of(HEX.parseHex(p.getText()));
                case "proposal_to_final_ms" -> latency = OptionalLong.of(p.getLongValue());
                default -> p.skipChildren();
            }
        }
        if (number < 0 || payload == null) {
            throw new IOException("a block result without number or payload");
        }
        return new Block(number, payload, latency);
    }

    private static String errorMessage(JsonParser p) throws IOException {
        String message = "(no message)";
        if (p.currentToken() == JsonToken.START_OBJECT) {
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String f = p.currentName();
                p.nextToken();
                if (f.equals("message")) {
                    message = p.getText();
                } else {
                    p.skipChildren();
                }
            }
        }
        return message;
    }

    private static void expect(JsonToken got, JsonToken want, String what) throws IOException {
        if (got != want) {
            throw new IOException("expected " + what + ", got " + got);
        }
    }

    private static HttpRequest request(URI uri, String body, int timeoutSeconds) {
        return HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(timeoutSeconds))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build();
    }

    @Override
    public long cpuNanos() throws IOException {
        long ticks = 0;
        for (Process p : processes) {
            String stat = Files.readString(Path.of("/proc", Long.toString(p.pid()), "stat"));
            // Fields after the command name (which may hold spaces) start at field 3, state; utime and stime are 14, 15.
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            ticks += Long.parseLong(f[11]) + Long.parseLong(f[12]);
        }
        return ticks * (1_000_000_000L / CLOCK_TICKS);
    }

    @Override
    public List<Long> peakMemoryBytes() throws IOException {
        List<Long> peaks = new ArrayList<>();
        for (Process p : processes) {
            long kb = -1;
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(p.pid()), "status"))) {
                if (line.startsWith("VmHWM:")) {
                    kb = Long.parseLong(line.substring(6).trim().split("\\s+")[0]);
                }
            }
            if (kb < 0) {
                throw new IOException("no VmHWM in /proc/" + p.pid() + "/status");
            }
            peaks.add(kb * 1024);
        }
        return peaks;
    }

    @Override
    public String memoryMeasure() {
        return "VmHWM (peak resident set) of each node process";
    }

    @Override
    public void checkAlive() throws IOException {
        for (int i = 0; i < processes.size(); i++) {
            if (!processes.get(i).isAlive()) {
                throw new IOException(members.get(i).name() + " exited with status " + processes.get(i).exitValue()
                        + "; the end of " + members.get(i).logFile() + ":\n" + tail(members.get(i).logFile(), 15));
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

    /** SIGTERM to every node, then a forced kill of those still running after 10 s. */
    @Override
    public void close() {
        processes.forEach(Process::destroy);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        for (Process p : processes) {
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
        readClient.close();
    }
}
