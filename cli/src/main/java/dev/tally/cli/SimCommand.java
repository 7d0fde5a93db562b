package dev.tally.cli;

import dev.tally.protocol.LeaderSelection;
import dev.tally.sim.Breakage;
import dev.tally.sim.Byzantine;
import dev.tally.sim.CliNames;
import dev.tally.sim.Committee;
import dev.tally.sim.Delivery;
import dev.tally.sim.Faults;
import dev.tally.sim.Scenario;
import dev.tally.sim.SimResult;
import dev.tally.sim.SimRunner;
import dev.tally.sim.Simulation;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import java.util.function.LongFunction;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code tally sim}: deterministic simulation of the consensus core with invariant checks. */
@Command(
        name = "sim",
        mixinStandardHelpOptions = true,
        description = {
            "Runs the real replica in a deterministic simulation (seeded network faults, crashes, twins,",
            "Byzantine validators) and checks the safety and liveness invariants of PROTOCOL.md section 7.",
            "Exit status: 0 when every scenario passes, 1 on a violation, 2 on bad usage."
        })
public final class SimCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(
            names = "--seeds",
            description = "Number of scenarios to run (default: ${DEFAULT-VALUE}).",
            defaultValue = "200")
    int seeds;

    @Option(
            names = "--first-seed",
            description = "Seed of the first scenario (default: ${DEFAULT-VALUE}).",
            defaultValue = "1")
    long firstSeed;

    @Option(names = "--seed", description = "Replay exactly this scenario and print its trace.")
    Long seed;

    @Option(names = "--validators", description = "Committee size n (default: random 6..11 per scenario).")
    Integer validators;

    @Option(
            names = "--twins",
            description = "Validators that run as two nodes sharing one key (default: random within f).")
    Integer twins;

    @Option(
            names = "--byzantine",
            description = "Faulty behaviour: ${COMPLETION-CANDIDATES} (default: random).",
            converter = ByzantineConverter.class,
            completionCandidates = ByzantineNames.class)
    Byzantine byzantine;

    @Option(names = "--byzantine-count", description = "How many validators behave as --byzantine (default: 1).")
    Integer byzantineCount;

    @Option(
            names = "--leaders",
            description = {
                "Leader selection: round-robin or weighted (default: random per scenario;",
                "round-robin with --validators)."
            },
            converter = LeadersConverter.class)
    LeaderSelection.Mode leaders;

    @Option(
            names = "--delivery",
            description = {
                "Message order: random, or proposal-before-qc (a replica gets the proposal",
                "of view v + 1 before the vote or new-view message that ends view v; default: random, and for",
                "an eighth of the scenarios without --validators, proposal-before-qc)."
            },
            converter = DeliveryConverter.class)
    Delivery delivery;

    @Option(
            names = "--faults",
            description = {
                "Network and crash faults before stabilisation: 'random' (default), 'none',",
                "or a list like drop=0.1,dup=0.05,delay=200,partitions,crashes=2,wipes=1,gst=3000."
            },
            defaultValue = "random")
    String faults;

    @Option(names = "--threads", description = "Scenarios run in parallel (default: available processors).")
    Integer threads;

    @Option(
            names = "--self-check",
            description = "Run the checker against deliberately broken replicas; fails unless each is caught.")
    boolean selfCheck;

    @Option(
            names = "--self-check-budget",
            description = "Scenarios tried per broken replica (default: ${DEFAULT-VALUE}).",
            defaultValue = "300")
    int selfCheckBudget;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        if (selfCheck) {
            return selfCheck(out);
        }
        LongFunction<Scenario> scenarios = this::scenario;
        if (seed != null) {
            SimResult r = Simulation.run(scenarios.apply(seed));
            out.println(r.scenario());
            out.printf(
                    "blocks finalized %d, last view %d, views timed out %d, messages %d, simulated %d ms, fingerprint %016x%n",
                    r.blocksFinalized() + 1,
                    r.lastView(),
                    r.viewsTimedOut(),
                    r.messages(),
                    r.simulatedMillis(),
                    r.fingerprint());
            printFailure(out, r);
            r.livenessNotChecked().ifPresent(why -> out.println("liveness not checked: " + why));
            out.println(r.passed() ? "passed" : "FAILED");
            return r.passed() ? 0 : 1;
        }
        if (seeds < 1) {
            throw new ParameterException(spec.commandLine(), "--seeds must be at least 1");
        }
        Scenario first = scenarios.apply(firstSeed); // validates the options once, before starting the pool
        if (!first.safetyExpected()) {
            out.printf(
                    "note: faulty keys weigh %d, above f = %d: the protocol guarantees neither safety nor liveness,"
                            + " so violations are expected%n",
                    first.faultyWeight(), first.maxFaulty());
        } else if (!first.livenessExpected()) {
            out.printf(
                    "note: faulty keys and wipes exceed f = %d: liveness is not checked, safety is%n",
                    first.maxFaulty());
        }
        SimRunner.Summary summary = SimRunner.run(firstSeed, seeds, scenarios, threads());
        for (SimResult failure :
                summary.failures().subList(0, Math.min(3, summary.failures().size()))) {
            out.println("FAILED " + failure.scenario());
            printFailure(out, failure);
            out.println("replay: tally sim --seed " + failure.scenario().seed() + replayOptions());
        }
        if (summary.failures().size() > 3) {
            out.println("all failing seeds: "
                    + summary.failures().stream()
                            .map(f -> f.scenario().seed() + " ("
                                    + f.violation().orElseThrow().invariant() + ")")
                            .toList());
        }
        if (!summary.livenessNotChecked().isEmpty()) {
            out.println(
                    "liveness not checked (PROTOCOL.md section 9: faulty and abstaining validators above f), seeds: "
                            + summary.livenessNotChecked().stream()
                                    .map(r -> String.valueOf(r.scenario().seed()))
                                    .toList());
        }
        out.println(summary.line());
        return summary.failures().isEmpty() ? 0 : 1;
    }

    private int threads() {
        return threads != null ? threads : Runtime.getRuntime().availableProcessors();
    }

    private String replayOptions() {
        StringBuilder b = new StringBuilder();
        if (validators != null) b.append(" --validators ").append(validators);
        if (twins != null) b.append(" --twins ").append(twins);
        if (byzantine != null) b.append(" --byzantine ").append(byzantine.cliName());
        if (byzantineCount != null) b.append(" --byzantine-count ").append(byzantineCount);
        if (leaders != null) b.append(" --leaders ").append(CliNames.of(leaders));
        if (delivery != null) b.append(" --delivery ").append(delivery.cliName());
        if (!faults.equals("random")) b.append(" --faults ").append(faults);
        return b.toString();
    }

    private static void printFailure(PrintWriter out, SimResult r) {
        r.violation().ifPresent(v -> {
            out.println("violated: " + v);
            out.println("last events:");
            r.trace().forEach(line -> out.println("  " + line));
        });
    }

    private int selfCheck(PrintWriter out) {
        boolean all = true;
        for (Breakage b : Breakage.values()) {
            if (b == Breakage.NONE) {
                continue;
            }
            SimRunner.Catch c = SimRunner.selfCheck(b, firstSeed, selfCheckBudget);
            if (c.caught()) {
                out.printf(
                        "caught   %-30s after %3d scenario(s), seed %d: %s%n",
                        b.cliName(),
                        c.scenariosTried(),
                        c.caughtBy().scenario().seed(),
                        c.caughtBy().violation().orElseThrow().invariant());
            } else {
                all = false;
                out.printf("MISSED   %-30s in %d scenarios%n", b.cliName(), c.scenariosTried());
            }
        }
        out.println(
                all
                        ? "self-check passed: every broken replica was caught"
                        : "self-check FAILED: a broken replica went unnoticed");
        return all ? 0 : 1;
    }

    /** The scenario for a seed: random, with the options given on the command line fixed. */
    Scenario scenario(long s) {
        Scenario base = Scenario.random(s);
        if (validators != null && validators < 1) {
            throw new ParameterException(spec.commandLine(), "--validators must be at least 1, got " + validators);
        }
        Committee c = validators != null ? Committee.equal(validators) : base.committee();
        if (leaders != null) {
            c = new Committee(c.weights(), leaders, c.frequency());
        }
        int n = c.size();
        Byzantine kind = byzantine != null
                ? byzantine
                : (validators != null || twins != null ? Byzantine.NONE : base.byzantine());
        int count = kind == Byzantine.NONE
                ? 0
                : (byzantineCount != null ? byzantineCount : Math.max(1, base.byzantineCount()));
        int t = twins != null ? twins : base.twins();
        while (twins == null && t > 0 && (t + count > n || c.weightOf(0, t + count) > c.maxFaultyWeight())) {
            t--; // random twins only within f
        }
        Delivery d = delivery != null ? delivery : (validators != null ? Delivery.RANDOM : base.delivery());
        Faults f = switch (faults) {
            case "random" -> base.faults();
            case "none" -> Faults.NONE;
            default -> parseFaults(faults);
        };
        try {
            return new Scenario(s, c, t, kind, count, f, d, Breakage.NONE);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
    }

    private Faults parseFaults(String text) {
        double drop = 0, dup = 0;
        int delay = 20, crashes = 0, wipes = 0;
        boolean partitions = false;
        long gst = 3_000;
        try {
            for (String part : text.split(",")) {
                String[] kv = part.trim().split("=", 2);
                switch (kv[0]) {
                    case "drop" -> drop = Double.parseDouble(kv[1]);
                    case "dup" -> dup = Double.parseDouble(kv[1]);
                    case "delay" -> delay = Integer.parseInt(kv[1]);
                    case "crashes" -> crashes = Integer.parseInt(kv[1]);
                    case "wipes" -> wipes = Integer.parseInt(kv[1]);
                    case "gst" -> gst = Long.parseLong(kv[1]);
                    case "partitions" -> partitions = true;
                    default -> throw new IllegalArgumentException("unknown fault '" + kv[0] + "'");
                }
            }
            return new Faults(drop, dup, delay, partitions, crashes, wipes, gst);
        } catch (RuntimeException e) {
            throw new ParameterException(
                    spec.commandLine(),
                    "--faults " + text + ": " + e.getMessage()
                            + " (expected e.g. drop=0.1,dup=0.05,delay=200,partitions,crashes=2,wipes=1,gst=3000)");
        }
    }

    static final class ByzantineConverter implements picocli.CommandLine.ITypeConverter<Byzantine> {
        @Override
        public Byzantine convert(String value) {
            return Byzantine.fromCli(value);
        }
    }

    static final class LeadersConverter implements picocli.CommandLine.ITypeConverter<LeaderSelection.Mode> {
        @Override
        public LeaderSelection.Mode convert(String value) {
            return CliNames.parse(LeaderSelection.Mode.class, value, "leader selection");
        }
    }

    static final class DeliveryConverter implements picocli.CommandLine.ITypeConverter<Delivery> {
        @Override
        public Delivery convert(String value) {
            return Delivery.fromCli(value);
        }
    }

    static final class ByzantineNames implements Iterable<String> {
        @Override
        public java.util.Iterator<String> iterator() {
            return java.util.Arrays.stream(Byzantine.values())
                    .map(Byzantine::cliName)
                    .iterator();
        }
    }
}
