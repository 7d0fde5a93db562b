package dev.tally.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tally.node.config.ConfigException;
import dev.tally.node.rpc.NodeHttp;
import dev.tally.testbed.localnet.Localnet;
import dev.tally.testbed.localnet.RpcClient;
import dev.tally.testbed.localnet.StallWatch;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.LongFunction;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(
        name = "localnet",
        mixinStandardHelpOptions = true,
        description = {
            "Runs a local network: validators (and full nodes) as separate processes on 127.0.0.1, each with "
                    + "its own RocksDB, RPC, metrics and debug page, and prints a line per finalized block until Ctrl-C.",
            "The first run generates keys, a genesis and the configs into --dir; later runs restart the same network "
                    + "(nodes resume from their data)."
        })
final class LocalnetCommand implements Callable<Integer> {
    /** How long the first block may take before the console calls the chain stalled (see StallWatch). */
    private static final Duration START_ALLOWANCE = Duration.ofSeconds(60);

    /** Set once the network is being stopped: nodes exiting then is expected. */
    private static volatile boolean stopping;

    @Spec
    private CommandSpec spec;

    @Option(
            names = "--validators",
            defaultValue = "6",
            paramLabel = "N",
            description = "Validators (default: ${DEFAULT-VALUE}).")
    int validators;

    @Option(
            names = "--full-nodes",
            defaultValue = "0",
            paramLabel = "M",
            description = "Full nodes (default: ${DEFAULT-VALUE}).")
    int fullNodes;

    @Option(
            names = "--dir",
            defaultValue = "localnet",
            paramLabel = "DIR",
            description = "Where the network lives (default: ${DEFAULT-VALUE}).")
    Path dir;

    @Option(names = "--generate-only", description = "Write the keys, genesis and configs, then stop.")
    boolean generateOnly;

    @Option(
            names = "--view-timeout-ms",
            defaultValue = "2000",
            paramLabel = "MS",
            description = "The view timeout of a new network (default: ${DEFAULT-VALUE}).")
    long viewTimeoutMs;

    @Option(
            names = "--epoch-change-at",
            paramLabel = "BLOCK",
            description = "For a new network: at this block the "
                    + "committee changes (the last validator leaves, a new one joins, as an extra node).")
    Long epochChangeAt;

    @Option(
            names = "--tx-rate",
            defaultValue = "0",
            paramLabel = "TX/S",
            description = "Transactions to push per second, spread over the nodes: random 100-byte ones, or with --app"
                    + " transactions the application takes (kvstore: set writes) (default: ${DEFAULT-VALUE}).")
    int txRate;

    @Option(
            names = "--app",
            paramLabel = "NAME",
            description = "Run this application on every node: kvstore (the replicated key-value store example).")
    String app;

    @Override
    public Integer call() throws BadInputException, InterruptedException {
        PrintWriter out = spec.commandLine().getOut();
        LongFunction<byte[]> load = NodeStartup.loadTransactions(app);
        List<Localnet.Member> members = membersOrGenerate(out);
        if (generateOnly) {
            return 0;
        }
        List<Process> children = new CopyOnWriteArrayList<>(); // the shutdown hook reads it
        Runtime.getRuntime().addShutdownHook(new Thread(() -> stop(children, out), "localnet-stop"));
        try {
            for (Localnet.Member m : members) {
                children.add(Localnet.launch(m, List.of(), app == null ? List.of() : List.of("--app", app)));
            }
        } catch (IOException e) {
            throw new BadInputException("cannot start a node process: " + e.getMessage());
        }
        Localnet.Member watched = members.getFirst();
        out.printf("localnet: %d nodes running from %s; logs in %s/node*/node.log%n", members.size(), dir, dir);
        out.printf(
                "node0: RPC http://%s  metrics http://%s/metrics  debug http://%s/  (Ctrl-C stops the network)%n",
                NodeHttp.text(watched.config().rpcAddr().orElseThrow()),
                NodeHttp.text(watched.config().metricsAddr().orElseThrow()),
                NodeHttp.text(watched.config().debugPageAddr().orElseThrow()));
        out.flush();
        if (txRate > 0) {
            Thread.ofVirtual().name("tx-load").start(() -> pushTransactions(members, load));
        }
        monitor(members, children, app != null, out);
        return 0;
    }

    private List<Localnet.Member> membersOrGenerate(PrintWriter out) throws BadInputException {
        try {
            if (Files.exists(dir.resolve("genesis.json"))) {
                if (generateOnly) {
                    throw new BadInputException(dir + " already holds a localnet; remove it or choose another --dir");
                }
                List<Localnet.Member> members = Localnet.read(dir);
                long existingValidators =
                        members.stream().filter(m -> m.config().isValidator()).count();
                var parsed = spec.commandLine().getParseResult();
                if ((parsed.hasMatchedOption("--validators") && validators != existingValidators)
                        || (parsed.hasMatchedOption("--full-nodes")
                                && fullNodes != members.size() - existingValidators)) {
                    throw new BadInputException(dir + " holds a localnet of " + existingValidators + " validators and "
                            + (members.size() - existingValidators) + " full nodes; remove it or choose another --dir");
                }
                out.printf(
                        "localnet: restarting the %d nodes in %s (delete it for a new network)%n", members.size(), dir);
                return members;
            }
            if (validators < 1 || fullNodes < 0) {
                throw new BadInputException("need --validators >= 1 and --full-nodes >= 0");
            }
            List<Localnet.Member> members = Localnet.generate(
                    dir,
                    validators,
                    fullNodes,
                    Duration.ofMillis(viewTimeoutMs),
                    epochChangeAt == null ? java.util.OptionalLong.empty() : java.util.OptionalLong.of(epochChangeAt));
            out.printf(
                    "localnet: generated %d validators and %d full nodes in %s (genesis.json, node*/config.json)%n",
                    validators, fullNodes, dir);
            if (epochChangeAt != null) {
                out.printf(
                        "localnet: at block %d node%d leaves the committee and node%d joins it%n",
                        epochChangeAt, validators - 1, validators);
            }
            return members;
        } catch (IOException | ConfigException e) {
            throw new BadInputException("localnet in " + dir + ": " + e.getMessage());
        }
    }

    /** A block seen by the monitor: when, and how many transactions it carried. */
    private record Sample(long nanos, long txs) {}

    /** The monitor's block lines: the last block printed, when, and the blocks of the last 10 s for the rate. */
    private static final class BlockLines {
        private final ArrayDeque<Sample> window = new ArrayDeque<>();
        private long printed = -1;
        private long lastAt = System.nanoTime();
        private long appStateAt = System.nanoTime();

        /** Prints the blocks after the last one printed up to {@code height} (only {@code height} at first). */
        void printUpTo(long height, RpcClient rpc, PrintWriter out) throws IOException, InterruptedException {
            for (long n = printed < 0 ? height : printed + 1; n <= height; n++) {
                JsonNode b = rpc.call("block", n);
                long now = System.nanoTime();
                long txs = b.path("transactions").asLong(0);
                window.addLast(new Sample(now, txs));
                while (now - window.getFirst().nanos() > TimeUnit.SECONDS.toNanos(10)) {
                    window.removeFirst();
                }
                double span = Math.max(1e-3, (now - window.getFirst().nanos()) / 1e9);
                double rate = window.stream().mapToLong(Sample::txs).sum() / span;
                String latency = b.has("proposal_to_final_ms")
                        ? b.get("proposal_to_final_ms").asLong() + " ms"
                        : "-";
                out.printf(
                        "block %7d  view %7d  latency %7s  +%5d ms  %5d tx  %8.1f tx/s  %7d bytes%n",
                        n,
                        b.get("view").asLong(),
                        latency,
                        (now - lastAt) / 1_000_000,
                        txs,
                        window.size() > 1 ? rate : 0.0,
                        b.path("payload").asText().length() / 2);
                lastAt = now;
                printed = n;
            }
        }

        /**
         * Every 10 s, the application's state on the watched node ({@code app_state}: its last applied block and
         * root), so that its root is seen to move. Nothing while it has applied no block (an RPC error).
         */
        void printAppState(RpcClient rpc, PrintWriter out) throws InterruptedException {
            long now = System.nanoTime();
            if (now - appStateAt < TimeUnit.SECONDS.toNanos(10)) {
                return;
            }
            appStateAt = now;
            try {
                JsonNode s = rpc.call("app_state");
                out.printf(
                        "app: block %d  root %s  root mismatches %d%n",
                        s.path("block").asLong(),
                        s.path("root").asText(),
                        s.path("root_mismatches").asLong());
            } catch (IOException e) {
                // none applied yet, or the node is stopping: the block lines report the node
            }
        }
    }

    /**
     * A line per block finalized on the watched node: height, view, latency (from its proposal to finality, as the
     * node measured it), time since the previous block, transactions, tx/s over the last 10 s, payload size. The
     * watched node is node0 until its RPC stops answering; then the next node that answers. A line when no block came
     * for three view timeouts (the chain stalled), and one when blocks come again. With an application, its state
     * every 10 s.
     */
    private static void monitor(List<Localnet.Member> members, List<Process> children, boolean withApp, PrintWriter out)
            throws InterruptedException {
        List<RpcClient> clients = members.stream()
                .map(m -> new RpcClient(m.config().rpcAddr().orElseThrow()))
                .toList();
        int watched = 0;
        BlockLines lines = new BlockLines();
        // Three view timeouts without a block, the rule of the nodes' own stall warning and health status; the first
        // block may take the start's allowance (JVMs starting and connecting: 10-20 s on two cores).
        Duration stall = members.getFirst().config().viewTimeout().multipliedBy(3);
        StallWatch stalls = new StallWatch(
                stall, START_ALLOWANCE.compareTo(stall) > 0 ? START_ALLOWANCE : stall, System.nanoTime());
        boolean[] reported = new boolean[children.size()];
        String problem = null;
        while (true) {
            for (int i = 0; i < children.size(); i++) {
                if (!reported[i] && !children.get(i).isAlive() && !stopping) {
                    reported[i] = true;
                    out.printf(
                            "%s exited with status %d; see %s%n",
                            members.get(i).name(),
                            children.get(i).exitValue(),
                            members.get(i).logFile());
                }
            }
            RpcClient rpc = clients.get(watched);
            try {
                JsonNode last = rpc.call("last_committed_block");
                problem = null;
                if (!last.isNull()) {
                    lines.printUpTo(last.get("number").asLong(), rpc, out);
                }
                if (withApp) {
                    lines.printAppState(rpc, out);
                }
                stalls.observe(last.path("number").asLong(-1), System.nanoTime())
                        .ifPresent(line -> out.println("localnet: " + line));
                out.flush();
            } catch (IOException e) {
                if (stopping) {
                    return;
                }
                String why = members.get(watched).name() + "'s RPC: "
                        + (e.getMessage() != null
                                ? e.getMessage()
                                : e.getClass().getSimpleName());
                if (!why.equals(problem)) {
                    problem = why;
                    out.println("waiting for " + why);
                    out.flush();
                }
                if (lines.printed >= 0) {
                    watched = (watched + 1) % clients.size(); // it was up before: follow another node
                    out.println(
                            "localnet: now following " + members.get(watched).name());
                    out.flush();
                    Thread.sleep(500);
                }
            }
            Thread.sleep(50);
        }
    }

    private void pushTransactions(List<Localnet.Member> members, LongFunction<byte[]> load) {
        List<RpcClient> clients = members.stream()
                .map(m -> new RpcClient(m.config().rpcAddr().orElseThrow()))
                .toList();
        long intervalNanos = 1_000_000_000L / txRate;
        long next = System.nanoTime();
        for (long i = 0; ; i++) {
            byte[] tx = load.apply(i);
            try {
                clients.get((int) (i % clients.size()))
                        .call("push_tx", java.util.HexFormat.of().formatHex(tx));
            } catch (IOException e) {
                // the node is starting or stopping: the monitor reports it
            } catch (InterruptedException e) {
                return;
            }
            next += intervalNanos;
            long wait = next - System.nanoTime();
            if (wait > 0) {
                try {
                    TimeUnit.NANOSECONDS.sleep(wait);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }
    }

    /** SIGTERM to every node, then a forced kill of those still running after 10 s. */
    private static void stop(List<Process> children, PrintWriter out) {
        stopping = true;
        out.println("localnet: stopping the nodes");
        out.flush();
        children.forEach(Process::destroy);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        for (Process p : children) {
            try {
                if (!p.waitFor(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                    p.destroyForcibly();
                }
            } catch (InterruptedException e) {
                p.destroyForcibly();
            }
        }
    }
}
