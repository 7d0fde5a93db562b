package dev.tally.testbed.localnet;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tally.crypto.BlsSecretKey;
import dev.tally.crypto.NodeSecretKey;
import dev.tally.execution.ScheduledCommittee;
import dev.tally.network.LoopbackPorts;
import dev.tally.node.config.ConfigException;
import dev.tally.node.config.GenesisJson;
import dev.tally.node.config.NodeConfig;
import dev.tally.node.config.NodeConfigJson;
import dev.tally.protocol.Genesis;
import dev.tally.protocol.LeaderSelection;
import dev.tally.protocol.ValidatorInfo;
import dev.tally.protocol.ValidatorSchedule;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * A local network on loopback: {@code genesis.json} and one directory per node ({@code node0}, {@code node1}, ...)
 * holding {@code config.json}, the node's secret keys in {@code node.key} and (on validators) {@code validator.key}
 * (mode 0600, referenced from the config), the node's {@code data} directory, and {@code node.log}, the node's log. Each node dials every other one.
 */
public final class Localnet {
    public static final long CHAIN_ID = 1337;
    private static final String CONFIG = "config.json";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String VALIDATOR_KEY = "validator_key";
    private static final String NODE_KEY = "node_key";
    /**
     * The {@code tally} command line, by name: testbed sits below the cli module, whose jar the caller (bin/tally, or
     * the cli module's tests) puts on the class path that child processes inherit.
     */
    private static final String TALLY_MAIN = "dev.tally.cli.Main";

    /** One node of a localnet. */
    public record Member(String name, Path dir, NodeConfig config) {
        public Path configFile() {
            return dir.resolve(CONFIG);
        }

        public Path dataDir() {
            return dir.resolve("data");
        }

        public Path logFile() {
            return dir.resolve("node.log");
        }
    }

    private Localnet() {}

    /** Writes a new localnet into {@code dir}, which must not hold one yet. */
    public static List<Member> generate(Path dir, int validators, int fullNodes, Duration viewTimeout)
            throws IOException {
        return generate(dir, validators, fullNodes, viewTimeout, java.util.OptionalLong.empty());
    }

    /**
     * As {@link #generate(Path, int, int, Duration)}; with {@code epochChangeAt}, the committee changes at that block:
     * the last genesis validator leaves and a new validator (the node after the genesis validators, which runs as a
     * full node until then) joins.
     */
    public static List<Member> generate(
            Path dir, int validators, int fullNodes, Duration viewTimeout, java.util.OptionalLong epochChangeAt)
            throws IOException {
        int joiners = epochChangeAt.isPresent() ? 1 : 0;
        return generate(
                dir,
                validators,
                fullNodes,
                viewTimeout,
                epochChangeAt,
                loopbackAddresses(Math.max(0, validators + joiners + fullNodes)));
    }

    /**
     * Where a node listens ({@code server}, RPC, metrics, debug page) and where the others dial it ({@code dialed}:
     * its {@code public_addr} and the other nodes' gossip address of it).
     */
    public record NodeAddresses(
            InetSocketAddress server,
            InetSocketAddress dialed,
            InetSocketAddress rpc,
            InetSocketAddress metrics,
            InetSocketAddress debugPage) {}

    /**
     * As {@link #generate(Path, int, int, Duration, java.util.OptionalLong)}, with each node at the given addresses
     * (one per node: validators, the joining validator if any, then full nodes).
     */
    public static List<Member> generate(
            Path dir,
            int validators,
            int fullNodes,
            Duration viewTimeout,
            java.util.OptionalLong epochChangeAt,
            List<NodeAddresses> addresses)
            throws IOException {
        if (epochChangeAt.isPresent() && (validators < 2 || epochChangeAt.getAsLong() < 1)) {
            throw new IllegalArgumentException("an epoch change needs at least 2 validators and a block above 0");
        }
        int joiners = epochChangeAt.isPresent() ? 1 : 0;
        if (validators < 1) {
            throw new IllegalArgumentException("need at least one validator, got " + validators);
        }
        if (Files.exists(dir.resolve("genesis.json"))) {
            throw new IllegalArgumentException(dir + " already holds a localnet; remove it or choose another --dir");
        }
        int n = validators + joiners + fullNodes;
        if (addresses.size() != n) {
            throw new IllegalArgumentException("need addresses for " + n + " nodes, got " + addresses.size());
        }
        List<BlsSecretKey> validatorKeys = Stream.generate(BlsSecretKey::generate)
                .limit(validators + joiners)
                .toList();
        List<NodeSecretKey> nodeKeys =
                Stream.generate(NodeSecretKey::generate).limit(n).toList();
        LeaderSelection roundRobin = new LeaderSelection(1, LeaderSelection.Mode.ROUND_ROBIN);
        List<ValidatorInfo> infos = validatorKeys.subList(0, validators).stream()
                .map(k -> new ValidatorInfo(k.publicKey(), 1, true))
                .toList();
        Genesis genesis = new Genesis(
                CHAIN_ID, 0, 0, Genesis.PROTOCOL_VERSION, Optional.of(new ValidatorSchedule(infos, roundRobin)));
        List<ScheduledCommittee> schedule = new ArrayList<>();
        if (epochChangeAt.isPresent()) {
            List<ValidatorInfo> next = new ArrayList<>(infos.subList(0, validators - 1));
            next.add(new ValidatorInfo(validatorKeys.get(validators).publicKey(), 1, true));
            schedule.add(new ScheduledCommittee(epochChangeAt.getAsLong(), new ValidatorSchedule(next, roundRobin)));
        }
        List<Member> members = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            NodeAddresses a = addresses.get(i);
            Map<dev.tally.crypto.NodePublicKey, InetSocketAddress> peers = new LinkedHashMap<>();
            for (int j = 0; j < n; j++) {
                if (j != i) {
                    peers.put(nodeKeys.get(j).publicKey(), addresses.get(j).dialed());
                }
            }
            NodeConfig cfg = new NodeConfig(
                    a.server(),
                    a.dialed(),
                    Optional.of(a.rpc()),
                    Optional.of(a.metrics()),
                    Optional.of(a.debugPage()),
                    genesis,
                    NodeConfigJson.DEFAULT_MAX_PAYLOAD_SIZE,
                    NodeConfigJson.DEFAULT_MAX_TX_SIZE,
                    viewTimeout,
                    i < validators + joiners ? Optional.of(validatorKeys.get(i)) : Optional.empty(),
                    nodeKeys.get(i),
                    NodeConfigJson.DEFAULT_DYNAMIC_INBOUND_LIMIT,
                    List.of(),
                    peers,
                    Duration.ofMillis(NodeConfigJson.DEFAULT_FETCH_SCHEDULE_INTERVAL_MS),
                    Optional.empty(),
                    schedule);
            Member m = new Member("node" + i, dir.resolve("node" + i), cfg);
            Files.createDirectories(m.dir());
            writeConfig(m);
            members.add(m);
        }
        Files.writeString(dir.resolve("genesis.json"), GenesisJson.toJson(genesis));
        return members;
    }

    /** Reads the localnet in {@code dir}. */
    public static List<Member> read(Path dir) throws IOException, ConfigException {
        List<Member> members = new ArrayList<>();
        for (int i = 0; Files.exists(dir.resolve("node" + i).resolve(CONFIG)); i++) {
            Path d = dir.resolve("node" + i);
            members.add(new Member("node" + i, d, NodeConfigJson.read(d.resolve(CONFIG), Map.of())));
        }
        if (members.isEmpty()) {
            throw new IOException("no localnet in " + dir + " (no node0/" + CONFIG + ")");
        }
        return members;
    }

    /**
     * Starts a node as a child process with this JVM's java, class path and options; it logs to the member's
     * {@code node.log} (rotated by the node), where its other output is appended too.
     */
    public static Process launch(Member m) throws IOException {
        return launch(m, List.of());
    }

    /**
     * Starts a node as a child process: this JVM's java, class path and options (but not its debugger, agents, JFR
     * recording or heap size), a 256 MB heap and the serial collector unless {@code extra} says otherwise, then
     * {@code extra}, in which {@code {node}} stands for the node's name (e.g. a JFR recording per node). It logs to
     * the member's {@code node.log} (rotated by the node), where its other output is appended too.
     */
    public static Process launch(Member m, List<String> extra) throws IOException {
        return launch(m, extra, List.of());
    }

    /** As {@link #launch(Member, List)}, with {@code nodeArgs} after the node command's own (e.g. an application). */
    public static Process launch(Member m, List<String> extra, List<String> nodeArgs) throws IOException {
        return launch(m, extra, List.of(), nodeArgs);
    }

    /**
     * As {@link #launch(Member, List, List)}, the command behind {@code wrapper} (e.g. {@code ip netns exec NS}, which
     * runs the node in a network namespace).
     */
    public static Process launch(Member m, List<String> extra, List<String> wrapper, List<String> nodeArgs)
            throws IOException {
        List<String> args = new ArrayList<>(List.of(
                "node",
                "--config",
                m.configFile().toString(),
                "--data",
                m.dataDir().toString(),
                "--log-file",
                m.logFile().toString()));
        args.addAll(nodeArgs);
        return launchJvm(wrapper, m.name(), extra, args, m.logFile());
    }

    /**
     * Starts {@code tally args} as a child process, as {@link #launch(Member, List)} starts a node: this JVM's java,
     * class path and options (but not its debugger, agents, JFR recording or heap size), a 256 MB heap and the serial
     * collector unless {@code extra} says otherwise, then {@code extra}, in which {@code {node}} stands for
     * {@code name}. Its output is appended to {@code log}; its temp directory is {@code tmp} beside it.
     */
    public static Process launchJvm(String name, List<String> extra, List<String> args, Path log) throws IOException {
        return launchJvm(List.of(), name, extra, args, log);
    }

    private static Process launchJvm(List<String> wrapper, String name, List<String> extra, List<String> args, Path log)
            throws IOException {
        List<String> cmd = new ArrayList<>(wrapper);
        cmd.add(ProcessHandle.current()
                .info()
                .command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        List<String> inherited = ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
                .filter(a -> !a.startsWith("-agentlib")
                        && !a.startsWith("-javaagent")
                        && !a.startsWith("-Xrunjdwp")
                        && !a.startsWith("-XX:StartFlightRecording")
                        && !a.startsWith("-Xmx")
                        && !a.startsWith("-Xms")
                        && !a.startsWith("-Djava.io.tmpdir"))
                .toList();
        List<String> options =
                extra.stream().map(o -> o.replace("{node}", name)).toList();
        if (options.stream().noneMatch(a -> a.startsWith("-Xmx"))) {
            cmd.add("-Xmx256m");
        }
        if (options.stream().noneMatch(a -> a.contains("GC"))
                && inherited.stream().noneMatch(a -> a.contains("GC"))) {
            cmd.add("-XX:+UseSerialGC"); // a small heap and many JVMs on a few cores: fewer GC threads
        }
        cmd.addAll(inherited);
        // jblst unpacks its native library into a new directory under the temp directory and deletes it only on a
        // normal exit: a node killed (a chaos fault, a test's forced stop) would leave it in /tmp for good. Beside
        // the log, it goes with the network's directory.
        Path tmp = Files.createDirectories(log.toAbsolutePath().getParent().resolve("tmp"));
        cmd.add("-Djava.io.tmpdir=" + tmp);
        cmd.addAll(options);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), TALLY_MAIN));
        cmd.addAll(args);
        return new ProcessBuilder(cmd)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .start();
    }

    /**
     * The member's config, its secret keys in key files beside it ({@code node.key}, and {@code validator.key} on a
     * validator) readable by their owner only, as the node requires; the config itself holds no secret.
     */
    public static void writeConfig(Member m) throws IOException {
        ObjectNode json = (ObjectNode) JSON.readTree(NodeConfigJson.toJson(m.config()));
        for (String field : List.of(VALIDATOR_KEY, NODE_KEY)) {
            if (json.has(field)) {
                String file = field.replace("_key", ".key");
                writePrivate(m.dir().resolve(file), json.get(field).textValue() + "\n");
                json.putObject(field).put("file", file);
            }
        }
        Files.writeString(m.configFile(), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(json));
    }

    /** Creates {@code file} afresh, readable by its owner only before the secret is written into it. */
    private static void writePrivate(Path file, String text) throws IOException {
        Files.deleteIfExists(file);
        try {
            Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        } catch (UnsupportedOperationException e) {
            // not a POSIX file system: the default permissions
        }
        Files.writeString(file, text);
    }

    /** Addresses on loopback for {@code count} nodes, on ports all distinct and free a moment ago (see {@link LoopbackPorts}). */
    private static List<NodeAddresses> loopbackAddresses(int count) throws IOException {
        List<Integer> p = LoopbackPorts.free(4 * count);
        InetAddress loopback = InetAddress.getLoopbackAddress();
        List<NodeAddresses> addresses = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            InetSocketAddress server = new InetSocketAddress(loopback, p.get(4 * i));
            addresses.add(new NodeAddresses(
                    server,
                    server,
                    new InetSocketAddress(loopback, p.get(4 * i + 1)),
                    new InetSocketAddress(loopback, p.get(4 * i + 2)),
                    new InetSocketAddress(loopback, p.get(4 * i + 3))));
        }
        return addresses;
    }
}
