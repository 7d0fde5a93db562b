package dev.tally.network;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class LoopbackPortsTest {
    @Test
    void portsAreDistinctAndOutsideTheEphemeralRange() throws Exception {
        List<Integer> ports = LoopbackPorts.free(24);
        assertThat(ports).hasSize(24).doesNotHaveDuplicates();
        assertThat(ports)
                .allSatisfy(p -> assertThat(p)
                        .isGreaterThanOrEqualTo(LoopbackPorts.LOWEST)
                        .isLessThan(LoopbackPorts.ephemeralLow()));
    }

    /**
     * The chaos run's start-up failure: its proxies bind port 0 right after the nodes' ports are released, before the
     * node JVMs start. With ports from the ephemeral range, about one such bind in 200 took a node's port.
     */
    @Test
    void bindingAnyPortWhileTheNodesStartNeverTakesOneOfTheirs() throws Exception {
        Set<Integer> reserved = new HashSet<>(LoopbackPorts.free(24));
        InetAddress loopback = InetAddress.getLoopbackAddress();
        Set<Integer> taken = new HashSet<>();
        for (int i = 0; i < 3000; i++) {
            try (ServerSocket s = new ServerSocket(0, 1, loopback)) {
                if (reserved.contains(s.getLocalPort())) {
                    taken.add(s.getLocalPort());
                }
            }
        }
        assertThat(taken).as("ports of the localnet's nodes handed to bind(0)").isEmpty();
    }

    /**
     * In-process tests ask for one address at a time and bind them later: a full node of a cluster, the validators of
     * a test net. Ports drawn afresh at random would repeat (500 draws from ~22,000 ports: a repeat is all but
     * certain), and the second node to bind one would find its address in use.
     */
    @Test
    void addressesAskedOneAtATimeAreNotHandedOutTwice() throws Exception {
        Set<Integer> ports = new HashSet<>();
        for (int i = 0; i < 500; i++) {
            assertThat(ports.add(LoopbackPorts.freeAddress().getPort()))
                    .as("draw %d repeats a port", i)
                    .isTrue();
        }
    }
}
