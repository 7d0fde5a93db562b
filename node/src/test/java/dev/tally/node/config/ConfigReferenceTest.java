package dev.tally.node.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** docs/CONFIG.md's table of fields and the fields the config reader accepts are the same, each documented fully. */
class ConfigReferenceTest {
    /** A row of the table: | `field` | type | default | example | meaning |. */
    private static final Pattern ROW = Pattern.compile("^\\| `([a-z_]+)` \\|(.*)\\|$");

    static final Path DOC = Path.of("..", "docs", "CONFIG.md");

    /** The rows of the "## Fields" section, as field name and the four cells after it. */
    static List<List<String>> fieldRows(List<String> lines) {
        List<List<String>> rows = new ArrayList<>();
        boolean inFields = false;
        for (String line : lines) {
            if (line.startsWith("## ")) {
                inFields = line.equals("## Fields");
                continue;
            }
            Matcher m = ROW.matcher(line);
            if (inFields && m.matches()) {
                List<String> row = new ArrayList<>();
                row.add(m.group(1));
                for (String cell : m.group(2).split("\\|", -1)) {
                    row.add(cell.strip());
                }
                rows.add(row);
            }
        }
        return rows;
    }

    @Test
    void everyFieldOfTheCodeIsDocumentedAndNoOther() throws Exception {
        List<List<String>> rows = fieldRows(Files.readAllLines(DOC));
        List<String> documented = rows.stream().map(List::getFirst).toList();
        assertThat(documented)
                .as("fields in %s, section Fields", DOC)
                .doesNotHaveDuplicates()
                .containsExactlyInAnyOrderElementsOf(NodeConfigJson.FIELDS);
        for (List<String> row : rows) {
            assertThat(row)
                    .as("type, default, example and meaning of %s", row.getFirst())
                    .hasSize(5);
            assertThat(row.subList(1, 5))
                    .as(row.getFirst())
                    .allSatisfy(cell -> assertThat(cell).isNotBlank());
        }
    }

    @Test
    void theTableReaderSeesMissingAndExtraFields() {
        List<String> doc = List.of(
                "## Fields",
                "| `server_addr` | address | required | `\"0.0.0.0:3054\"` | Where. |",
                "| `no_such_field` | integer | `1` | `1` | Not a field. |",
                "## Other",
                "| `rpc_addr` | address | none | `\"x\"` | Not in the Fields section. |");
        List<String> names = fieldRows(doc).stream().map(List::getFirst).toList();
        assertThat(names).containsExactly("server_addr", "no_such_field");
    }
}
