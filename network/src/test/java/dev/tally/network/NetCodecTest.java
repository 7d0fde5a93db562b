package dev.tally.network;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tally.network.proto.Net;
import dev.tally.protocol.DecodeException;
import dev.tally.protocol.UnknownFieldProbe;
import java.util.List;
import org.junit.jupiter.api.Test;

class NetCodecTest {
    @Test
    void anUnknownFieldInsideAnyMessageFieldOfTheNetworkSchemaIsRefusedWithItsPath() {
        List<UnknownFieldProbe> probes = UnknownFieldProbe.everyMessageField(Net.class);
        assertThat(probes)
                .extracting(UnknownFieldProbe::field)
                .as("every message-typed field of network.proto")
                .contains(
                        "tally.network.PushBlockStoreState.state",
                        "tally.network.GossipHandshake.session_id",
                        "tally.network.Endpoint.gossip_net");
        for (UnknownFieldProbe probe : probes) {
            String name = probe.type().getDescriptorForType().getName();
            assertThatThrownBy(() -> NetCodec.parse(probe.type().getParserForType(), probe.bytes(), name))
                    .as(probe.field())
                    .isInstanceOf(DecodeException.class)
                    .hasMessage(probe.expectedError());
        }
    }
}
