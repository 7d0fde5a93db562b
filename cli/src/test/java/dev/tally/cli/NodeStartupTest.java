package dev.tally.cli;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tally.node.embed.TallyNode;
import dev.tally.node.executor.Node;
import dev.tally.testbed.localnet.Localnet;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

class NodeStartupTest {
    @TempDir
    Path dir;

    /** On SIGTERM the JVM halts once the shutdown hook returns: the hook waits for the main thread's last line. */
    @Test
    void aNodeStoppedBySigtermLogsThatItStopped() throws Exception {
        Localnet.Member m =
                Localnet.generate(dir, 1, 0, Duration.ofMillis(1000)).getFirst();
        Process node = Localnet.launch(m);
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (!(Files.exists(m.logFile()) && Files.readString(m.logFile()).contains("stored blocks up to"))
                    && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            node.destroy();
            assertThat(node.waitFor(30, TimeUnit.SECONDS)).as("stopped").isTrue();
        } finally {
            node.destroyForcibly();
        }
        List<String> lines = Files.readAllLines(m.logFile());
        assertThat(String.join("\n", lines)).contains("stopping (signal)", "storage closed");
        assertThat(lines.getLast()).endsWith("node stopped");
    }

    /** None of the node's HTTP endpoints authenticates its clients: one reachable from other machines is worth a WARN. */
    @Test
    void eachEndpointBoundBeyondLoopbackIsWarnedAboutByItsField() throws Exception {
        Localnet.Member m =
                Localnet.generate(dir, 1, 0, Duration.ofMillis(1000)).getFirst();
        ObjectNode json =
                (ObjectNode) new ObjectMapper().readTree(m.configFile().toFile());
        for (String field : List.of("metrics_addr", "debug_page_addr")) {
            json.put(field, json.get(field).asText().replace("127.0.0.1", "0.0.0.0"));
        }
        Files.writeString(m.configFile(), json.toString());
        ListAppender<ILoggingEvent> events = new ListAppender<>();
        events.start();
        Logger logger = (Logger) LoggerFactory.getLogger(TallyNode.class);
        logger.addAppender(events);
        try {
            Node node = NodeStartup.start(NodeStartup.readConfig(m.configFile()), m.dataDir(), true);
            node.close();
        } finally {
            logger.detachAppender(events);
        }
        List<String> warnings = events.list.stream()
                .filter(e -> e.getLevel() == Level.WARN)
                .map(ILoggingEvent::getFormattedMessage)
                .toList();
        assertThat(warnings)
                .hasSize(2)
                .allSatisfy(w -> assertThat(w).contains("0.0.0.0", "is reachable from other machines"));
        assertThat(warnings.get(0)).startsWith("metrics_addr");
        assertThat(warnings.get(1)).startsWith("debug_page_addr");
    }
}
