package dev.tally.testbed.chaos;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/** The outcome of a chaos run. {@link #ok} says whether every check passed. */
public record ChaosSummary(
        long seed,
        int validators,
        Duration duration,
        Map<Fault, Integer> faults,
        long startHeight,
        long finalHeight,
        int restarts,
        List<Long> catchUpMillis,
        long disagreements,
        long lostBlocks,
        int haltViolations,
        List<Long> resumeMillis,
        int notResumed,
        boolean recovered,
        long recoveryMillis,
        List<String> problems,
        List<String> notes) {
    public long blocksFinalized() {
        return Math.max(0, finalHeight - startHeight);
    }

    public boolean ok() {
        return disagreements == 0 && lostBlocks == 0 && haltViolations == 0 && notResumed == 0 && recovered;
    }

    public String text() {
        StringBuilder s = new StringBuilder();
        s.append("chaos summary (seed ")
                .append(seed)
                .append(", ")
                .append(validators)
                .append(" validators, ")
                .append(duration.toSeconds())
                .append(" s of faults)\n");
        s.append("  faults injected:   ")
                .append(faults.values().stream().mapToInt(Integer::intValue).sum())
                .append(' ')
                .append(faults)
                .append('\n');
        s.append("  blocks finalized:  ")
                .append(blocksFinalized())
                .append(" (height ")
                .append(startHeight)
                .append(" -> ")
                .append(finalHeight)
                .append(")\n");
        s.append("  restarts:          ").append(restarts).append('\n');
        s.append("  catch-up times:    ").append(stats(catchUpMillis)).append('\n');
        s.append("  halts beyond f:    ")
                .append(resumeMillis.size() + notResumed)
                .append(" (resumed after ")
                .append(stats(resumeMillis))
                .append("; not resumed ")
                .append(notResumed)
                .append("; advanced while halted ")
                .append(haltViolations)
                .append(")\n");
        s.append("  disagreements:     ").append(disagreements).append('\n');
        s.append("  lost blocks:       ").append(lostBlocks).append('\n');
        s.append("  recovered:         ")
                .append(recovered ? "yes, in " + recoveryMillis + " ms" : "NO")
                .append('\n');
        for (String n : notes) {
            s.append("  note: ").append(n).append('\n');
        }
        for (String p : problems) {
            s.append("  PROBLEM: ").append(p).append('\n');
        }
        s.append(ok() ? "  result: OK\n" : "  result: FAILED\n");
        return s.toString();
    }

    private static String stats(List<Long> ms) {
        if (ms.isEmpty()) {
            return "none";
        }
        List<Long> sorted = ms.stream().sorted().toList();
        return sorted.size() + " samples, median " + sorted.get(sorted.size() / 2) + " ms, max " + sorted.getLast()
                + " ms";
    }
}
