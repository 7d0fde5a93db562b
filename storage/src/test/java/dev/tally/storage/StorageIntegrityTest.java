package dev.tally.storage;

import static dev.tally.storage.Blocks.block;
import static dev.tally.storage.Blocks.blocks;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.tally.protocol.TestChain;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/** Issue 19: a bit flipped on disk inside a stored block is found at read, reported, served to no one, repaired. */
class StorageIntegrityTest {
    static final TestChain CHAIN = new TestChain(4);
    static final int BLOCKS = 200;

    @TempDir
    Path tmp;

    Path dir;
    final ListAppender<ILoggingEvent> logged = new ListAppender<>();
    final Logger integrityLog = (Logger) LoggerFactory.getLogger(BlockIntegrity.class);

    @BeforeEach
    void populate() {
        dir = tmp.resolve("data");
        try (RocksStorage s = RocksStorage.open(dir, CHAIN.genesis)) {
            s.appendAll(blocks(CHAIN, 0, BLOCKS - 1));
            s.persistReplicaState(Blocks.state(CHAIN, 5));
        }
        DiskDamage.compact(dir);
        logged.start();
        integrityLog.addAppender(logged);
    }

    @AfterEach
    void detach() {
        integrityLog.detachAppender(logged);
    }

    @Test
    void aFlippedBitInABlockIsFoundAtReadReportedAndRepaired() {
        DiskDamage.Flip flip = DiskDamage.flipBlock(dir, 100);
        try (RocksStorage s = RocksStorage.open(dir, CHAIN.genesis)) {
            assertThat(s.block(100)).as("served to no one").isEmpty();
            assertThat(s.corruptBlocks()).contains(100L);
            assertThat(s.block(100)).isEmpty();
            assertThat(s.corruptBlocksFound())
                    .as("reported once")
                    .isEqualTo(s.corruptBlocks().size());
            List<ILoggingEvent> errors = logged.list.stream()
                    .filter(e -> e.getLevel() == Level.ERROR)
                    .filter(e -> e.getFormattedMessage().contains("Corrupt block 100 "))
                    .toList();
            assertThat(errors).hasSize(1);
            assertThat(errors.getFirst().getFormattedMessage())
                    .contains(flip.file().toString(), "checksum mismatch", dir.toString());
            assertThat(s.block(0)).isPresent();
            assertThat(s.block(BLOCKS - 1)).isPresent();

            // One flipped bit spoils the RocksDB data block around it: every block in it is reported, and repaired.
            // (The first repair reads the damaged file's other blocks and finds them.)
            int repairs = 0;
            while (!s.corruptBlocks().isEmpty()) {
                s.repair(block(CHAIN, s.corruptBlocks().first()));
                repairs++;
            }
            assertThat(repairs).isGreaterThan(1).isEqualTo(s.corruptBlocksFound());
            assertThat(s.block(100).map(Blocks::bytes))
                    .hasValueSatisfying(b -> assertThat(b).isEqualTo(Blocks.bytes(block(CHAIN, 100))));
            s.appendAll(blocks(CHAIN, BLOCKS, BLOCKS + 9));
        }
        // The damaged file is gone: compacting the whole store again reads everything without error.
        DiskDamage.compact(dir);
        try (RocksStorage s = RocksStorage.open(dir, CHAIN.genesis)) {
            for (long n = 0; n < BLOCKS + 10; n++) {
                assertThat(s.block(n)).as("block %d", n).isPresent();
            }
            assertThat(s.corruptBlocks()).isEmpty();
        }
    }

    @Test
    void dbCheckFindsEveryBlockOfTheDamagedRegionAndTheFile() {
        StorageCheck.Report clean = StorageCheck.run(dir);
        assertThat(clean.findings()).isEmpty();
        assertThat(clean.blocks()).contains(new BlockRange(0, BLOCKS - 1));
        assertThat(clean.blocksChecked()).isEqualTo(BLOCKS);

        DiskDamage.Flip flip = DiskDamage.flipBlock(dir, 100);
        StorageCheck.Report report = StorageCheck.run(dir);
        assertThat(report.clean()).isFalse();
        assertThat(report.blocksChecked()).isEqualTo(BLOCKS);
        assertThat(report.findings())
                .anySatisfy(f -> {
                    assertThat(f.record()).isEqualTo("blocks/0000000000000064 (block 100)");
                    assertThat(f.problem())
                            .contains("checksum mismatch", flip.file().toString());
                })
                .anySatisfy(f -> assertThat(f.record()).isEqualTo("file " + flip.file()))
                .noneSatisfy(f -> assertThat(f.record()).contains("(block 0)"))
                .noneSatisfy(f -> assertThat(f.record()).contains("replica_state"));
        // What db check reports is what the node finds at read.
        try (RocksStorage s = RocksStorage.open(dir, CHAIN.genesis)) {
            for (long n = 0; n < BLOCKS; n++) {
                s.block(n);
            }
            List<String> found = s.corruptBlocks().stream()
                    .map(n -> "blocks/" + java.util.HexFormat.of().formatHex(RocksStorage.blockKey(n)) + " (block " + n
                            + ")")
                    .toList();
            assertThat(report.findings().stream()
                            .map(StorageCheck.Finding::record)
                            .filter(r -> r.startsWith("blocks/")))
                    .containsExactlyElementsOf(found);
        }
    }

    @Test
    void dbCheckRefusesADirectoryInUse() {
        try (RocksStorage s = RocksStorage.open(dir, CHAIN.genesis)) {
            assertThatThrownBy(() -> StorageCheck.run(dir))
                    .isInstanceOf(StorageException.class)
                    .hasMessageContaining("is in use")
                    .hasMessageContaining(dir.resolve("LOCK").toString());
            assertThat(s.block(0)).isPresent();
        }
    }

    @Test
    void aFlippedBitInTheReplicaStateRefusesTheOpenAndIsReported() {
        DiskDamage.Flip flip = DiskDamage.flipReplicaState(dir);
        assertThatThrownBy(() -> RocksStorage.open(dir, CHAIN.genesis))
                .isInstanceOf(StorageException.class)
                .hasMessageContaining("replica_state")
                .hasMessageContaining("checksum mismatch")
                .hasMessageContaining(flip.file().toString());
        assertThat(StorageCheck.run(dir).findings())
                .anySatisfy(f -> assertThat(f.record()).isEqualTo("state/replica_state"));
    }

    /** Every file of the directory overwritten with garbage: a clear error, naming the directory. */
    @Test
    void aDirectoryOfGarbageIsAClearError() throws Exception {
        java.util.Random random = new java.util.Random(19);
        try (java.util.stream.Stream<Path> files = java.nio.file.Files.list(dir)) {
            for (Path f : files.toList()) {
                byte[] garbage = new byte[(int) Math.max(16, java.nio.file.Files.size(f))];
                random.nextBytes(garbage);
                java.nio.file.Files.write(f, garbage);
            }
        }
        assertThatThrownBy(() -> RocksStorage.open(dir, CHAIN.genesis))
                .isInstanceOf(StorageException.class)
                .hasMessageStartingWith("cannot open the database in " + dir.toAbsolutePath() + ": ")
                .hasMessageNotContaining("Exception");
        assertThatThrownBy(() -> StorageCheck.run(dir))
                .isInstanceOf(StorageException.class)
                .hasMessageContaining(dir.toAbsolutePath().toString())
                .hasMessageNotContaining("Exception");
    }
}
