package dev.tally.storage;

import static dev.tally.storage.Blocks.block;
import static dev.tally.storage.Blocks.blocks;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tally.protocol.TestChain;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link RocksStorage#open} refuses what it must not use, says why and where, and changes nothing. */
class RocksStartupTest {
    static final TestChain CHAIN = new TestChain(4);
    static final byte[] GARBAGE = "not a block".getBytes(StandardCharsets.US_ASCII);

    @TempDir
    Path tmp;

    Path dir;

    @BeforeEach
    void populate() {
        dir = tmp.resolve("data");
        try (RocksStorage s = RocksStorage.open(dir, CHAIN.genesis)) {
            s.appendAll(blocks(CHAIN, 0, 2));
            s.persistReplicaState(Blocks.state(CHAIN, 5));
        }
    }

    /** The populated directory opens and holds exactly what {@link #populate} wrote. */
    private void assertIntact() {
        try (RocksStorage s = RocksStorage.open(dir, CHAIN.genesis)) {
            assertThat(s.range()).contains(new BlockRange(0, 2));
            assertThat(s.block(2).map(Blocks::bytes))
                    .hasValueSatisfying(b -> assertThat(b).isEqualTo(Blocks.bytes(block(CHAIN, 2))));
            assertThat(s.replicaState().map(Blocks::bytes))
                    .hasValueSatisfying(b -> assertThat(b).isEqualTo(Blocks.bytes(Blocks.state(CHAIN, 5))));
        }
    }

    @Test
    void newDirectoryIsCreatedAndStamped() throws Exception {
        Path fresh = tmp.resolve("a/b/c");
        RocksStorage.open(fresh, CHAIN.genesis).close();
        try (RawRocks raw = new RawRocks(fresh)) {
            assertThat(raw.get("default", RocksStorage.FORMAT_VERSION_KEY)).isEqualTo(new byte[] {0, 0, 0, 1});
            assertThat(raw.get("default", RocksStorage.GENESIS_HASH_KEY))
                    .isEqualTo(CHAIN.genesis.hash().keccak().bytes());
        }
    }

    @Test
    void anotherGenesisIsRefused() {
        TestChain other = new TestChain(4, 10);
        assertThatThrownBy(() -> RocksStorage.open(dir, other.genesis))
                .isInstanceOf(StorageException.class)
                .hasMessageContaining(dir.toString())
                .hasMessageContaining(CHAIN.genesis.hash().toText())
                .hasMessageContaining(other.genesis.hash().toText());
        assertIntact();
    }

    @Test
    void newerFormatVersionIsRefused() throws Exception {
        byte[] two = ByteBuffer.allocate(4).putInt(2).array();
        try (RawRocks raw = new RawRocks(dir)) {
            raw.put("default", RocksStorage.FORMAT_VERSION_KEY, two);
        }
        assertThatThrownBy(() -> RocksStorage.open(dir, CHAIN.genesis))
                .isInstanceOf(StorageException.class)
                .hasMessage(
                        "data directory " + dir.toAbsolutePath() + " has format version 2, this build reads up to 1");
        try (RawRocks raw = new RawRocks(dir)) {
            assertThat(raw.get("default", RocksStorage.FORMAT_VERSION_KEY)).isEqualTo(two);
            raw.put("default", RocksStorage.FORMAT_VERSION_KEY, new byte[] {0, 0, 0, 1});
        }
        assertIntact();
    }

    @Test
    void corruptLastBlockIsRefused() throws Exception {
        try (RawRocks raw = new RawRocks(dir)) {
            raw.put(RocksStorage.BLOCKS_CF, RocksStorage.blockKey(2), GARBAGE);
        }
        assertThatThrownBy(() -> RocksStorage.open(dir, CHAIN.genesis))
                .isInstanceOf(StorageException.class)
                .hasMessageContaining("blocks/0000000000000002")
                .hasMessageContaining("block 2")
                .hasMessageContaining("cannot be decoded")
                .hasMessageContaining(dir.toString());
        try (RawRocks raw = new RawRocks(dir)) {
            assertThat(raw.get(RocksStorage.BLOCKS_CF, RocksStorage.blockKey(2)))
                    .isEqualTo(GARBAGE);
        }
    }

    @Test
    void blockUnderTheWrongKeyIsRefused() throws Exception {
        try (RawRocks raw = new RawRocks(dir)) {
            raw.put(RocksStorage.BLOCKS_CF, RocksStorage.blockKey(2), Blocks.bytes(block(CHAIN, 1)));
        }
        assertThatThrownBy(() -> RocksStorage.open(dir, CHAIN.genesis))
                .isInstanceOf(StorageException.class)
                .hasMessageContaining("holds block 1 under the key of block 2");
    }

    @Test
    void replicaStateFailingItsChecksumIsRefused() throws Exception {
        byte[] flipped;
        try (RawRocks raw = new RawRocks(dir)) {
            flipped = raw.get(RocksStorage.STATE_CF, RocksStorage.REPLICA_STATE_KEY);
            flipped[flipped.length / 2] ^= 0x01; // still decodes: only the CRC sees it
            raw.put(RocksStorage.STATE_CF, RocksStorage.REPLICA_STATE_KEY, flipped);
        }
        assertThatThrownBy(() -> RocksStorage.open(dir, CHAIN.genesis))
                .isInstanceOf(StorageException.class)
                .hasMessageContaining("record state/replica_state in " + dir.toAbsolutePath())
                .hasMessageContaining("fails its checksum")
                .hasMessageContaining("refusing to start");
        try (RawRocks raw = new RawRocks(dir)) {
            assertThat(raw.get(RocksStorage.STATE_CF, RocksStorage.REPLICA_STATE_KEY))
                    .isEqualTo(flipped);
        }
    }

    /** A directory written before the replica state had a CRC opens; an undecodable state is still refused. */
    @Test
    void replicaStateWithoutChecksumIsDecodedOnly() throws Exception {
        try (RawRocks raw = new RawRocks(dir)) {
            raw.delete(RocksStorage.STATE_CF, RocksStorage.REPLICA_STATE_CRC_KEY);
        }
        assertIntact();
        try (RocksStorage s = RocksStorage.open(dir, CHAIN.genesis)) {
            s.persistReplicaState(Blocks.state(CHAIN, 5));
        }
        try (RawRocks raw = new RawRocks(dir)) {
            assertThat(raw.get(RocksStorage.STATE_CF, RocksStorage.REPLICA_STATE_CRC_KEY))
                    .as("the next persist adds the CRC")
                    .isEqualTo(RocksStorage.crc32c(Blocks.bytes(Blocks.state(CHAIN, 5))));
            raw.delete(RocksStorage.STATE_CF, RocksStorage.REPLICA_STATE_CRC_KEY);
            raw.put(RocksStorage.STATE_CF, RocksStorage.REPLICA_STATE_KEY, GARBAGE);
        }
        assertThatThrownBy(() -> RocksStorage.open(dir, CHAIN.genesis))
                .isInstanceOf(StorageException.class)
                .hasMessageContaining("state/replica_state")
                .hasMessageContaining("cannot be decoded")
                .hasMessageContaining(dir.toString());
    }

    @Test
    void dataWithoutMetadataIsRefused() throws Exception {
        try (RawRocks raw = new RawRocks(dir)) {
            raw.delete("default", RocksStorage.FORMAT_VERSION_KEY);
            raw.delete("default", RocksStorage.GENESIS_HASH_KEY);
        }
        assertThatThrownBy(() -> RocksStorage.open(dir, CHAIN.genesis))
                .isInstanceOf(StorageException.class)
                .hasMessageContaining("no metadata record")
                .hasMessageContaining(dir.toString());
        try (RawRocks raw = new RawRocks(dir)) {
            assertThat(raw.get("default", RocksStorage.GENESIS_HASH_KEY)).isNull(); // not re-stamped
        }
    }

    @Test
    void pathThatIsAFileIsRefused() throws Exception {
        Path file = tmp.resolve("file");
        Files.writeString(file, "keep me");
        assertThatThrownBy(() -> RocksStorage.open(file, CHAIN.genesis))
                .isInstanceOf(StorageException.class)
                .hasMessageContaining(file.toString())
                .hasMessageContaining("not a directory");
        assertThat(Files.readString(file)).isEqualTo("keep me");
    }

    @Test
    void secondOpenOfAnOpenDirectoryIsRefused() {
        try (RocksStorage first = RocksStorage.open(dir, CHAIN.genesis)) {
            assertThatThrownBy(() -> RocksStorage.open(dir, CHAIN.genesis))
                    .isInstanceOf(StorageException.class)
                    .hasMessageContaining("in use")
                    .hasMessageContaining(dir.resolve("LOCK").toString());
            first.append(block(CHAIN, 3)); // the first one is unharmed
            assertThat(first.range()).contains(new BlockRange(0, 3));
        }
    }
}
