package dev.tally.architecture;

import static com.tngtech.archunit.base.DescribedPredicate.not;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAPackage;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAnyPackage;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaAccess;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Keeps the architecture that ARCHITECTURE.md describes: a pure consensus core, module dependencies that point one
 * way, and packages without cycles. Over every main class of every module (the test classpath holds them all).
 */
class ArchitectureTest {
    private static final String CORE = "dev.tally.consensus..";
    private static JavaClasses tally;

    @BeforeAll
    static void importTally() {
        tally = new ClassFileImporter()
                .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("dev.tally");
    }

    @Test
    void importSeesEveryModule() {
        // A rule over no classes passes whatever it says: make sure each module's classes are there.
        for (String pkg : List.of(
                "dev.tally.crypto",
                "dev.tally.protocol",
                "dev.tally.consensus",
                "dev.tally.storage",
                "dev.tally.execution",
                "dev.tally.network",
                "dev.tally.sim",
                "dev.tally.conformance",
                "dev.tally.node",
                "dev.tally.testbed",
                "dev.tally.examples",
                "dev.tally.cli",
                "dev.tally.microbench")) {
            assertThat(tally.stream().anyMatch(c -> c.getPackageName().startsWith(pkg)))
                    .as("classes of %s imported", pkg)
                    .isTrue();
        }
    }

    // ------------------------------------------------------------------ the core is a function of its inputs

    @Test
    void consensusStartsNoThreads() {
        noClasses()
                .that()
                .resideInAPackage(CORE)
                .should()
                .dependOnClassesThat()
                .areAssignableTo(Thread.class)
                .orShould()
                .dependOnClassesThat()
                .resideInAnyPackage("java.util.concurrent..")
                .because("the core is a deterministic state machine: its driver owns every thread")
                .check(tally);
    }

    @Test
    void consensusReadsNoClock() {
        noClasses()
                .that()
                .resideInAPackage(CORE)
                .should()
                .callMethod(System.class, "currentTimeMillis")
                .orShould()
                .callMethod(System.class, "nanoTime")
                .orShould()
                .callMethodWhere(nowInJavaTime())
                .orShould()
                .dependOnClassesThat()
                .areAssignableTo(java.time.InstantSource.class)
                .because("time reaches the core only as the `now` of step(input, now)")
                .check(tally);
    }

    @Test
    void consensusDoesNoIo() {
        noClasses()
                .that()
                .resideInAPackage(CORE)
                .should()
                .dependOnClassesThat(ioClass())
                .orShould()
                .dependOnClassesThat()
                .resideInAnyPackage("java.nio.file..", "java.nio.channels..", "java.net..")
                .orShould()
                .accessField(System.class, "out")
                .orShould()
                .accessField(System.class, "err")
                .because("storage and network reach the core only through Input and Output")
                .check(tally);
    }

    @Test
    void consensusDrawsNoRandomness() {
        noClasses()
                .that()
                .resideInAPackage(CORE)
                .should()
                .dependOnClassesThat()
                .areAssignableTo(java.util.Random.class)
                .orShould()
                .dependOnClassesThat()
                .resideInAPackage("java.util.random..")
                .orShould()
                .dependOnClassesThat()
                .areAssignableTo(java.security.SecureRandom.class)
                .orShould()
                .callMethod(Math.class, "random")
                .orShould()
                .callMethod(StrictMath.class, "random")
                .because("the same inputs must give the same outputs, in the simulator and in conformance replays")
                .check(tally);
    }

    /** A call to {@code now(...)} on any java.time class: Instant.now(), LocalDateTime.now(), ... */
    private static DescribedPredicate<JavaAccess<?>> nowInJavaTime() {
        return DescribedPredicate.describe(
                "the target is a java.time now()",
                a -> a.getName().equals("now")
                        && a.getTargetOwner().getPackageName().startsWith("java.time"));
    }

    /**
     * java.io but what values and exceptions need: Serializable (every exception is one) and the IO exceptions that a
     * codec may declare.
     */
    private static DescribedPredicate<JavaClass> ioClass() {
        DescribedPredicate<JavaClass> valuesNeedThem = DescribedPredicate.describe(
                "Serializable or an IO exception",
                c -> c.isEquivalentTo(java.io.Serializable.class)
                        || c.isAssignableTo(java.io.IOException.class)
                        || c.isEquivalentTo(java.io.UncheckedIOException.class));
        return resideInAPackage("java.io").and(not(valuesNeedThem)).as("java.io file and stream classes");
    }

    // ------------------------------------------------------------------ modules point one way (ARCHITECTURE.md)

    /** A module of the target layout: its packages and the modules it may use (directly or through another). */
    record Module(String name, List<String> packages, List<String> uses) {
        @Override
        public String toString() {
            return name;
        }
    }

    private static final List<Module> MODULES = List.of(
            new Module("crypto", List.of("dev.tally.crypto.."), List.of()),
            new Module("protocol", List.of("dev.tally.protocol.."), List.of("crypto")),
            new Module("consensus", List.of("dev.tally.consensus.."), List.of("protocol", "crypto")),
            new Module("storage", List.of("dev.tally.storage.."), List.of("protocol", "crypto")),
            new Module("execution", List.of("dev.tally.execution.."), List.of("storage", "protocol", "crypto")),
            new Module("network", List.of("dev.tally.network.."), List.of("protocol", "crypto")),
            new Module("sim", List.of("dev.tally.sim.."), List.of("consensus", "storage", "protocol", "crypto")),
            new Module("conformance", List.of("dev.tally.conformance.."), List.of("consensus", "protocol", "crypto")),
            new Module(
                    "node",
                    List.of("dev.tally.node.."),
                    List.of("consensus", "storage", "execution", "network", "protocol", "crypto")),
            new Module(
                    "testbed",
                    List.of("dev.tally.testbed.."),
                    List.of("node", "consensus", "storage", "execution", "network", "protocol", "crypto")),
            // Example applications: built on the public API only.
            new Module(
                    "examples", List.of("dev.tally.examples.."), List.of("execution", "storage", "protocol", "crypto")),
            new Module(
                    "cli",
                    List.of("dev.tally.cli.."),
                    List.of(
                            "node",
                            "testbed",
                            "examples",
                            "sim",
                            "conformance",
                            "consensus",
                            "storage",
                            "execution",
                            "network",
                            "protocol",
                            "crypto")),
            // The JMH micro-benchmarks.
            new Module(
                    "microbench",
                    List.of("dev.tally.microbench.."),
                    List.of("consensus", "storage", "network", "protocol", "crypto")));

    static Stream<Arguments> modules() {
        return MODULES.stream().map(Arguments::of);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("modules")
    void moduleDependsOnlyOnTheModulesBelowIt(Module module) {
        List<String> allowed = Stream.concat(
                        module.packages().stream(),
                        module.uses().stream().flatMap(name -> module(name).packages().stream()))
                .toList();
        ArchRule rule = noClasses()
                .that()
                .resideInAnyPackage(module.packages().toArray(String[]::new))
                .should()
                .dependOnClassesThat(
                        resideInAPackage("dev.tally..").and(not(resideInAnyPackage(allowed.toArray(String[]::new)))))
                .because(module + " may use only " + (module.uses().isEmpty() ? "itself" : module.uses()))
                .allowEmptyShould(true);
        rule.check(tally);
    }

    private static Module module(String name) {
        return MODULES.stream().filter(m -> m.name().equals(name)).findFirst().orElseThrow();
    }

    @Test
    void everyPackageBelongsToAModule() {
        // A package that no module lists would escape the rules above.
        String[] all = MODULES.stream().flatMap(m -> m.packages().stream()).toArray(String[]::new);
        noClasses().should().resideOutsideOfPackages(all).check(tally);
    }

    @Test
    void packagesHaveNoCycles() {
        slices().matching("dev.tally.(**)").should().beFreeOfCycles().check(tally);
    }
}
