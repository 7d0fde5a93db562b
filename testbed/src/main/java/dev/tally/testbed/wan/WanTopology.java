package dev.tally.testbed.wan;

import java.util.ArrayList;
import java.util.List;

/**
 * Where the nodes sit and what each link does to traffic: nodes are spread over regions (in order, the first regions
 * taking one node more when they do not divide evenly); a link between two regions has the round-trip time given for
 * that pair, a link inside a region the intra-region one. Jitter and loss apply to every link, in each direction.
 */
public final class WanTopology {
    /** A region and the nodes in it. */
    public record Region(String name, List<Integer> nodes) {
        public Region {
            nodes = List.copyOf(nodes);
        }
    }

    /**
     * What one direction of a link does: delays traffic by {@code delayMillis} (half the round trip), give or take
     * {@code jitterMillis}, and loses {@code lossPercent} of its packets.
     */
    public record Link(double delayMillis, double jitterMillis, double lossPercent) {}

    private final List<Region> regions;
    private final int[] regionOf;
    private final double[][] rttMillis;
    private final double jitterMillis;
    private final double lossPercent;

    private WanTopology(
            List<Region> regions, int[] regionOf, double[][] rttMillis, double jitterMillis, double lossPercent) {
        this.regions = List.copyOf(regions);
        this.regionOf = regionOf;
        this.rttMillis = rttMillis;
        this.jitterMillis = jitterMillis;
        this.lossPercent = lossPercent;
    }

    /** Every link with the same round-trip time: one region of all the nodes. */
    public static WanTopology uniform(int nodes, double rttMillis, double jitterMillis, double lossPercent) {
        return regions(nodes, List.of("all"), rttMillis, List.of(), jitterMillis, lossPercent);
    }

    /**
     * Nodes spread over the named regions; {@code interRttMillis} gives the round trip between each pair of regions, in
     * the order (0,1), (0,2), ..., (1,2), ...: k(k-1)/2 values for k regions.
     *
     * @throws IllegalArgumentException naming what is wrong: too few nodes, a repeated name, a wrong count of times,
     *     a negative time, loss outside [0, 100)
     */
    public static WanTopology regions(
            int nodes,
            List<String> names,
            double intraRttMillis,
            List<Double> interRttMillis,
            double jitterMillis,
            double lossPercent) {
        int k = names.size();
        if (k < 1 || nodes < k) {
            throw new IllegalArgumentException(
                    "need at least one node per region: " + nodes + " nodes for " + k + " regions");
        }
        if (names.stream().distinct().count() != k || names.stream().anyMatch(String::isBlank)) {
            throw new IllegalArgumentException("region names must be distinct and not blank: " + names);
        }
        if (interRttMillis.size() != k * (k - 1) / 2) {
            throw new IllegalArgumentException(k + " regions need " + k * (k - 1) / 2
                    + " round-trip times between them (pairs (0,1), (0,2), ..., (1,2), ...), got "
                    + interRttMillis.size());
        }
        if (intraRttMillis < 0 || jitterMillis < 0 || interRttMillis.stream().anyMatch(t -> t < 0)) {
            throw new IllegalArgumentException("round-trip times and jitter must not be negative");
        }
        if (lossPercent < 0 || lossPercent >= 100) {
            throw new IllegalArgumentException("loss must be a percentage in [0, 100), got " + lossPercent);
        }
        double[][] rtt = new double[k][k];
        int pair = 0;
        for (int a = 0; a < k; a++) {
            rtt[a][a] = intraRttMillis;
            for (int b = a + 1; b < k; b++) {
                rtt[a][b] = interRttMillis.get(pair);
                rtt[b][a] = interRttMillis.get(pair);
                pair++;
            }
        }
        int[] regionOf = new int[nodes];
        List<Region> regions = new ArrayList<>();
        int next = 0;
        for (int r = 0; r < k; r++) {
            int size = nodes / k + (r < nodes % k ? 1 : 0);
            List<Integer> members = new ArrayList<>();
            for (int i = 0; i < size; i++, next++) {
                regionOf[next] = r;
                members.add(next);
            }
            regions.add(new Region(names.get(r), members));
        }
        return new WanTopology(regions, regionOf, rtt, jitterMillis, lossPercent);
    }

    public int nodes() {
        return regionOf.length;
    }

    public List<Region> regions() {
        return regions;
    }

    public Region regionOf(int node) {
        return regions.get(regionOf[node]);
    }

    /** The region of that name, or an exception listing the regions there are. */
    public Region region(String name) {
        return regions.stream()
                .filter(r -> r.name().equals(name))
                .findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no region " + name + "; the regions are "
                        + regions.stream().map(Region::name).toList()));
    }

    public double rttMillis(int from, int to) {
        return rttMillis[regionOf[from]][regionOf[to]];
    }

    /** What the link from {@code from} to {@code to} does to traffic in that direction. */
    public Link link(int from, int to) {
        return new Link(rttMillis(from, to) / 2, jitterMillis, lossPercent);
    }

    /** One line per region: its nodes, and the round trip to each region. */
    public List<String> describe() {
        List<String> lines = new ArrayList<>();
        for (int a = 0; a < regions.size(); a++) {
            StringBuilder line = new StringBuilder()
                    .append(regions.get(a).name())
                    .append(": nodes ")
                    .append(regions.get(a).nodes())
                    .append(", round trip");
            for (int b = 0; b < regions.size(); b++) {
                line.append(b == 0 ? " " : ", ")
                        .append(regions.get(b).name())
                        .append(' ')
                        .append(format(rttMillis[a][b]))
                        .append(" ms");
            }
            lines.add(line.toString());
        }
        lines.add("every link: jitter " + format(jitterMillis) + " ms and loss " + format(lossPercent) + " % each way");
        return lines;
    }

    static String format(double v) {
        return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
    }
}
