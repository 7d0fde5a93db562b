package dev.tally.testbed.k8s;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.tally.crypto.BlsSecretKey;
import dev.tally.crypto.NodeSecretKey;
import dev.tally.node.config.GenesisJson;
import dev.tally.protocol.Genesis;
import dev.tally.protocol.LeaderSelection;
import dev.tally.protocol.ValidatorInfo;
import dev.tally.protocol.ValidatorSchedule;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.stream.IntStream;
import java.util.stream.Stream;

/**
 * A new chain on Kubernetes, as a kustomize base ({@code kubectl apply -k DIR}): its genesis, one StatefulSet of
 * validators ({@code tally-validator-0} ... with a persistent volume each), a headless Service that gives each
 * validator a stable DNS name ({@code tally-validator-<i>.tally-validators}), a PodDisruptionBudget that lets at most f
 * validators be down, one single-replica Deployment per full node, a Service for clients' RPC, and the nodes' configs
 * (ConfigMaps) and secret keys (Secrets, in files only their owner may read).
 *
 * <p>Each validator pod finds its own config and keys by its name: the node's argument {@code --config
 * /etc/tally/config/$(POD_NAME).json} and the key volume's {@code subPathExpr: $(POD_NAME)}, which Kubernetes expands
 * from the pod's name; a pod never sees another validator's key. DEPLOY.md explains the layout.
 */
public final class K8sManifests {
    public static final String VALIDATOR = "tally-validator";
    public static final String VALIDATORS_SERVICE = "tally-validators";
    public static final String FULL_NODE = "tally-full-node";
    public static final String FULL_NODES_SERVICE = "tally-full-nodes";
    public static final String RPC_SERVICE = "tally-rpc";
    public static final String VALIDATOR_CONFIG = "tally-validator-config";
    public static final String VALIDATOR_KEYS = "tally-validator-keys";
    public static final String FULL_NODE_CONFIG = "tally-full-node-config";
    public static final String FULL_NODE_KEYS = "tally-full-node-keys";
    /** The kustomization, which lists every other manifest. */
    public static final String KUSTOMIZATION = "kustomization.yaml";

    private static final JsonNodeFactory JSON = JsonNodeFactory.instance;
    private static final YAMLMapper YAML = new YAMLMapper(new YAMLFactory()
            .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
            .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
            .enable(YAMLGenerator.Feature.ALWAYS_QUOTE_NUMBERS_AS_STRINGS)
            .enable(YAMLGenerator.Feature.LITERAL_BLOCK_STYLE));

    /** One node of the chain; {@code validatorKey} is absent on full nodes. */
    record Member(String name, Optional<BlsSecretKey> validatorKey, NodeSecretKey nodeKey) {}

    private K8sManifests() {}

    /**
     * Writes a new chain's manifests into {@code dir}, which must be empty or absent. Returns the files written. The
     * Secrets' files are readable by their owner only.
     */
    public static List<Path> write(K8sSettings s, Path dir) throws IOException {
        if (Files.isDirectory(dir)) {
            try (Stream<Path> entries = Files.list(dir)) {
                if (entries.findAny().isPresent()) {
                    throw new IllegalArgumentException(dir + " is not empty; choose a new --out directory (a chain's "
                            + "keys are never overwritten)");
                }
            }
        }
        Files.createDirectories(dir);
        List<Member> validators = IntStream.range(0, s.validators())
                .mapToObj(i ->
                        new Member(VALIDATOR + "-" + i, Optional.of(BlsSecretKey.generate()), NodeSecretKey.generate()))
                .toList();
        List<Member> fullNodes = IntStream.range(0, s.fullNodes())
                .mapToObj(i -> new Member(FULL_NODE + "-" + i, Optional.empty(), NodeSecretKey.generate()))
                .toList();
        Genesis genesis = genesis(s, validators);
        List<Path> written = new ArrayList<>();
        Path genesisFile = dir.resolve("genesis.json");
        Files.writeString(genesisFile, GenesisJson.toJson(genesis));
        written.add(genesisFile);
        NodeConfigs configs = new NodeConfigs(genesis, validators);
        List<String> resources = new ArrayList<>();
        for (Manifest m : manifests(s, genesis, configs, validators, fullNodes)) {
            Path file = dir.resolve(m.file());
            String yaml = YAML.writeValueAsString(m.object());
            if (m.secret()) {
                writePrivate(file, yaml);
            } else {
                Files.writeString(file, yaml);
            }
            written.add(file);
            resources.add(m.file());
        }
        ObjectNode kustomization = JSON.objectNode()
                .put("apiVersion", "kustomize.config.k8s.io/v1beta1")
                .put("kind", "Kustomization")
                .put("namespace", s.namespace());
        resources.forEach(kustomization.putArray("resources")::add);
        Path k = dir.resolve(KUSTOMIZATION);
        Files.writeString(k, YAML.writeValueAsString(kustomization));
        written.add(k);
        return written;
    }

    /** A manifest file; a {@code secret} one holds keys. */
    private record Manifest(String file, ObjectNode object, boolean secret) {
        Manifest(String file, ObjectNode object) {
            this(file, object, false);
        }
    }

    private static List<Manifest> manifests(
            K8sSettings s, Genesis genesis, NodeConfigs configs, List<Member> validators, List<Member> fullNodes) {
        List<Manifest> out = new ArrayList<>();
        out.add(new Manifest("namespace.yaml", object("v1", "Namespace", s.namespace())));
        out.add(new Manifest("validator-config.yaml", configMap(VALIDATOR_CONFIG, configs, validators)));
        out.add(new Manifest("validator-keys.yaml", secret(VALIDATOR_KEYS, validators), true));
        out.add(new Manifest("validators-service.yaml", headlessService(VALIDATORS_SERVICE, "validator")));
        out.add(new Manifest("validators-statefulset.yaml", Workloads.validators(s)));
        long f = genesis.schedule().orElseThrow().maxFaultyWeight();
        out.add(new Manifest("validators-pdb.yaml", Workloads.disruptionBudget(f)));
        if (!fullNodes.isEmpty()) {
            out.add(new Manifest("full-node-config.yaml", configMap(FULL_NODE_CONFIG, configs, fullNodes)));
            out.add(new Manifest("full-node-keys.yaml", secret(FULL_NODE_KEYS, fullNodes), true));
            out.add(new Manifest("full-nodes-service.yaml", headlessService(FULL_NODES_SERVICE, "full-node")));
            for (Member m : fullNodes) {
                out.add(new Manifest(m.name() + "-deployment.yaml", Workloads.fullNode(s, m.name())));
            }
        }
        out.add(new Manifest("rpc-service.yaml", rpcService(fullNodes.isEmpty() ? "validator" : "full-node")));
        return out;
    }

    private static Genesis genesis(K8sSettings s, List<Member> validators) {
        List<ValidatorInfo> infos = validators.stream()
                .map(m -> new ValidatorInfo(m.validatorKey().orElseThrow().publicKey(), 1, true))
                .toList();
        return new Genesis(
                s.chainId(),
                0,
                0,
                Genesis.PROTOCOL_VERSION,
                Optional.of(new ValidatorSchedule(infos, new LeaderSelection(1, LeaderSelection.Mode.ROUND_ROBIN))));
    }

    /** The members' configs, one data entry {@code <name>.json} each. */
    private static ObjectNode configMap(String name, NodeConfigs configs, List<Member> members) {
        ObjectNode data = JSON.objectNode();
        members.forEach(m -> data.put(m.name() + ".json", configs.json(m)));
        ObjectNode cm = object("v1", "ConfigMap", name);
        cm.set("data", data);
        return cm;
    }

    /**
     * The members' keys, entries {@code <name>.validator.key} and {@code <name>.node.key}; each pod's key volume maps
     * its own entries to {@code validator.key} and {@code node.key} (see {@code Workloads.keyVolume}).
     */
    private static ObjectNode secret(String name, List<Member> members) {
        ObjectNode data = JSON.objectNode();
        for (Member m : members) {
            m.validatorKey().ifPresent(k -> data.put(m.name() + ".validator.key", base64(k.toText())));
            data.put(m.name() + ".node.key", base64(m.nodeKey().toText()));
        }
        ObjectNode secret = object("v1", "Secret", name);
        secret.put("type", "Opaque");
        secret.set("data", data);
        return secret;
    }

    private static String base64(String keyText) {
        return Base64.getEncoder().encodeToString((keyText + "\n").getBytes(StandardCharsets.UTF_8));
    }

    /** Stable DNS names for the pods of a component, also before they are ready (peers must find each other). */
    private static ObjectNode headlessService(String name, String component) {
        ObjectNode spec = JSON.objectNode().put("clusterIP", "None").put("publishNotReadyAddresses", true);
        spec.set("selector", labels(component));
        ArrayNode ports = spec.putArray("ports");
        ports.addObject().put("name", "p2p").put("port", Pods.P2P_PORT).put("targetPort", "p2p");
        return object("v1", "Service", name).set("spec", spec);
    }

    /** Where clients send JSON-RPC ({@code push_tx}, {@code block}): the full nodes, or the validators if none. */
    private static ObjectNode rpcService(String component) {
        ObjectNode spec = JSON.objectNode().put("type", "ClusterIP");
        spec.set("selector", labels(component));
        spec.putArray("ports")
                .addObject()
                .put("name", "rpc")
                .put("port", Pods.RPC_PORT)
                .put("targetPort", "rpc");
        return object("v1", "Service", RPC_SERVICE).set("spec", spec);
    }

    /** The labels of a component's pods ({@code validator} or {@code full-node}). */
    static ObjectNode labels(String component) {
        return JSON.objectNode().put("app.kubernetes.io/name", "tally").put("app.kubernetes.io/component", component);
    }

    /** An object with {@code apiVersion}, {@code kind} and {@code metadata} (its name, the app's label). */
    static ObjectNode object(String apiVersion, String kind, String name) {
        ObjectNode o = JSON.objectNode().put("apiVersion", apiVersion).put("kind", kind);
        o.putObject("metadata").put("name", name).putObject("labels").put("app.kubernetes.io/name", "tally");
        return o;
    }

    /** Creates {@code file} readable by its owner only before the keys are written into it. */
    private static void writePrivate(Path file, String text) throws IOException {
        try {
            Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        } catch (UnsupportedOperationException e) {
            Files.createFile(file); // not a POSIX file system: its default permissions
        }
        Files.writeString(file, text);
    }
}
