package dev.tally.cli;

import dev.tally.storage.BlockRange;
import dev.tally.storage.StorageCheck;
import dev.tally.storage.StorageException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(
        name = "db",
        mixinStandardHelpOptions = true,
        description = "A node's data directory, offline.",
        subcommands = {DbCommand.Check.class})
final class DbCommand extends CommandGroup {
    /** The exit status of {@code db check} when it found bad records. */
    static final int BAD_RECORDS = 4;

    @Command(
            name = "check",
            mixinStandardHelpOptions = true,
            description = {
                "Checks every record of a stopped node's data directory: the metadata, every block (RocksDB checksums,"
                        + " decoding, number, payload hash against its commit QC, chain; gaps), the replica state"
                        + " (checksums, CRC32C, decoding) and every SST file's checksums.",
                "Prints one line per bad record. Exit status 0 when all is well, " + BAD_RECORDS
                        + " when a record is bad, 2 when the directory cannot be checked (missing, not a database,"
                        + " or in use by a running node)."
            })
    static final class Check implements Callable<Integer> {
        @Spec
        private CommandSpec spec;

        @Option(
                names = "--data",
                required = true,
                paramLabel = "DIR",
                description = "the node's data directory, as given to tally node --data (its database is DIR/db), or"
                        + " the database directory itself")
        private Path data;

        @Override
        public Integer call() throws BadInputException {
            Path db = Files.exists(data.resolve("db").resolve("CURRENT")) ? data.resolve("db") : data;
            StorageCheck.Report report;
            try {
                report = StorageCheck.run(db);
            } catch (StorageException e) {
                throw new BadInputException(e.getMessage());
            }
            PrintWriter out = spec.commandLine().getOut();
            for (StorageCheck.Finding f : report.findings()) {
                out.println("bad record " + f.record() + ": " + f.problem());
            }
            out.println(report.dir() + ": "
                    + report.blocks().map(BlockRange::toString).orElse("no blocks") + ", "
                    + report.blocksChecked() + " block records and " + report.files() + " SST files checked: "
                    + (report.clean() ? "no bad record" : report.findings().size() + " bad records"));
            out.flush();
            return report.clean() ? 0 : BAD_RECORDS;
        }
    }
}
