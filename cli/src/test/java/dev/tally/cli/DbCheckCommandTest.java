package dev.tally.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tally.protocol.FinalBlock;
import dev.tally.protocol.Payload;
import dev.tally.protocol.TestChain;
import dev.tally.storage.DiskDamage;
import dev.tally.storage.RocksStorage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Issue 19: {@code tally db check --data DIR} on a real RocksDB directory, clean, damaged, in use, garbage. */
class DbCheckCommandTest {
    static final TestChain CHAIN = new TestChain(4);
    static final int BLOCKS = 200;

    @TempDir
    Path tmp;

    /** A node's data directory, as {@code tally node --data} lays it out. */
    Path data;
    /** Its database. */
    Path db;

    /** The command line run in-process, as bin/tally runs it. */
    static LocalnetEndToEndTest.Run run(String... args) {
        return LocalnetEndToEndTest.tally(args);
    }

    static FinalBlock block(long n) {
        Payload p = TestChain.payload("block " + n);
        return new FinalBlock(p, CHAIN.commitQc(n, n, p));
    }

    @BeforeEach
    void populate() {
        data = tmp.resolve("data");
        db = data.resolve("db");
        try (RocksStorage s = RocksStorage.open(db, CHAIN.genesis)) {
            s.appendAll(LongStream.range(0, BLOCKS)
                    .mapToObj(DbCheckCommandTest::block)
                    .toList());
        }
        DiskDamage.compact(db);
    }

    @Test
    void aCleanDirectoryExitsZero() {
        LocalnetEndToEndTest.Run r = run("db", "check", "--data", data.toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out())
                .startsWith(db.toAbsolutePath() + ": blocks 0..199, 200 block records and ")
                .endsWith(" SST files checked: no bad record" + System.lineSeparator())
                .hasLineCount(1);
        assertThat(run("db", "check", "--data", db.toString()).out())
                .as("the database directory itself")
                .isEqualTo(r.out());
    }

    @Test
    void aFlippedBitIsReportedBlockByBlock() {
        DiskDamage.Flip flip = DiskDamage.flipBlock(db, 100);
        LocalnetEndToEndTest.Run r = run("db", "check", "--data", data.toString());
        assertThat(r.exitCode()).isEqualTo(DbCommand.BAD_RECORDS);
        assertThat(r.err()).isEmpty();
        assertThat(r.out())
                .contains("bad record blocks/0000000000000064 (block 100): RocksDB: block checksum mismatch")
                .contains("bad record file " + flip.file() + ": RocksDB: ")
                .doesNotContain("(block 0)", "(block 199)", "Exception")
                .contains(", 200 block records and ");
        assertThat(r.out().lines().filter(l -> l.startsWith("bad record blocks/")))
                .as("every block of the damaged RocksDB data block")
                .hasSizeGreaterThan(1);
    }

    @Test
    void aDirectoryInUseIsRefused() {
        try (RocksStorage running = RocksStorage.open(db, CHAIN.genesis)) {
            LocalnetEndToEndTest.Run r = run("db", "check", "--data", data.toString());
            assertThat(r.exitCode()).isEqualTo(2);
            assertThat(r.out()).isEmpty();
            assertThat(r.err())
                    .startsWith("tally db check: data directory " + db.toAbsolutePath() + " is in use")
                    .doesNotContain("Exception", "\tat ");
            assertThat(running.block(100)).as("the running storage unharmed").isPresent();
        }
    }

    @Test
    void garbageAndMissingDirectoriesAreClearErrors() throws Exception {
        try (Stream<Path> files = Files.list(db)) {
            for (Path f : files.toList()) {
                Files.writeString(f, "garbage");
            }
        }
        LocalnetEndToEndTest.Run garbage = run("db", "check", "--data", db.toString());
        assertThat(garbage.exitCode()).isEqualTo(2);
        assertThat(garbage.err())
                .startsWith("tally db check: cannot open the database in " + db.toAbsolutePath())
                .doesNotContain("Exception", "\tat ");

        LocalnetEndToEndTest.Run missing =
                run("db", "check", "--data", tmp.resolve("nothing").toString());
        assertThat(missing.exitCode()).isEqualTo(2);
        assertThat(missing.err()).contains("does not exist or is not a directory");

        LocalnetEndToEndTest.Run notADatabase = run("db", "check", "--data", tmp.toString());
        assertThat(notADatabase.exitCode()).isEqualTo(2);
        assertThat(notADatabase.err()).contains("holds no database (no RocksDB CURRENT file)");
    }
}
