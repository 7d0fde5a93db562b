package dev.tally.storage;

import dev.tally.crypto.Keccak256;
import dev.tally.protocol.GenesisHash;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.DBOptions;
import org.rocksdb.LiveFileMetaData;
import org.rocksdb.Options;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.SstFileReader;

/**
 * Checks a stopped node's data directory record by record ({@code bin/tally db check}): the metadata, every block
 * (RocksDB's checksums, then the read checks of {@link BlockIntegrity}; a gap in the stored range), the replica
 * state (checksums, its CRC32C, decoding), and every SST file's checksums as a whole, so that damage no read would
 * reach (an index, an old version) shows too. It reports every bad record instead of stopping at the first.
 *
 * <p>It takes the directory's lock as a node does, so a directory a running node holds is refused.
 */
public final class StorageCheck {
    private StorageCheck() {}

    /** A bad record: which one ({@code blocks/N}, {@code state/replica_state}, a file), and what is wrong. */
    public record Finding(String record, String problem) {}

    /**
     * What the check found.
     *
     * @param blocks the stored block numbers, from the lowest to the highest found, empty when none
     * @param blocksChecked how many block records were read
     * @param files how many SST files were verified
     */
    public record Report(Path dir, Optional<BlockRange> blocks, long blocksChecked, int files, List<Finding> findings) {
        public boolean clean() {
            return findings.isEmpty();
        }
    }

    /**
     * Checks the data directory {@code dir}.
     *
     * @throws StorageException if it is not a data directory, cannot be opened or is in use; the message says why
     */
    public static Report run(Path dir) {
        Path path = dir.toAbsolutePath().normalize();
        if (!Files.isDirectory(path)) {
            throw new StorageException("data directory " + path + " does not exist or is not a directory");
        }
        if (!Files.exists(path.resolve("CURRENT"))) {
            throw new StorageException("data directory " + path + " holds no database (no RocksDB CURRENT file)");
        }
        List<byte[]> names = RocksStorage.existingColumnFamilies(path);
        List<ColumnFamilyHandle> handles = new ArrayList<>();
        try (DBOptions options = new DBOptions().setParanoidChecks(true);
                ColumnFamilyOptions cfOptions = new ColumnFamilyOptions()) {
            List<ColumnFamilyDescriptor> descriptors = names.stream()
                    .map(n -> new ColumnFamilyDescriptor(n, cfOptions))
                    .toList();
            RocksDB db;
            try {
                db = RocksDB.open(options, path.toString(), descriptors, handles);
            } catch (RocksDBException e) {
                throw RocksStorage.translateOpenFailure(path, e);
            }
            try {
                return check(path, db, names, handles);
            } finally {
                handles.forEach(ColumnFamilyHandle::close);
                db.close();
            }
        }
    }

    private static Report check(Path path, RocksDB db, List<byte[]> names, List<ColumnFamilyHandle> handles) {
        List<Finding> findings = new ArrayList<>();
        GenesisHash genesis = metadata(path, db, handles.getFirst(), findings);
        ColumnFamilyHandle blocksCf = RocksStorage.find(handles, names, RocksStorage.BLOCKS_CF);
        ColumnFamilyHandle stateCf = RocksStorage.find(handles, names, RocksStorage.STATE_CF);
        if (blocksCf == null || stateCf == null) {
            findings.add(new Finding(
                    "column families",
                    "missing '" + (blocksCf == null ? RocksStorage.BLOCKS_CF : RocksStorage.STATE_CF) + "'"));
            return new Report(path, Optional.empty(), 0, 0, findings);
        }
        BlockScan scan = new BlockScan(db, blocksCf, genesis, findings);
        scan.run();
        try {
            RocksStorage.readReplicaState(db, stateCf, path);
        } catch (StorageException e) {
            findings.add(new Finding("state/replica_state", e.getMessage()));
        }
        int files = verifyFiles(path, db, findings);
        return new Report(path, scan.range(), scan.checked, files, findings);
    }

    /** The stored genesis hash, once the metadata records are found well-formed; null when they are not. */
    private static GenesisHash metadata(Path path, RocksDB db, ColumnFamilyHandle meta, List<Finding> findings) {
        try {
            byte[] version = RocksStorage.get(db, meta, RocksStorage.FORMAT_VERSION_KEY, path);
            if (version == null || version.length != 4) {
                findings.add(new Finding("default/format_version", version == null ? "missing" : "not 4 bytes"));
            } else {
                int v = ByteBuffer.wrap(version).getInt();
                if (v < 1 || v > RocksStorage.FORMAT_VERSION) {
                    findings.add(new Finding(
                            "default/format_version",
                            "version " + v + ", this build reads 1.." + RocksStorage.FORMAT_VERSION));
                }
            }
            byte[] genesis = RocksStorage.get(db, meta, RocksStorage.GENESIS_HASH_KEY, path);
            if (genesis == null || genesis.length != Keccak256.LENGTH) {
                findings.add(new Finding("default/genesis_hash", genesis == null ? "missing" : "not 32 bytes"));
                return null;
            }
            return new GenesisHash(new Keccak256(genesis));
        } catch (StorageException e) {
            findings.add(new Finding("metadata", e.getMessage()));
            return null;
        }
    }

    /** Every block record from the lowest to the highest number any file or the memtable holds. */
    private static final class BlockScan {
        private final RocksDB db;
        private final ColumnFamilyHandle cf;
        private final GenesisHash genesis;
        private final List<Finding> findings;
        private long checked;
        private long firstPresent = Long.MAX_VALUE;
        private long lastPresent = Long.MIN_VALUE;

        BlockScan(RocksDB db, ColumnFamilyHandle cf, GenesisHash genesis, List<Finding> findings) {
            this.db = db;
            this.cf = cf;
            this.genesis = genesis;
            this.findings = findings;
        }

        Optional<BlockRange> range() {
            return firstPresent > lastPresent
                    ? Optional.empty()
                    : Optional.of(new BlockRange(firstPresent, lastPresent));
        }

        void run() {
            long lo = Long.MAX_VALUE;
            long hi = Long.MIN_VALUE;
            // The ends as an iterator sees them (the memtable included), and as the files' key ranges say.
            try (RocksIterator it = db.newIterator(cf)) {
                for (it.seekToFirst(); it.isValid(); it.next()) {
                    if (it.key().length != 8) {
                        findings.add(new Finding(
                                "blocks/" + HexFormat.of().formatHex(it.key()), "malformed key (not 8 bytes)"));
                        continue;
                    }
                    long n = ByteBuffer.wrap(it.key()).getLong();
                    lo = Math.min(lo, n);
                    hi = Math.max(hi, n);
                }
            }
            for (LiveFileMetaData f : db.getLiveFilesMetaData()) {
                if (Arrays.equals(f.columnFamilyName(), RocksStorage.ascii(RocksStorage.BLOCKS_CF))
                        && f.smallestKey().length == 8
                        && f.largestKey().length == 8) {
                    lo = Math.min(lo, ByteBuffer.wrap(f.smallestKey()).getLong());
                    hi = Math.max(hi, ByteBuffer.wrap(f.largestKey()).getLong());
                }
            }
            List<Long> missing = new ArrayList<>();
            try (ReadOptions verified = new ReadOptions().setVerifyChecksums(true)) {
                for (long n = lo; n <= hi && lo <= hi; n++) {
                    if (read(verified, n)) {
                        if (firstPresent != Long.MAX_VALUE) {
                            missing.forEach(
                                    m -> findings.add(new Finding(record(m), "missing inside the stored range")));
                        }
                        missing.clear();
                        firstPresent = Math.min(firstPresent, n);
                        lastPresent = n;
                    } else {
                        missing.add(n); // below the first present block: pruned, not missing
                    }
                }
            }
        }

        /** Whether block {@code n} has a record (good or bad); a bad one is a finding. */
        private boolean read(ReadOptions verified, long n) {
            byte[] value;
            try {
                value = db.get(cf, verified, RocksStorage.blockKey(n));
            } catch (RocksDBException e) {
                checked++;
                findings.add(new Finding(record(n), "RocksDB: " + e.getMessage()));
                return true;
            }
            if (value == null) {
                return false;
            }
            checked++;
            if (genesis != null) {
                try {
                    BlockIntegrity.check(n, value, genesis);
                } catch (BlockIntegrity.CorruptRecordException e) {
                    findings.add(new Finding(record(n), "the record " + e.getMessage()));
                }
            }
            return true;
        }

        private static String record(long n) {
            return "blocks/" + HexFormat.of().formatHex(RocksStorage.blockKey(n)) + " (block " + n + ")";
        }
    }

    /** Verifies every live SST file's checksums; the number of files. */
    private static int verifyFiles(Path path, RocksDB db, List<Finding> findings) {
        List<LiveFileMetaData> files = db.getLiveFilesMetaData();
        for (LiveFileMetaData f : files) {
            Path file = path.resolve(f.fileName().replaceFirst("^/", ""));
            try (Options options = new Options();
                    SstFileReader reader = new SstFileReader(options)) {
                reader.open(file.toString());
                reader.verifyChecksum();
            } catch (RocksDBException e) {
                findings.add(new Finding("file " + file, "RocksDB: " + e.getMessage()));
            }
        }
        return files.size();
    }
}
