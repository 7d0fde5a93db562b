package dev.tally.node;

import dev.tally.node.metrics.NodeMetrics;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.DataPointSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;

/** A node's metrics as the tests read them: by Prometheus name, scraped afresh each time. */
public final class MetricSnapshots {
    private MetricSnapshots() {}

    /** The metric named {@code name} (without a {@code _total} suffix); an assertion error if there is none. */
    public static MetricSnapshot named(NodeMetrics metrics, String name) {
        return metrics.registry().scrape().stream()
                .filter(s -> s.getMetadata().getPrometheusName().equals(name))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no metric " + name));
    }

    /**
     * The value of a counter or gauge: of its data point whose {@code label} is {@code value}, or of its first data
     * point when {@code label} is null.
     */
    public static double value(NodeMetrics metrics, String name, String label, String value) {
        DataPointSnapshot point = named(metrics, name).getDataPoints().stream()
                .filter(p -> label == null || value.equals(p.getLabels().get(label)))
                .findFirst()
                .orElseThrow(() -> new AssertionError(name + " has no data point " + label + "=" + value));
        return switch (point) {
            case CounterSnapshot.CounterDataPointSnapshot c -> c.getValue();
            case GaugeSnapshot.GaugeDataPointSnapshot g -> g.getValue();
            default -> throw new AssertionError(name + " is neither a counter nor a gauge");
        };
    }
}
