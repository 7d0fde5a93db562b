package dev.tally.testbed.k8s;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Optional;
import java.util.stream.IntStream;

/** The validators' StatefulSet and PodDisruptionBudget, and the full nodes' Deployments. */
final class Workloads {
    private static final JsonNodeFactory JSON = JsonNodeFactory.instance;
    /** Mode 0400 of the files of a Secret volume (Kubernetes adds group read when the pod sets fsGroup). */
    private static final int OWNER_READ = 0400;

    /**
     * How long an updated validator must stay ready before the rolling update moves on. A node that just started
     * reports ok until it learns it is behind or sees no block for 3 view timeouts (6 s at the default); with the
     * readiness probe's 10 s to notice, 20 s.
     */
    static final int MIN_READY_SECONDS = 20;

    private Workloads() {}

    /**
     * One StatefulSet of validators. Its pods start in parallel (a validator becomes ready only once a quorum runs, so
     * ordered start-up would wait forever) and are updated one at a time, highest ordinal first, each only once the
     * one before is ready again. Each keeps its volume when deleted or scaled down: it holds the validator's replica
     * state, without which it must not vote again (docs/PROTOCOL.md section 9).
     */
    static ObjectNode validators(K8sSettings s) {
        ObjectNode labels = K8sManifests.labels("validator");
        List<String> names = IntStream.range(0, s.validators())
                .mapToObj(i -> K8sManifests.VALIDATOR + "-" + i)
                .toList();
        ArrayNode volumes = JSON.arrayNode();
        volumes.addObject().put("name", "config").putObject("configMap").put("name", K8sManifests.VALIDATOR_CONFIG);
        volumes.add(keyVolume(K8sManifests.VALIDATOR_KEYS, names, true));
        ObjectNode template = Pods.template(s, labels, "$(POD_NAME).json", volumes, Optional.of("$(POD_NAME)"));
        spreadOverMachines(template, labels);
        ObjectNode spec = JSON.objectNode()
                .put("serviceName", K8sManifests.VALIDATORS_SERVICE)
                .put("replicas", s.validators())
                .put("podManagementPolicy", "Parallel")
                .put("minReadySeconds", MIN_READY_SECONDS);
        spec.putObject("updateStrategy").put("type", "RollingUpdate");
        spec.putObject("persistentVolumeClaimRetentionPolicy")
                .put("whenDeleted", "Retain")
                .put("whenScaled", "Retain");
        spec.putObject("selector").set("matchLabels", labels);
        spec.set("template", template);
        ObjectNode claim = spec.putArray("volumeClaimTemplates").addObject();
        claim.putObject("metadata").put("name", "data");
        ObjectNode claimSpec = claim.putObject("spec");
        Pods.strings(claimSpec.putArray("accessModes"), "ReadWriteOnce");
        claimSpec.putObject("resources").putObject("requests").put("storage", s.storage());
        return K8sManifests.object("apps/v1", "StatefulSet", K8sManifests.VALIDATOR)
                .set("spec", spec);
    }

    /** At most {@code f} validators down by choice (drains, evictions): n - f remain, a quorum. */
    static ObjectNode disruptionBudget(long f) {
        ObjectNode spec = JSON.objectNode().put("maxUnavailable", f);
        spec.putObject("selector").set("matchLabels", K8sManifests.labels("validator"));
        return K8sManifests.object("policy/v1", "PodDisruptionBudget", K8sManifests.VALIDATORS_SERVICE)
                .set("spec", spec);
    }

    /**
     * A full node: a Deployment of one pod (its own node key: two pods must never share one, hence also Recreate),
     * named {@code <name>.tally-full-nodes} by its hostname and subdomain. Its data is an {@code emptyDir}: a new pod
     * fetches the chain again from its peers.
     */
    static ObjectNode fullNode(K8sSettings s, String name) {
        ObjectNode labels = K8sManifests.labels("full-node").put("app.kubernetes.io/instance", name);
        ArrayNode volumes = JSON.arrayNode();
        volumes.addObject().put("name", "config").putObject("configMap").put("name", K8sManifests.FULL_NODE_CONFIG);
        volumes.add(keyVolume(K8sManifests.FULL_NODE_KEYS, List.of(name), false));
        volumes.addObject().put("name", "data").putObject("emptyDir");
        ObjectNode template = Pods.template(s, labels, name + ".json", volumes, Optional.empty());
        ((ObjectNode) template.get("spec")).put("hostname", name).put("subdomain", K8sManifests.FULL_NODES_SERVICE);
        ObjectNode spec = JSON.objectNode().put("replicas", 1);
        spec.putObject("strategy").put("type", "Recreate");
        spec.putObject("selector").set("matchLabels", labels);
        spec.set("template", template);
        return K8sManifests.object("apps/v1", "Deployment", name).set("spec", spec);
    }

    /**
     * The Secret volume of {@code pods}' keys. Validators share one pod template: each one's two keys go to a directory
     * of its name ({@code <pod>/validator.key}, {@code <pod>/node.key}), which the pod alone mounts. A full node's
     * Deployment maps only its own node key, to {@code node.key}.
     */
    private static ObjectNode keyVolume(String secret, List<String> pods, boolean validators) {
        ObjectNode volume = JSON.objectNode().put("name", "secret-keys");
        ObjectNode source = volume.putObject("secret").put("secretName", secret).put("defaultMode", OWNER_READ);
        ArrayNode items = source.putArray("items");
        for (String pod : pods) {
            String dir = validators ? pod + "/" : "";
            if (validators) {
                items.addObject().put("key", pod + ".validator.key").put("path", dir + "validator.key");
            }
            items.addObject().put("key", pod + ".node.key").put("path", dir + "node.key");
        }
        return volume;
    }

    /** Prefers one validator per machine: a machine that fails then takes down one validator, not several. */
    private static void spreadOverMachines(ObjectNode template, ObjectNode labels) {
        ObjectNode term = ((ObjectNode) template.get("spec"))
                .putObject("affinity")
                .putObject("podAntiAffinity")
                .putArray("preferredDuringSchedulingIgnoredDuringExecution")
                .addObject()
                .put("weight", 100)
                .putObject("podAffinityTerm")
                .put("topologyKey", "kubernetes.io/hostname");
        term.putObject("labelSelector").set("matchLabels", labels.deepCopy());
    }
}
