package dev.tally.architecture;

import static org.assertj.core.api.Assertions.assertThat;

import com.github.javaparser.JavaParser;
import com.github.javaparser.ParseResult;
import com.github.javaparser.ParserConfiguration;
import com.github.javaparser.ast.CompilationUnit;
import com.github.javaparser.ast.Node;
import com.github.javaparser.ast.body.CompactConstructorDeclaration;
import com.github.javaparser.ast.body.ConstructorDeclaration;
import com.github.javaparser.ast.body.MethodDeclaration;
import com.github.javaparser.ast.stmt.BlockStmt;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * No method or constructor in main code is longer than {@value #MAX_LINES} lines, counting its body from the opening
 * brace to the closing one. A longer one does several jobs: give each a name.
 */
class MethodLengthTest {
    static final int MAX_LINES = 70;

    private static final JavaParser PARSER =
            new JavaParser(new ParserConfiguration().setLanguageLevel(ParserConfiguration.LanguageLevel.JAVA_21));

    /** A method or constructor over the limit. */
    record Offender(String file, int line, String name, int lines) {
        @Override
        public String toString() {
            return file + ":" + line + " " + name + " has " + lines + " lines (at most " + MAX_LINES + ")";
        }
    }

    @Test
    void noMethodOrConstructorInMainCodeIsLongerThan70Lines() throws IOException {
        Path root =
                Path.of(System.getProperty("tally.root", "..")).toAbsolutePath().normalize();
        List<Path> sources = mainSources(root);
        assertThat(sources).as("main sources found under %s", root).hasSizeGreaterThan(100);
        List<Offender> offenders = new ArrayList<>();
        for (Path source : sources) {
            offenders.addAll(offenders(root.relativize(source).toString(), Files.readString(source)));
        }
        assertThat(offenders)
                .as("methods and constructors over %d lines: split each into named steps", MAX_LINES)
                .isEmpty();
    }

    /** The three files left whole on purpose (issue 15): the state machine, the wire format, the RocksDB schema. */
    private static final List<String> WHOLE_ON_PURPOSE = List.of(
            "consensus/src/main/java/dev/tally/consensus/Replica.java",
            "protocol/src/main/java/dev/tally/protocol/Codec.java",
            "storage/src/main/java/dev/tally/storage/RocksStorage.java");

    static final int MAX_FILE_LINES = 600;

    @Test
    void noMainFileIsLongerThan600LinesButThoseKeptWholeOnPurpose() throws IOException {
        Path root =
                Path.of(System.getProperty("tally.root", "..")).toAbsolutePath().normalize();
        List<String> tooLong = new ArrayList<>();
        for (Path source : mainSources(root)) {
            String file = root.relativize(source).toString();
            long lines = Files.readAllLines(source).size();
            if (lines > MAX_FILE_LINES && !WHOLE_ON_PURPOSE.contains(file)) {
                tooLong.add(file + " has " + lines + " lines");
            }
        }
        assertThat(tooLong)
                .as("main files over %d lines: split them along their state", MAX_FILE_LINES)
                .isEmpty();
    }

    @Test
    void aBodyOf71LinesIsAnOffenderAndOneOf70IsNot() {
        String source = "class A {\n"
                + "    A() {\n" + "        int a = 0;\n".repeat(68) + "    }\n" // 70 lines with its braces
                + "    void m() {\n" + "        int b = 0;\n".repeat(69) + "    }\n" // 71
                + "    record R(int x) {\n        R {\n" + "            x++;\n".repeat(69) + "        }\n    }\n" // 71
                + "}\n";
        assertThat(offenders("A.java", source))
                .extracting(Offender::toString)
                .containsExactly("A.java:72 m has 71 lines (at most 70)", "A.java:144 R has 71 lines (at most 70)");
    }

    private static List<Path> mainSources(Path root) throws IOException {
        List<Path> sources = new ArrayList<>();
        try (Stream<Path> modules = Files.list(root)) {
            for (Path main : modules.map(m -> m.resolve("src/main/java"))
                    .filter(Files::isDirectory)
                    .sorted()
                    .toList()) {
                try (Stream<Path> files = Files.walk(main)) {
                    files.filter(f -> f.toString().endsWith(".java")).sorted().forEach(sources::add);
                }
            }
        }
        return sources;
    }

    static List<Offender> offenders(String file, String source) {
        ParseResult<CompilationUnit> parsed = PARSER.parse(source);
        CompilationUnit unit = parsed.getResult()
                .filter(u -> parsed.isSuccessful())
                .orElseThrow(() -> new AssertionError(file + " does not parse: " + parsed.getProblems()));
        List<Offender> offenders = new ArrayList<>();
        unit.findAll(MethodDeclaration.class)
                .forEach(m -> m.getBody().ifPresent(b -> check(file, m.getNameAsString(), m.getName(), b, offenders)));
        unit.findAll(ConstructorDeclaration.class)
                .forEach(c -> check(file, c.getNameAsString(), c.getName(), c.getBody(), offenders));
        unit.findAll(CompactConstructorDeclaration.class)
                .forEach(c -> check(file, c.getNameAsString(), c.getName(), c.getBody(), offenders));
        offenders.sort(java.util.Comparator.comparingInt(Offender::line));
        return offenders;
    }

    private static void check(String file, String name, Node at, BlockStmt body, List<Offender> into) {
        int lines = body.getEnd().orElseThrow().line - body.getBegin().orElseThrow().line + 1;
        if (lines > MAX_LINES) {
            into.add(new Offender(file, at.getBegin().orElseThrow().line, name, lines));
        }
    }
}
