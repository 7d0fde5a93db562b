package dev.tally.node.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tally.node.SoloNode;
import dev.tally.node.executor.Node;
import dev.tally.protocol.TestChain;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.InfoSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.SummarySnapshot;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** Every metric docs/grafana/tally.json queries is one a running node exposes. */
class DashboardTest {
    static final Path DASHBOARD = Path.of("..", "docs", "grafana", "tally.json");
    /** Metric names in PromQL: ours, and the JVM's and the process's that NodeMetrics registers. */
    private static final Pattern METRIC = Pattern.compile("\\b(?:tally|jvm|process)_[A-Za-z0-9_]+\\b");

    /** The series names a scrape of {@code registry} can show, with the suffixes of the exposition format. */
    static Set<String> exposedNames(PrometheusRegistry registry) {
        Set<String> names = new TreeSet<>();
        for (MetricSnapshot s : registry.scrape()) {
            String name = s.getMetadata().getPrometheusName();
            names.addAll(
                    switch (s) {
                        case CounterSnapshot c -> List.of(name + "_total", name + "_created");
                        case HistogramSnapshot h -> List.of(name + "_bucket", name + "_sum", name + "_count");
                        case SummarySnapshot m -> List.of(name, name + "_sum", name + "_count");
                        case InfoSnapshot i -> List.of(name + "_info");
                        default -> List.of(name); // gauges, state sets, unknown: the name as it is
                    });
        }
        return names;
    }

    /** Every metric name in the dashboard's strings (queries, variables), wherever they sit in the JSON. */
    static Set<String> usedNames(JsonNode node) {
        Set<String> names = new TreeSet<>();
        if (node.isTextual()) {
            Matcher m = METRIC.matcher(node.textValue());
            while (m.find()) {
                names.add(m.group());
            }
        }
        node.forEach(child -> names.addAll(usedNames(child)));
        return names;
    }

    @Test
    void everyMetricTheDashboardUsesIsRegistered() throws Exception {
        JsonNode dashboard = new ObjectMapper().readTree(DASHBOARD.toFile());
        Set<String> used = usedNames(dashboard);
        Set<String> exposed;
        try (Node node = SoloNode.start(new TestChain(1))) {
            exposed = exposedNames(node.metrics().registry());
        }
        assertThat(used).as("metrics in %s", DASHBOARD).hasSizeGreaterThan(10);
        assertThat(exposed).as("metrics a node registers").containsAll(used);
    }

    @Test
    void namesAreFoundInQueriesAndCheckedWithTheirSuffixes() throws Exception {
        JsonNode panel = new ObjectMapper()
                .readTree("{\"targets\": [{\"expr\": \"rate(tally_consensus_timeouts_total{x=\\\"1\\\"}[1m])"
                        + " / tally_no_such_metric\"}]}");
        assertThat(usedNames(panel)).containsExactly("tally_consensus_timeouts_total", "tally_no_such_metric");
        Set<String> exposed = exposedNames(new NodeMetrics().registry());
        assertThat(exposed)
                .contains("tally_consensus_timeouts_total", "tally_consensus_view_seconds_bucket")
                .doesNotContain("tally_no_such_metric", "tally_consensus_timeouts");
    }
}
