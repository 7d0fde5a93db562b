package dev.tally.node.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** A flight recording of running validators holds the timeline of their views: replica steps and consensus messages. */
class FlightRecorderEventsTest {
    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void aRecordingHoldsReplicaStepsAndConsensusMessages(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("validators.jfr");
        try (Recording recording = new Recording()) {
            recording.enable("tally.ReplicaStep");
            recording.enable("tally.ConsensusMessage");
            recording.start();
            try (Cluster c = new Cluster(6, Duration.ofMillis(400))) {
                c.startAllInMemory();
                c.awaitAll(5, Duration.ofSeconds(40));
            }
            recording.stop();
            recording.dump(file);
        }
        assertThat(Files.size(file)).isPositive();
        List<RecordedEvent> events = RecordingFile.readAllEvents(file);

        List<RecordedEvent> steps = ofType(events, "tally.ReplicaStep");
        assertThat(steps)
                .as("a step for a leader's proposal, in a view past the first")
                .anySatisfy(e -> {
                    assertThat(e.getString("input")).isEqualTo("LeaderProposal");
                    assertThat(e.getLong("view")).isPositive();
                    assertThat(e.getInt("outputs")).isPositive();
                });
        assertThat(steps).extracting(e -> e.getString("input")).contains("Start", "ReplicaCommit");

        List<RecordedEvent> messages = ofType(events, "tally.ConsensusMessage");
        assertThat(messages).as("a commit vote sent and written").anySatisfy(e -> {
            assertThat(e.getString("direction")).isEqualTo("out");
            assertThat(e.getString("kind")).isEqualTo("ReplicaCommit");
            assertThat(e.getString("outcome")).isEqualTo("written");
            assertThat(e.getString("peer")).isNotBlank();
        });
        assertThat(messages)
                .as("a proposal received and offered to the replica")
                .anySatisfy(e -> {
                    assertThat(e.getString("direction")).isEqualTo("in");
                    assertThat(e.getString("kind")).isEqualTo("LeaderProposal");
                    assertThat(e.getString("outcome")).isEqualTo("offered");
                });
    }

    private static List<RecordedEvent> ofType(List<RecordedEvent> events, String name) {
        return events.stream()
                .filter(e -> e.getEventType().getName().equals(name))
                .toList();
    }
}
