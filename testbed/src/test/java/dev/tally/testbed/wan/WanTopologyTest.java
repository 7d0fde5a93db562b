package dev.tally.testbed.wan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class WanTopologyTest {
    private static final WanTopology THREE =
            WanTopology.regions(7, List.of("eu", "us", "asia"), 1, List.of(10.0, 80.0, 150.0), 2, 0.5);

    @Test
    void nodesAreSpreadInOrderTheFirstRegionsTakingTheRemainder() {
        assertThat(THREE.regions())
                .extracting(WanTopology.Region::nodes)
                .containsExactly(List.of(0, 1, 2), List.of(3, 4), List.of(5, 6));
        assertThat(THREE.regionOf(4).name()).isEqualTo("us");
    }

    @Test
    void eachPairOfRegionsHasItsRoundTripAndALinkDelaysByHalfOfItEachWay() {
        assertThat(THREE.rttMillis(0, 1)).isEqualTo(1); // same region
        assertThat(THREE.rttMillis(0, 3)).isEqualTo(10); // eu-us
        assertThat(THREE.rttMillis(6, 0)).isEqualTo(80); // asia-eu
        assertThat(THREE.rttMillis(3, 5)).isEqualTo(150); // us-asia
        assertThat(THREE.link(3, 5)).isEqualTo(new WanTopology.Link(75, 2, 0.5));
        assertThat(THREE.link(5, 3)).isEqualTo(THREE.link(3, 5));
    }

    @Test
    void uniformPutsEveryLinkAtOneRoundTrip() {
        WanTopology t = WanTopology.uniform(4, 80, 0, 0);
        assertThat(t.regions()).hasSize(1);
        assertThat(t.rttMillis(0, 3)).isEqualTo(80);
    }

    @Test
    void badShapesAreRefusedSayingWhatIsWrong() {
        assertThatThrownBy(() -> WanTopology.regions(6, List.of("a", "b", "c"), 1, List.of(10.0), 0, 0))
                .hasMessageContaining("3 regions need 3 round-trip times");
        assertThatThrownBy(() -> WanTopology.regions(2, List.of("a", "b", "c"), 1, List.of(1.0, 2.0, 3.0), 0, 0))
                .hasMessageContaining("at least one node per region");
        assertThatThrownBy(() -> WanTopology.regions(4, List.of("a", "a"), 1, List.of(1.0), 0, 0))
                .hasMessageContaining("distinct");
        assertThatThrownBy(() -> WanTopology.uniform(4, 10, 0, 100)).hasMessageContaining("[0, 100)");
        assertThatThrownBy(() -> THREE.region("mars")).hasMessageContaining("no region mars; the regions are");
    }

    @Test
    void partitionsParseAsRegionStartEndInSeconds() {
        assertThat(Partition.parse("asia:20:35.5"))
                .isEqualTo(new Partition("asia", Duration.ofSeconds(20), Duration.ofMillis(35_500)));
        assertThatThrownBy(() -> Partition.parse("asia:20")).hasMessageContaining("REGION:START:END");
        assertThatThrownBy(() -> Partition.parse("asia:x:3")).hasMessageContaining("are seconds");
        assertThatThrownBy(() -> Partition.parse("asia:30:20")).hasMessageContaining("end after it starts");
    }

    @Test
    void netemShapesEachOtherNodeThroughItsOwnClassAndLeavesTheRestUndelayed() {
        List<List<String>> tc = NetemShaping.commands(5, THREE, j -> "10.213.0." + (j + 2));
        assertThat(tc.getFirst()).containsSequence("root", "handle", "1:", "htb", "default", "1");
        // node 5 (asia) to node 3 (us): 150 ms round trip, 75 ms each way; class ids are hex (0x10 + 3)
        assertThat(tc)
                .contains(List.of(
                        "qdisc",
                        "add",
                        "dev",
                        "eth0",
                        "parent",
                        "1:13",
                        "handle",
                        "13:",
                        "netem",
                        "limit",
                        "100000",
                        "delay",
                        "75.000ms",
                        "2.000ms",
                        "loss",
                        "0.5000%"));
        assertThat(tc)
                .contains(List.of(
                        "filter",
                        "add",
                        "dev",
                        "eth0",
                        "parent",
                        "1:",
                        "protocol",
                        "ip",
                        "prio",
                        "1",
                        "u32",
                        "match",
                        "ip",
                        "dst",
                        "10.213.0.5/32",
                        "flowid",
                        "1:13"));
        assertThat(tc.stream().filter(c -> c.contains("netem"))).hasSize(6); // the 6 other nodes, not itself
        assertThat(tc).noneMatch(c -> c.contains("10.213.0.7/32"));
    }
}
