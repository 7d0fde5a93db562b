package dev.tally.testbed.k8s;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tally.node.config.GenesisJson;
import dev.tally.protocol.Genesis;
import dev.tally.testbed.k8s.K8sManifests.Member;
import java.util.List;

/**
 * The node configs of a chain on Kubernetes. Peers are named by their pods' stable DNS names, which the node resolves
 * at each dial and announcement (a restarted pod comes back at another IP address); the keys are files that the
 * pod's {@code install-keys} init container writes; the RPC and metrics servers listen on every interface, for the
 * kubelet's probes, Services and Prometheus, the debug page on loopback only ({@code kubectl port-forward}).
 */
final class NodeConfigs {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Genesis genesis;
    private final List<Member> validators;

    NodeConfigs(Genesis genesis, List<Member> validators) {
        this.genesis = genesis;
        this.validators = List.copyOf(validators);
    }

    /** The stable address of a member's pod: {@code <pod>.<headless service>:port}, in the pod's own namespace. */
    static String address(Member m) {
        String service =
                m.validatorKey().isPresent() ? K8sManifests.VALIDATORS_SERVICE : K8sManifests.FULL_NODES_SERVICE;
        return m.name() + "." + service + ":" + Pods.P2P_PORT;
    }

    /** {@code m}'s config: it dials every validator but itself. */
    String json(Member m) {
        ObjectNode c = JSON.createObjectNode();
        c.put("server_addr", "0.0.0.0:" + Pods.P2P_PORT);
        c.put("public_addr", address(m));
        c.put("rpc_addr", "0.0.0.0:" + Pods.RPC_PORT);
        c.put("metrics_addr", "0.0.0.0:" + Pods.METRICS_PORT);
        c.put("debug_page_addr", "127.0.0.1:" + Pods.DEBUG_PAGE_PORT);
        c.set("genesis", GenesisJson.toNode(genesis));
        if (m.validatorKey().isPresent()) {
            c.putObject("validator_key").put("file", Pods.KEY_DIR + "/validator.key");
        }
        c.putObject("node_key").put("file", Pods.KEY_DIR + "/node.key");
        ArrayNode peers = c.putArray("gossip_static_outbound");
        for (Member v : validators) {
            if (!v.name().equals(m.name())) {
                peers.addObject().put("key", v.nodeKey().publicKey().toText()).put("addr", address(v));
            }
        }
        try {
            return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(c) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a tree of plain values always serializes", e);
        }
    }
}
