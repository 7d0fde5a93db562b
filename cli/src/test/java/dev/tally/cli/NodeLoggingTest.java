package dev.tally.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.util.ContextInitializer;
import ch.qos.logback.core.util.FileSize;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The node's log flags: JSON or dated text lines, the level, and a file that rolls over. */
class NodeLoggingTest {
    @TempDir
    Path dir;

    private final Logger log = LoggerFactory.getLogger(NodeLoggingTest.class);

    /** Back to logback.xml for the tests that follow in this JVM. */
    @AfterEach
    void restoreLogging() throws Exception {
        LoggerContext ctx = (LoggerContext) LoggerFactory.getILoggerFactory();
        ctx.reset();
        new ContextInitializer(ctx).autoConfig();
    }

    @Test
    void jsonLinesAtTheChosenLevel() throws Exception {
        Path file = dir.resolve("node.log");
        NodeLogging.configure(NodeLogging.Format.JSON, Level.WARN, false, Optional.of(file));
        log.info("not at warn");
        log.warn("peer {} misbehaves", "node:ab");
        restoreLogging(); // flushes and closes the file
        List<String> lines =
                Files.readAllLines(file).stream().filter(l -> !l.isBlank()).toList();
        List<JsonNode> events = lines.stream().map(NodeLoggingTest::json).toList();
        assertThat(events)
                .filteredOn(e -> e.has("formattedMessage"))
                .singleElement()
                .satisfies(e -> {
                    assertThat(e.get("level").asText()).isEqualTo("WARN");
                    assertThat(e.get("formattedMessage").asText()).isEqualTo("peer node:ab misbehaves");
                    assertThat(e.get("loggerName").asText()).isEqualTo(NodeLoggingTest.class.getName());
                    assertThat(e.get("timestamp").asLong()).isPositive();
                });
    }

    @Test
    void textLinesStartWithTheDate() throws Exception {
        Path file = dir.resolve("node.log");
        NodeLogging.configure(NodeLogging.Format.TEXT, Level.DEBUG, false, Optional.of(file));
        log.debug("a debug line");
        restoreLogging();
        assertThat(Files.readString(file))
                .matches(
                        "\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}(Z|[+-]\\d{2}:\\d{2}) DEBUG .* - a debug line\\R");
    }

    @Test
    void theFileRollsOverPastItsSize() throws Exception {
        Path file = dir.resolve("node.log");
        NodeLogging.configure(NodeLogging.Format.TEXT, Level.INFO, false, Optional.of(file), FileSize.valueOf("10KB"));
        String line = "x".repeat(500);
        // The policy checks the size at most every so often: keep writing until a rolled file appears.
        for (int i = 0; i < 200 && rolled().isEmpty(); i++) {
            for (int j = 0; j < 50; j++) {
                log.info(line);
            }
            Thread.sleep(50);
        }
        assertThat(rolled())
                .isNotEmpty()
                .allSatisfy(p -> assertThat(p.getFileName().toString())
                        .matches("node\\.\\d{4}-\\d{2}-\\d{2}\\.\\d+\\.log(\\.gz)?(\\.tmp)?"));
        assertThat(Files.size(file)).isLessThan(10 * 1024 + 50 * 600);
    }

    @Test
    void badFlagValuesAreNamed() {
        assertThatThrownBy(() -> NodeLogging.format("xml")).hasMessageContaining("--log-format must be text or json");
        assertThatThrownBy(() -> NodeLogging.level("loud")).hasMessageContaining("--log-level must be one of");
    }

    private List<Path> rolled() throws Exception {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> !p.getFileName().toString().equals("node.log"))
                    .toList();
        }
    }

    private static JsonNode json(String line) {
        try {
            return new ObjectMapper().readTree(line);
        } catch (Exception e) {
            throw new AssertionError("not a JSON line: " + line, e);
        }
    }
}
