package dev.tally.testbed.k8s;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Optional;

/**
 * The pod templates of validators and full nodes: the {@code tally node} container with its probes, resources and
 * mounts, and the {@code install-keys} init container that copies the pod's own keys out of their Secret.
 *
 * <p>Why the copy: the node refuses a key file that its group may read, and Kubernetes makes every file of a Secret
 * volume group-readable when the pod sets {@code fsGroup} (which a non-root node needs to write its persistent
 * volume). The init container, running as the node's user, copies the keys into a memory-backed {@code emptyDir} with
 * mode 0600; the node container never mounts the Secret.
 */
final class Pods {
    static final int P2P_PORT = 3054;
    static final int RPC_PORT = 3154;
    static final int METRICS_PORT = 3254;
    static final int DEBUG_PAGE_PORT = 3354;
    static final String CONFIG_DIR = "/etc/tally/config";
    static final String SECRET_DIR = "/var/run/tally/secret";
    static final String KEY_DIR = "/var/run/tally/keys";
    static final String DATA_DIR = "/var/lib/tally";
    /** The user the node runs as, its group, and the group that owns its volumes. */
    static final long USER = 10001;

    /**
     * The JVM's options: the heap and collector under which BENCHMARKS.md measured the peak RSS that the memory
     * request is sized from ("End to end", 268-278 MB at up to 100 tx/s, 470-581 MB at 3,000-6,000 tx/s).
     */
    static final String JAVA_OPTIONS = "-Xmx256m -XX:+UseSerialGC";

    private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

    private Pods() {}

    /**
     * A pod template: labels, Prometheus scrape annotations, the non-root security context, the init and node
     * containers. {@code configFile} and {@code secretSubPath} (the pod's directory in its Secret volume, when that
     * volume holds the keys of several pods) may name the pod through {@code $(POD_NAME)}, which Kubernetes expands.
     */
    static ObjectNode template(
            K8sSettings s, ObjectNode labels, String configFile, ArrayNode volumes, Optional<String> secretSubPath) {
        ObjectNode template = JSON.objectNode();
        ObjectNode meta = template.putObject("metadata");
        meta.set("labels", labels.deepCopy());
        meta.putObject("annotations")
                .put("prometheus.io/scrape", "true")
                .put("prometheus.io/port", String.valueOf(METRICS_PORT))
                .put("prometheus.io/path", "/metrics");
        ObjectNode spec = template.putObject("spec");
        spec.putObject("securityContext")
                .put("runAsNonRoot", true)
                .put("runAsUser", USER)
                .put("runAsGroup", USER)
                .put("fsGroup", USER)
                .putObject("seccompProfile")
                .put("type", "RuntimeDefault");
        spec.putArray("initContainers").add(installKeys(s, secretSubPath));
        spec.putArray("containers").add(node(s, configFile));
        ArrayNode all = spec.putArray("volumes");
        all.addAll(volumes);
        all.addObject()
                .put("name", "keys")
                .putObject("emptyDir")
                .put("medium", "Memory")
                .put("sizeLimit", "1Mi");
        all.addObject().put("name", "tmp").putObject("emptyDir").put("sizeLimit", "256Mi");
        return template;
    }

    /** Copies the pod's keys from the Secret, mounted at {@link #SECRET_DIR}, to {@link #KEY_DIR} with mode 0600. */
    private static ObjectNode installKeys(K8sSettings s, Optional<String> subPath) {
        ObjectNode c = container("install-keys", s);
        strings(c.putArray("args"), "deploy", "install-keys", "--from", SECRET_DIR, "--to", KEY_DIR);
        ArrayNode mounts = c.putArray("volumeMounts");
        ObjectNode secret = mounts.addObject()
                .put("name", "secret-keys")
                .put("mountPath", SECRET_DIR)
                .put("readOnly", true);
        subPath.ifPresent(p -> secret.put("subPathExpr", p));
        mounts.addObject().put("name", "keys").put("mountPath", KEY_DIR);
        c.putObject("resources").putObject("requests").put("cpu", "50m").put("memory", "128Mi");
        return c;
    }

    private static ObjectNode node(K8sSettings s, String configFile) {
        ObjectNode c = container("node", s);
        strings(
                c.putArray("args"),
                "node",
                "--config",
                CONFIG_DIR + "/" + configFile,
                "--data",
                DATA_DIR,
                "--log-format",
                "json");
        ArrayNode ports = c.putArray("ports");
        port(ports, "p2p", P2P_PORT);
        port(ports, "rpc", RPC_PORT);
        port(ports, "metrics", METRICS_PORT);
        // Ready: caught up and finalizing (docs/HEALTH.md). A rolling update moves on only then (see
        // Workloads.MIN_READY_SECONDS), and the PodDisruptionBudget counts only ready validators.
        ObjectNode ready = c.putObject("readinessProbe");
        ready.putObject("httpGet").put("path", "/ready").put("port", "rpc");
        ready.put("periodSeconds", 5).put("failureThreshold", 2);
        // Alive: the RPC port accepts connections. Not /health: a stalled chain makes every validator's /health
        // answer 503 (docs/HEALTH.md), and restarting them all then would only slow the recovery down.
        ObjectNode live = c.putObject("livenessProbe");
        live.putObject("tcpSocket").put("port", "rpc");
        live.put("initialDelaySeconds", 30).put("periodSeconds", 10).put("failureThreshold", 6);
        // BENCHMARKS.md: six validators used 0.63 cores idle ("Idle chain"), 1.3-1.84 cores when CPU-bound ("End to
        // end"): 0.1-0.3 each. Memory from the peak RSS under JAVA_OPTIONS. No CPU limit: throttling delays votes.
        ObjectNode resources = c.putObject("resources");
        resources.putObject("requests").put("cpu", "250m").put("memory", "640Mi");
        resources.putObject("limits").put("memory", "1Gi");
        ArrayNode mounts = c.putArray("volumeMounts");
        mounts.addObject().put("name", "config").put("mountPath", CONFIG_DIR).put("readOnly", true);
        mounts.addObject().put("name", "keys").put("mountPath", KEY_DIR).put("readOnly", true);
        mounts.addObject().put("name", "data").put("mountPath", DATA_DIR);
        mounts.addObject().put("name", "tmp").put("mountPath", "/tmp");
        return c;
    }

    /** The fields both containers share: image, the pod's name in {@code POD_NAME}, the locked-down context. */
    private static ObjectNode container(String name, K8sSettings s) {
        ObjectNode c = JSON.objectNode().put("name", name).put("image", s.image());
        c.put("imagePullPolicy", "IfNotPresent");
        ArrayNode env = c.putArray("env");
        env.addObject()
                .put("name", "POD_NAME")
                .putObject("valueFrom")
                .putObject("fieldRef")
                .put("fieldPath", "metadata.name");
        env.addObject().put("name", "JAVA_TOOL_OPTIONS").put("value", JAVA_OPTIONS);
        ObjectNode security = c.putObject("securityContext")
                .put("allowPrivilegeEscalation", false)
                .put("readOnlyRootFilesystem", true);
        strings(security.putObject("capabilities").putArray("drop"), "ALL");
        return c;
    }

    private static void port(ArrayNode ports, String name, int port) {
        ports.addObject().put("name", name).put("containerPort", port).put("protocol", "TCP");
    }

    static void strings(ArrayNode array, String... values) {
        List.of(values).forEach(array::add);
    }
}
