package dev.tally.testbed.k8s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.tally.crypto.NodeSecretKey;
import dev.tally.node.config.GenesisJson;
import dev.tally.node.config.NodeConfig;
import dev.tally.node.config.NodeConfigJson;
import dev.tally.protocol.Genesis;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.KeyToPath;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import java.lang.reflect.Method;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The manifests of a 6-validator chain with two full nodes, read back with fabric8's typed Kubernetes model: every
 * object parses with no field the model does not know, and every reference resolves (ConfigMaps, Secrets and their
 * keys, volumes, ports named by probes and Services, the pods' names in configs and key paths, peers' addresses).
 */
class K8sManifestsTest {
    static final int N = 6;
    static final YAMLMapper YAML =
            (YAMLMapper) new YAMLMapper().enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
    static final Pattern VARIABLE = Pattern.compile("\\$\\(([A-Za-z_][A-Za-z0-9_]*)\\)");
    static final Map<String, Class<? extends HasMetadata>> KINDS = Map.of(
            "Namespace", Namespace.class,
            "ConfigMap", ConfigMap.class,
            "Secret", Secret.class,
            "Service", Service.class,
            "StatefulSet", StatefulSet.class,
            "Deployment", Deployment.class,
            "PodDisruptionBudget", PodDisruptionBudget.class);

    @TempDir
    static Path dir;

    static List<Path> written;
    static final Map<Path, HasMetadata> objects = new LinkedHashMap<>();

    @BeforeAll
    static void generate() throws Exception {
        written = K8sManifests.write(
                new K8sSettings(N, 2, "tally-test", "localhost/tally:test", "20Gi", 7), dir.resolve("out"));
        JsonNode kustomization = YAML.readTree(
                dir.resolve("out").resolve(K8sManifests.KUSTOMIZATION).toFile());
        assertThat(kustomization.get("namespace").textValue()).isEqualTo("tally-test");
        for (JsonNode resource : kustomization.get("resources")) {
            Path file = dir.resolve("out").resolve(resource.textValue());
            JsonNode tree = YAML.readTree(file.toFile());
            Class<? extends HasMetadata> type = KINDS.get(tree.get("kind").textValue());
            assertThat(type).as("kind of %s", file).isNotNull();
            HasMetadata object = YAML.treeToValue(tree, type);
            assertThat(object.getApiVersion()).isEqualTo(tree.get("apiVersion").textValue());
            List<String> unknown = new ArrayList<>();
            unknownFields(object, file.getFileName().toString(), unknown);
            assertThat(unknown).as("fields the Kubernetes model does not know").isEmpty();
            List<String> notText = new ArrayList<>();
            stringMaps(tree, file.getFileName().toString(), notText);
            assertThat(notText)
                    .as("values that YAML reads as other than strings")
                    .isEmpty();
            objects.put(file, object);
        }
    }

    <T extends HasMetadata> List<T> all(Class<T> type) {
        return objects.values().stream()
                .filter(type::isInstance)
                .map(type::cast)
                .toList();
    }

    <T extends HasMetadata> T named(Class<T> type, String name) {
        return all(type).stream()
                .filter(o -> o.getMetadata().getName().equals(name))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no " + type.getSimpleName() + " named " + name));
    }

    @Test
    void everyFileIsListedByTheKustomizationOrIsItOrTheGenesis() {
        Set<Path> expected = new HashSet<>(objects.keySet());
        expected.add(dir.resolve("out").resolve(K8sManifests.KUSTOMIZATION));
        expected.add(dir.resolve("out").resolve("genesis.json"));
        assertThat(new HashSet<>(written)).isEqualTo(expected);
        assertThat(all(Namespace.class))
                .singleElement()
                .satisfies(n -> assertThat(n.getMetadata().getName()).isEqualTo("tally-test"));
    }

    @Test
    void nValidatorsAndABudgetOfFDown() throws Exception {
        StatefulSet validators = named(StatefulSet.class, K8sManifests.VALIDATOR);
        assertThat(validators.getSpec().getReplicas()).isEqualTo(N);
        assertThat(validators.getSpec().getPodManagementPolicy()).isEqualTo("Parallel");
        // Longer than a fresh node's moment of "ok" before it finds itself stalled (3 view timeouts of 2 s) or behind.
        assertThat(validators.getSpec().getMinReadySeconds()).isGreaterThan(3 * 2 + 5);
        Genesis genesis = GenesisJson.parse(Files.readString(dir.resolve("out").resolve("genesis.json")));
        long f = genesis.schedule().orElseThrow().maxFaultyWeight();
        assertThat(f).isEqualTo(1);
        PodDisruptionBudget pdb = all(PodDisruptionBudget.class).getFirst();
        assertThat(pdb.getSpec().getMaxUnavailable()).isEqualTo(new IntOrString((int) f));
        assertThat(validators.getSpec().getTemplate().getMetadata().getLabels())
                .containsAllEntriesOf(pdb.getSpec().getSelector().getMatchLabels());
        assertThat(validators.getSpec().getVolumeClaimTemplates())
                .singleElement()
                .satisfies(c -> assertThat(
                                c.getSpec().getResources().getRequests().get("storage"))
                        .satisfies(
                                q -> assertThat(q.getAmount() + q.getFormat()).isEqualTo("20Gi")));
    }

    @Test
    void podsReferOnlyToWhatExists() {
        StatefulSet validators = named(StatefulSet.class, K8sManifests.VALIDATOR);
        Set<String> claims = new HashSet<>();
        validators
                .getSpec()
                .getVolumeClaimTemplates()
                .forEach(c -> claims.add(c.getMetadata().getName()));
        checkPod(validators.getSpec().getTemplate(), claims);
        assertThat(all(Deployment.class)).hasSize(2).allSatisfy(d -> {
            assertThat(d.getSpec().getReplicas()).isEqualTo(1);
            assertThat(d.getSpec().getTemplate().getSpec().getSubdomain())
                    .isEqualTo(named(Service.class, K8sManifests.FULL_NODES_SERVICE)
                            .getMetadata()
                            .getName());
            checkPod(d.getSpec().getTemplate(), Set.of());
        });
    }

    /** Volumes, their ConfigMaps, Secrets and keys, mounts, probes' ports, $(VARIABLES), scrape annotations. */
    void checkPod(PodTemplateSpec template, Set<String> claims) {
        Set<String> volumes = new HashSet<>(claims);
        for (Volume v : template.getSpec().getVolumes()) {
            assertThat(volumes.add(v.getName()))
                    .as("volume %s once", v.getName())
                    .isTrue();
            if (v.getConfigMap() != null) {
                named(ConfigMap.class, v.getConfigMap().getName());
            }
            if (v.getSecret() != null) {
                Secret secret = named(Secret.class, v.getSecret().getSecretName());
                assertThat(v.getSecret().getDefaultMode()).isEqualTo(0400);
                assertThat(v.getSecret().getItems()).isNotEmpty();
                for (KeyToPath item : v.getSecret().getItems()) {
                    assertThat(secret.getData()).containsKey(item.getKey());
                }
            }
        }
        List<Container> containers = new ArrayList<>(template.getSpec().getContainers());
        containers.addAll(template.getSpec().getInitContainers());
        for (Container c : containers) {
            Set<String> env = new HashSet<>();
            c.getEnv().forEach(e -> env.add(e.getName()));
            for (VolumeMount m : c.getVolumeMounts()) {
                assertThat(volumes)
                        .as("volume of mount %s in %s", m.getMountPath(), c.getName())
                        .contains(m.getName());
                expandable(m.getSubPathExpr(), env);
            }
            c.getArgs().forEach(a -> expandable(a, env));
            assertThat(c.getImage()).isEqualTo("localhost/tally:test");
            assertThat(c.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
        }
        Container node = template.getSpec().getContainers().getFirst();
        Map<String, Integer> ports = new LinkedHashMap<>();
        node.getPorts().forEach(p -> ports.put(p.getName(), p.getContainerPort()));
        for (Probe probe : List.of(node.getReadinessProbe(), node.getLivenessProbe())) {
            IntOrString port = probe.getHttpGet() != null
                    ? probe.getHttpGet().getPort()
                    : probe.getTcpSocket().getPort();
            assertThat(ports).containsKey(port.getStrVal());
        }
        assertThat(node.getReadinessProbe().getHttpGet().getPath()).isEqualTo("/ready");
        assertThat(node.getResources().getRequests()).containsKeys("cpu", "memory");
        Map<String, String> scrape = template.getMetadata().getAnnotations();
        assertThat(scrape).containsEntry("prometheus.io/scrape", "true");
        assertThat(ports).containsEntry("metrics", Integer.parseInt(scrape.get("prometheus.io/port")));
        assertThat(template.getSpec().getSecurityContext().getRunAsNonRoot()).isTrue();
    }

    /** Kubernetes expands {@code $(NAME)} only for variables the container itself declares. */
    static void expandable(String text, Set<String> env) {
        if (text == null) {
            return;
        }
        Matcher m = VARIABLE.matcher(text);
        while (m.find()) {
            assertThat(env).as("variable of %s", text).contains(m.group(1));
        }
    }

    @Test
    void servicesSelectPodsAndNameTheirPorts() {
        List<PodTemplateSpec> pods = new ArrayList<>();
        pods.add(named(StatefulSet.class, K8sManifests.VALIDATOR).getSpec().getTemplate());
        all(Deployment.class).forEach(d -> pods.add(d.getSpec().getTemplate()));
        for (Service s : all(Service.class)) {
            List<PodTemplateSpec> selected = pods.stream()
                    .filter(p -> p.getMetadata()
                            .getLabels()
                            .entrySet()
                            .containsAll(s.getSpec().getSelector().entrySet()))
                    .toList();
            assertThat(selected)
                    .as("pods of service %s", s.getMetadata().getName())
                    .isNotEmpty();
            for (ServicePort port : s.getSpec().getPorts()) {
                for (PodTemplateSpec p : selected) {
                    assertThat(p.getSpec().getContainers().getFirst().getPorts())
                            .extracting(ContainerPort::getName)
                            .contains(port.getTargetPort().getStrVal());
                }
            }
        }
        assertThat(named(Service.class, K8sManifests.RPC_SERVICE).getSpec().getSelector())
                .containsEntry("app.kubernetes.io/component", "full-node");
        Service headless = named(Service.class, K8sManifests.VALIDATORS_SERVICE);
        assertThat(headless.getSpec().getClusterIP()).isEqualTo("None");
        assertThat(headless.getSpec().getPublishNotReadyAddresses()).isTrue();
        assertThat(named(StatefulSet.class, K8sManifests.VALIDATOR).getSpec().getServiceName())
                .isEqualTo(headless.getMetadata().getName());
    }

    @Test
    void eachValidatorPodFindsItsOwnConfigAndKeysAndItsPeers() throws Exception {
        StatefulSet sts = named(StatefulSet.class, K8sManifests.VALIDATOR);
        PodTemplateSpec template = sts.getSpec().getTemplate();
        Genesis genesis = GenesisJson.parse(Files.readString(dir.resolve("out").resolve("genesis.json")));
        Map<String, NodeConfig> configs = new LinkedHashMap<>();
        for (int i = 0; i < N; i++) {
            String pod = K8sManifests.VALIDATOR + "-" + i;
            configs.put(pod, podConfig(template, pod));
        }
        Set<String> keys = new HashSet<>();
        for (var e : configs.entrySet()) {
            NodeConfig c = e.getValue();
            assertThat(c.genesis()).isEqualTo(genesis);
            assertThat(genesis.schedule()
                            .orElseThrow()
                            .contains(c.validatorKey().orElseThrow().publicKey()))
                    .isTrue();
            keys.add(c.validatorKey().orElseThrow().publicKey().toText());
            assertThat(c.publicAddr())
                    .isEqualTo(InetSocketAddress.createUnresolved(
                            e.getKey() + "." + sts.getSpec().getServiceName(), Pods.P2P_PORT));
            Map<String, InetSocketAddress> peers = new LinkedHashMap<>();
            c.gossipStaticOutbound().forEach((k, a) -> peers.put(k.toText(), a));
            for (var other : configs.entrySet()) {
                if (!other.getKey().equals(e.getKey())) {
                    assertThat(peers)
                            .containsEntry(
                                    other.getValue().nodeKey().publicKey().toText(),
                                    other.getValue().publicAddr());
                }
            }
            assertThat(peers).hasSize(N - 1);
        }
        assertThat(keys).hasSize(N);
        ContainerPort p2p = template.getSpec().getContainers().getFirst().getPorts().stream()
                .filter(p -> p.getName().equals("p2p"))
                .findFirst()
                .orElseThrow();
        assertThat(p2p.getContainerPort()).isEqualTo(Pods.P2P_PORT);
    }

    /**
     * What pod {@code pod} of {@code template} runs with: the config its {@code --config} names, the keys its Secret
     * volume's items put under its {@code subPathExpr}, copied as its init container does, parsed as the node would.
     */
    NodeConfig podConfig(PodTemplateSpec template, String pod) throws Exception {
        Container node = template.getSpec().getContainers().getFirst();
        String configPath =
                node.getArgs().get(node.getArgs().indexOf("--config") + 1).replace("$(POD_NAME)", pod);
        Volume configVolume = volume(template, "config");
        String configFile = configPath.substring(configPath.lastIndexOf('/') + 1);
        assertThat(configPath).isEqualTo(mountPath(node, "config") + "/" + configFile);
        String json = named(ConfigMap.class, configVolume.getConfigMap().getName())
                .getData()
                .get(configFile);
        assertThat(json).as("config %s", configFile).isNotNull();

        Container init = template.getSpec().getInitContainers().getFirst();
        VolumeMount secretMount = init.getVolumeMounts().stream()
                .filter(m -> m.getName().equals("secret-keys"))
                .findFirst()
                .orElseThrow();
        String subPath = secretMount.getSubPathExpr().replace("$(POD_NAME)", pod) + "/";
        Volume secretVolume = volume(template, "secret-keys");
        Secret secret = named(Secret.class, secretVolume.getSecret().getSecretName());
        Path mounted = Files.createDirectories(dir.resolve("secret-" + pod));
        for (KeyToPath item : secretVolume.getSecret().getItems()) {
            if (item.getPath().startsWith(subPath)) {
                Files.write(
                        mounted.resolve(item.getPath().substring(subPath.length())),
                        Base64.getDecoder().decode(secret.getData().get(item.getKey())));
            }
        }
        assertThat(init.getArgs()).containsSubsequence("--from", secretMount.getMountPath());
        String keyDir = mountPath(node, "keys");
        assertThat(init.getArgs()).containsSubsequence("--to", keyDir);
        Path installed = dir.resolve("keys-" + pod);
        assertThat(KeyInstaller.install(mounted, installed)).containsExactly("node.key", "validator.key");
        return NodeConfigJson.parse(json.replace(keyDir + "/", installed + "/"), dir, Map.of());
    }

    static Volume volume(PodTemplateSpec template, String name) {
        return template.getSpec().getVolumes().stream()
                .filter(v -> v.getName().equals(name))
                .findFirst()
                .orElseThrow();
    }

    static String mountPath(Container c, String volume) {
        return c.getVolumeMounts().stream()
                .filter(m -> m.getName().equals(volume))
                .findFirst()
                .orElseThrow()
                .getMountPath();
    }

    @Test
    void noSecretKeyOutsideTheSecretsWhoseFilesOnlyTheirOwnerReads() throws Exception {
        List<String> secrets = new ArrayList<>();
        for (var e : objects.entrySet()) {
            if (e.getValue() instanceof Secret s) {
                s.getData()
                        .values()
                        .forEach(v ->
                                secrets.add(new String(Base64.getDecoder().decode(v), StandardCharsets.UTF_8).strip()));
                assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(e.getKey())))
                        .isEqualTo("rw-------");
            }
        }
        assertThat(secrets).hasSize(2 * N + 2);
        for (String s : secrets) {
            assertThat(s).matches("(validator:secret:bls12_381|node:secret:ed25519):[0-9a-f]+");
        }
        for (var e : objects.entrySet()) {
            if (!(e.getValue() instanceof Secret)) {
                String text = Files.readString(e.getKey());
                assertThat(text).as("%s", e.getKey()).doesNotContain(":secret:");
                secrets.forEach(s -> assertThat(text).doesNotContain(s.substring(s.lastIndexOf(':') + 1)));
            }
        }
        for (ConfigMap cm : all(ConfigMap.class)) {
            for (String config : cm.getData().values()) {
                assertThat(config).doesNotContain(":secret:");
            }
        }
    }

    @Test
    void keysOfAChainAreNeverOverwrittenNorBadSettingsTaken() {
        assertThatThrownBy(() -> K8sManifests.write(
                        new K8sSettings(N, 0, "tally", "localhost/tally:test", "1Gi", 1), dir.resolve("out")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("is not empty");
        assertThatThrownBy(() -> new K8sSettings(0, 0, "tally", "i", "1Gi", 1))
                .hasMessageContaining("--validators must be at least 1");
        assertThatThrownBy(() -> new K8sSettings(1, 0, "Tally_NS", "i", "1Gi", 1))
                .hasMessageContaining("--namespace must be a DNS label");
        assertThatThrownBy(() -> new K8sSettings(1, 0, "tally", "i", "10 GB", 1))
                .hasMessageContaining("--storage must be a Kubernetes quantity");
    }

    @Test
    void installKeysRefusesAFileThatIsNoKeyWithoutShowingIt() throws Exception {
        Path from = Files.createDirectories(dir.resolve("bad-secret"));
        Files.writeString(from.resolve("node.key"), "hunter2\n");
        assertThatThrownBy(() -> KeyInstaller.install(from, dir.resolve("bad-keys")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(from.resolve("node.key") + " is not a validator or node secret key")
                .hasMessageNotContaining("hunter2");
        Path empty = Files.createDirectories(dir.resolve("empty-secret"));
        Files.createDirectories(empty.resolve("..data"));
        assertThatThrownBy(() -> KeyInstaller.install(empty, dir.resolve("no-keys")))
                .hasMessage("no key files (*.key) in " + empty);
        Files.writeString(from.resolve("node.key"), NodeSecretKey.generate().toText());
        Path to = dir.resolve("good-keys");
        KeyInstaller.install(from, to);
        KeyInstaller.install(from, to); // a restarted init container replaces its copies
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(to.resolve("node.key"))))
                .isEqualTo("rw-------");
    }

    /**
     * Paths of the values of string maps (labels, annotations, a Service's selector, data) that YAML reads as numbers or
     * booleans: the API server refuses them, while the typed model would quietly turn them into strings.
     */
    static void stringMaps(JsonNode node, String path, List<String> notText) {
        for (var e : node.properties()) {
            String at = path + "." + e.getKey();
            boolean labelSelector =
                    e.getKey().equals("selector") && e.getValue().has("matchLabels");
            if (STRING_MAPS.contains(e.getKey()) && e.getValue().isObject() && !labelSelector) {
                e.getValue().properties().forEach(v -> {
                    if (!v.getValue().isTextual()) {
                        notText.add(at + "." + v.getKey());
                    }
                });
            } else if (e.getValue().isObject()) {
                stringMaps(e.getValue(), at, notText);
            } else if (e.getValue().isArray()) {
                for (int i = 0; i < e.getValue().size(); i++) {
                    stringMaps(e.getValue().get(i), at + "[" + i + "]", notText);
                }
            }
        }
    }

    static final Set<String> STRING_MAPS = Set.of("labels", "annotations", "matchLabels", "selector", "data");

    /** Paths of fields the model kept as "additional properties": names it does not know (a typo, a wrong level). */
    static void unknownFields(Object o, String path, List<String> unknown) throws Exception {
        if (o == null) {
            return;
        }
        if (o instanceof List<?> list) {
            for (int i = 0; i < list.size(); i++) {
                unknownFields(list.get(i), path + "[" + i + "]", unknown);
            }
            return;
        }
        if (o instanceof Map<?, ?> map) {
            for (var e : map.entrySet()) {
                unknownFields(e.getValue(), path + "." + e.getKey(), unknown);
            }
            return;
        }
        if (!o.getClass().getPackageName().startsWith("io.fabric8.kubernetes.api.model")) {
            return;
        }
        for (Method m : o.getClass().getMethods()) {
            if (m.getParameterCount() != 0
                    || !m.getName().startsWith("get")
                    || m.getName().equals("getClass")) {
                continue;
            }
            Object value = m.invoke(o);
            if (m.getName().equals("getAdditionalProperties")) {
                ((Map<?, ?>) value).keySet().forEach(k -> unknown.add(path + "." + k));
            } else if (!(o instanceof IntOrString) && !(value instanceof String)) {
                unknownFields(value, path + "." + m.getName().substring(3), unknown);
            }
        }
    }
}
