package dev.tally.storage;

import dev.tally.crypto.Keccak256;
import dev.tally.protocol.Codec;
import dev.tally.protocol.DecodeException;
import dev.tally.protocol.FinalBlock;
import dev.tally.protocol.Genesis;
import dev.tally.protocol.GenesisHash;
import dev.tally.protocol.ReplicaState;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.SortedSet;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.zip.CRC32C;
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
import org.rocksdb.Status;
import org.rocksdb.WALRecoveryMode;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Durable {@link Storage} on RocksDB, one database per data directory.
 *
 * <h2>Layout (format version 1)</h2>
 * <ul>
 *   <li>column family {@code default}: metadata; {@code format_version} (4-byte big-endian int) and
 *       {@code genesis_hash} (32 bytes), written together on the first open of an empty directory;</li>
 *   <li>column family {@code blocks}: final blocks keyed by number (8 bytes big-endian, so iteration is in block
 *       order), values in canonical {@link Codec} encoding;</li>
 *   <li>column family {@code state}: the replica state under the key {@code replica_state}, canonical encoding, and
 *       its CRC32C under {@code replica_state_crc32c} (4 bytes big-endian; absent in directories written before it
 *       existed, which still open).</li>
 * </ul>
 * Every write (append, prune, replica state) is one {@link WriteBatch} written with {@code sync = true}: it is on
 * disk when the call returns, and after a crash either all of it or none of it is there. In a {@link #syncGroup} the
 * appends and replica states of the group's thread are written to the write-ahead log without a sync, and the group's
 * close syncs the log once: every column family shares the one log, and recovery replays it in order up to its first
 * incomplete record (RocksDB's point-in-time recovery, the default), so a crash keeps a prefix of the group's writes.
 *
 * <h2>Start-up checks</h2>
 * {@link #open} refuses, with a {@link StorageException} naming the problem and the path, and without writing
 * anything: a path that is a file or not writable; a directory locked by another process (RocksDB's
 * {@code LOCK}); a database of a newer format version or of another genesis; missing or undecodable metadata
 * next to data; a last (or first) block that does not pass the read checks; a replica state that does not read,
 * match its CRC32C or decode (a node must not vote from a damaged safety state).
 *
 * <h2>Integrity</h2>
 * Every read verifies RocksDB's block checksums, and {@code paranoid_checks} is on. A block read that fails them,
 * or the checks of {@link BlockIntegrity}, is reported and answered as absent ({@link #corruptBlocks}); a good copy
 * (from a peer, through block sync) {@link #repair repairs} it, and the damaged SST file is dropped once all its
 * blocks have good copies, so that no compaction trips on it.
 *
 * <h2>Threads</h2>
 * One writer at a time (writes are serialized), any number of concurrent readers. The block range is cached in a
 * volatile immutable record; the replica state is cached too. {@link #close} waits for calls in flight.
 */
public final class RocksStorage implements Storage {
    /** The layout version this build writes, and the newest it reads. */
    public static final int FORMAT_VERSION = 1;

    static final String BLOCKS_CF = "blocks";
    static final String STATE_CF = "state";
    static final byte[] FORMAT_VERSION_KEY = ascii("format_version");
    static final byte[] GENESIS_HASH_KEY = ascii("genesis_hash");
    static final byte[] REPLICA_STATE_KEY = ascii("replica_state");
    /** The CRC32C of the replica state record (4 bytes, big-endian), written with it since issue 19. */
    static final byte[] REPLICA_STATE_CRC_KEY = ascii("replica_state_crc32c");

    private static final Logger log = LoggerFactory.getLogger(RocksStorage.class);
    // The thread's open sync group, if any (one at a time, of one storage), and whether it wrote since it last synced.
    private static final ThreadLocal<OpenGroup> GROUP = new ThreadLocal<>();

    static {
        RocksDB.loadLibrary();
    }

    private final Path dir;
    private final Genesis genesis;
    private final RocksDB db;
    private final DBOptions dbOptions;
    private final ColumnFamilyOptions cfOptions;
    private final WriteOptions syncWrite;
    private final WriteOptions logWrite; // to the write-ahead log, unsynced: in a sync group
    private final AtomicLong syncs = new AtomicLong();
    private final List<ColumnFamilyHandle> handles;
    private final ColumnFamilyHandle blocksCf;
    private final ColumnFamilyHandle stateCf;
    private final ReentrantReadWriteLock lifecycle = new ReentrantReadWriteLock();
    private final Object writeLock = new Object();
    private final ReadOptions verifiedRead;
    private final BlockIntegrity integrity;
    private volatile BlockRange range;
    private volatile ReplicaState replicaState;
    private volatile boolean closed; // written under the lifecycle write lock

    private RocksStorage(
            Path dir,
            Genesis genesis,
            RocksDB db,
            DBOptions dbOptions,
            ColumnFamilyOptions cfOptions,
            List<ColumnFamilyHandle> handles,
            ColumnFamilyHandle blocksCf,
            ColumnFamilyHandle stateCf,
            BlockRange range,
            ReplicaState replicaState) {
        this.dir = dir;
        this.genesis = genesis;
        this.db = db;
        this.dbOptions = dbOptions;
        this.cfOptions = cfOptions;
        this.handles = handles;
        this.blocksCf = blocksCf;
        this.stateCf = stateCf;
        this.range = range;
        this.replicaState = replicaState;
        this.syncWrite = new WriteOptions().setSync(true);
        this.logWrite = new WriteOptions().setSync(false);
        this.verifiedRead = new ReadOptions().setVerifyChecksums(true);
        this.integrity = new BlockIntegrity(dir.toString());
    }

    /**
     * Opens (creating if needed) the storage of the chain {@code genesis} in {@code dir}. An empty or missing
     * directory gets a new database stamped with the format version and the genesis hash; an existing one must
     * carry the same genesis hash and a format version this build reads.
     *
     * @throws StorageException if the directory cannot be used; the message says why and names the path
     */
    public static RocksStorage open(Path dir, Genesis genesis) {
        Objects.requireNonNull(genesis, "genesis");
        Path path = dir.toAbsolutePath().normalize();
        if (Files.exists(path) && !Files.isDirectory(path)) {
            throw new StorageException("data directory " + path + " is not a directory");
        }
        try {
            Files.createDirectories(path);
        } catch (IOException e) {
            throw new StorageException("cannot create data directory " + path + ": " + e.getMessage(), e);
        }
        if (!Files.isWritable(path)) {
            throw new StorageException("data directory " + path + " is not writable");
        }

        List<byte[]> cfNames = existingColumnFamilies(path);
        DBOptions dbOptions = new DBOptions()
                .setCreateIfMissing(true)
                .setCreateMissingColumnFamilies(false)
                .setKeepLogFileNum(4)
                // Checks the files' consistency at open, and stops writes on a corruption found in the background
                // rather than building on it (RocksDB's default, made explicit as integrity depends on it).
                .setParanoidChecks(true)
                // Recovery replays the write-ahead log up to its first incomplete record, so a crash keeps a prefix
                // of the writes: what sync groups rely on (the default, made explicit for that reason).
                .setWalRecoveryMode(WALRecoveryMode.PointInTimeRecovery);
        ColumnFamilyOptions cfOptions = new ColumnFamilyOptions();
        List<ColumnFamilyDescriptor> descriptors = new ArrayList<>();
        for (byte[] name : cfNames) {
            descriptors.add(new ColumnFamilyDescriptor(name, cfOptions));
        }
        List<ColumnFamilyHandle> handles = new ArrayList<>();
        RocksDB db;
        try {
            db = RocksDB.open(dbOptions, path.toString(), descriptors, handles);
        } catch (RocksDBException e) {
            cfOptions.close();
            dbOptions.close();
            throw translateOpenFailure(path, e);
        }
        try {
            return initialize(path, genesis, db, dbOptions, cfOptions, handles, cfNames);
        } catch (RuntimeException e) {
            closeAll(db, handles, cfOptions, dbOptions);
            throw e;
        }
    }

    private static RocksStorage initialize(
            Path path,
            Genesis genesis,
            RocksDB db,
            DBOptions dbOptions,
            ColumnFamilyOptions cfOptions,
            List<ColumnFamilyHandle> handles,
            List<byte[]> cfNames) {
        ColumnFamilyHandle metaCf = handles.get(0);
        ColumnFamilyHandle blocksCf = find(handles, cfNames, BLOCKS_CF);
        ColumnFamilyHandle stateCf = find(handles, cfNames, STATE_CF);
        byte[] version = get(db, metaCf, FORMAT_VERSION_KEY, path);
        byte[] genesisHash = get(db, metaCf, GENESIS_HASH_KEY, path);

        if (version == null && genesisHash == null) {
            // A new database (or one whose creation was interrupted before the metadata was written).
            if (hasAnyKey(db, blocksCf) || hasAnyKey(db, stateCf)) {
                throw new StorageException("data directory " + path
                        + " holds blocks or replica state but no metadata record (format_version, genesis_hash);"
                        + " refusing to use it");
            }
            try {
                if (blocksCf == null) {
                    blocksCf = db.createColumnFamily(new ColumnFamilyDescriptor(ascii(BLOCKS_CF), cfOptions));
                    handles.add(blocksCf);
                }
                if (stateCf == null) {
                    stateCf = db.createColumnFamily(new ColumnFamilyDescriptor(ascii(STATE_CF), cfOptions));
                    handles.add(stateCf);
                }
                try (WriteBatch batch = new WriteBatch();
                        WriteOptions sync = new WriteOptions().setSync(true)) {
                    batch.put(
                            metaCf,
                            FORMAT_VERSION_KEY,
                            ByteBuffer.allocate(4).putInt(FORMAT_VERSION).array());
                    batch.put(metaCf, GENESIS_HASH_KEY, genesis.hash().keccak().bytes());
                    db.write(sync, batch);
                }
            } catch (RocksDBException e) {
                throw new StorageException("cannot initialize a new database in " + path + ": " + e.getMessage(), e);
            }
            log.info("Created storage in {} for {} (format version {})", path, genesis.hash(), FORMAT_VERSION);
            return new RocksStorage(path, genesis, db, dbOptions, cfOptions, handles, blocksCf, stateCf, null, null);
        }

        int v = checkMetadata(path, genesis, version, genesisHash);
        if (blocksCf == null || stateCf == null) {
            throw new StorageException("data directory " + path + " is missing the column family '"
                    + (blocksCf == null ? BLOCKS_CF : STATE_CF) + "' of format version " + v);
        }

        BlockRange range = readRange(db, blocksCf, path, genesis);
        ReplicaState state = readReplicaState(db, stateCf, path);
        log.info(
                "Opened storage in {} for {}: {}, replica state {}",
                path,
                genesis.hash(),
                range == null ? "no blocks" : range,
                state == null ? "none" : "at view " + state.view());
        return new RocksStorage(path, genesis, db, dbOptions, cfOptions, handles, blocksCf, stateCf, range, state);
    }

    /**
     * The persisted replica state, checked: it must read (RocksDB checksums), match the CRC32C stored beside it, and
     * decode. A replica voting from a damaged safety state could sign conflicting votes, so any failure refuses the
     * open, naming the record. A state written before the CRC existed has none and is only decoded; the next
     * persist adds it.
     */
    static ReplicaState readReplicaState(RocksDB db, ColumnFamilyHandle stateCf, Path path) {
        byte[] stateBytes = get(db, stateCf, REPLICA_STATE_KEY, path);
        if (stateBytes == null) {
            return null;
        }
        byte[] crc = get(db, stateCf, REPLICA_STATE_CRC_KEY, path);
        if (crc != null && !Arrays.equals(crc, crc32c(stateBytes))) {
            throw new StorageException("record state/replica_state in " + path + " fails its checksum (CRC32C "
                    + HexFormat.of().formatHex(crc) + " stored, "
                    + HexFormat.of().formatHex(crc32c(stateBytes))
                    + " computed): the replica's safety state is damaged, and voting from it could sign conflicting"
                    + " votes; refusing to start");
        }
        try {
            return Codec.decodeReplicaState(stateBytes);
        } catch (DecodeException e) {
            throw new StorageException(
                    "record state/replica_state in " + path + " cannot be decoded: " + e.getMessage(), e);
        }
    }

    static byte[] crc32c(byte[] bytes) {
        CRC32C crc = new CRC32C();
        crc.update(bytes);
        return ByteBuffer.allocate(4).putInt((int) crc.getValue()).array();
    }

    /** The format version of an existing database, once it and the genesis hash are found readable and ours. */
    private static int checkMetadata(Path path, Genesis genesis, byte[] version, byte[] genesisHash) {
        if (version == null || version.length != 4) {
            throw new StorageException("metadata record 'format_version' in " + path + " is "
                    + (version == null ? "missing" : "unreadable (" + version.length + " bytes, expected 4)"));
        }
        int v = ByteBuffer.wrap(version).getInt();
        if (v > FORMAT_VERSION) {
            throw new StorageException("data directory " + path + " has format version " + v
                    + ", this build reads up to " + FORMAT_VERSION);
        }
        if (v < 1) {
            throw new StorageException("data directory " + path + " has unknown format version " + v);
        }
        if (genesisHash == null || genesisHash.length != Keccak256.LENGTH) {
            throw new StorageException("metadata record 'genesis_hash' in " + path + " is "
                    + (genesisHash == null ? "missing" : "unreadable (" + genesisHash.length + " bytes, expected 32)"));
        }
        GenesisHash stored = new GenesisHash(new Keccak256(genesisHash));
        if (!stored.equals(genesis.hash())) {
            throw new StorageException(
                    "data directory " + path + " belongs to another chain: it holds " + stored.toText()
                            + ", the configured genesis is " + genesis.hash().toText());
        }
        return v;
    }

    /** The stored range, from the first and last keys; both end blocks must decode and match their key. */
    private static BlockRange readRange(RocksDB db, ColumnFamilyHandle blocksCf, Path path, Genesis genesis) {
        long first;
        long last;
        try (RocksIterator it = db.newIterator(blocksCf)) {
            it.seekToFirst();
            if (!it.isValid()) {
                checkIterator(it, path);
                return null;
            }
            first = checkedBlock(it.key(), it.value(), path, genesis).number();
            it.seekToLast();
            if (!it.isValid()) {
                checkIterator(it, path);
                throw new StorageException("cannot read the last block in " + path);
            }
            last = checkedBlock(it.key(), it.value(), path, genesis).number();
        }
        if (first < genesis.firstBlock()) {
            throw new StorageException("data directory " + path + " holds block " + first
                    + ", before the genesis' first block " + genesis.firstBlock());
        }
        return new BlockRange(first, last);
    }

    /** The range's end blocks, checked as every read is; a bad one refuses the open, as the range is unknown. */
    private static FinalBlock checkedBlock(byte[] key, byte[] value, Path path, Genesis genesis) {
        if (key.length != 8) {
            throw new StorageException("record blocks/" + HexFormat.of().formatHex(key) + " in " + path
                    + " has a malformed key (" + key.length + " bytes, expected 8)");
        }
        long number = ByteBuffer.wrap(key).getLong();
        try {
            return BlockIntegrity.check(number, value, genesis.hash());
        } catch (BlockIntegrity.CorruptRecordException e) {
            throw new StorageException(
                    "record blocks/" + HexFormat.of().formatHex(key) + " (block " + number + ") in " + path + " "
                            + e.getMessage(),
                    e);
        }
    }

    private static void checkIterator(RocksIterator it, Path path) {
        try {
            it.status();
        } catch (RocksDBException e) {
            throw new StorageException("cannot read blocks in " + path + ": " + e.getMessage(), e);
        }
    }

    static List<byte[]> existingColumnFamilies(Path path) {
        List<byte[]> names = new ArrayList<>();
        names.add(RocksDB.DEFAULT_COLUMN_FAMILY);
        if (!Files.exists(path.resolve("CURRENT"))) {
            return names;
        }
        try (Options options = new Options()) {
            for (byte[] name : RocksDB.listColumnFamilies(options, path.toString())) {
                if (!Arrays.equals(name, RocksDB.DEFAULT_COLUMN_FAMILY)) {
                    names.add(name);
                }
            }
        } catch (RocksDBException e) {
            throw new StorageException("cannot read the database in " + path + ": " + e.getMessage(), e);
        }
        return names;
    }

    static StorageException translateOpenFailure(Path path, RocksDBException e) {
        String message = String.valueOf(e.getMessage());
        if (message.toLowerCase(Locale.ROOT).contains("lock")) {
            return new StorageException(
                    "data directory " + path + " is in use: another process (or another open "
                            + "storage in this one) holds its lock " + path.resolve("LOCK") + " (" + message + ")",
                    e);
        }
        return new StorageException("cannot open the database in " + path + ": " + message, e);
    }

    static ColumnFamilyHandle find(List<ColumnFamilyHandle> handles, List<byte[]> names, String name) {
        for (int i = 0; i < names.size(); i++) {
            if (Arrays.equals(names.get(i), ascii(name))) {
                return handles.get(i);
            }
        }
        return null;
    }

    static byte[] get(RocksDB db, ColumnFamilyHandle cf, byte[] key, Path path) {
        try {
            return db.get(cf, key);
        } catch (RocksDBException e) {
            throw new StorageException(
                    "cannot read record " + new String(key, StandardCharsets.US_ASCII) + " in " + path + ": "
                            + e.getMessage(),
                    e);
        }
    }

    private static boolean hasAnyKey(RocksDB db, ColumnFamilyHandle cf) {
        if (cf == null) {
            return false;
        }
        try (RocksIterator it = db.newIterator(cf)) {
            it.seekToFirst();
            return it.isValid();
        }
    }

    private static void closeAll(
            RocksDB db, List<ColumnFamilyHandle> handles, ColumnFamilyOptions cfOptions, DBOptions dbOptions) {
        for (ColumnFamilyHandle h : handles) {
            h.close();
        }
        db.close();
        cfOptions.close();
        dbOptions.close();
    }

    static byte[] blockKey(long number) {
        return ByteBuffer.allocate(8).putLong(number).array();
    }

    static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    // ---------------------------------------------------------------- Storage

    /** The data directory, absolute. */
    public Path directory() {
        return dir;
    }

    @Override
    public Genesis genesis() {
        return genesis;
    }

    @Override
    public Optional<BlockRange> range() {
        checkOpen();
        return Optional.ofNullable(range);
    }

    @Override
    public Optional<FinalBlock> block(long number) {
        lifecycle.readLock().lock();
        try {
            checkOpen();
            BlockRange r = range;
            if (r == null || !r.contains(number)) {
                return Optional.empty();
            }
            if (integrity.isCorrupt(number)) {
                return Optional.empty();
            }
            byte[] key = blockKey(number);
            byte[] value;
            try {
                value = db.get(blocksCf, verifiedRead, key);
            } catch (RocksDBException e) {
                if (!isCorruption(e)) {
                    throw new StorageException("cannot read block " + number + " in " + dir + ": " + e.getMessage(), e);
                }
                integrity.reportCorrupt(number, "RocksDB: " + e.getMessage(), filesHolding(key));
                return Optional.empty();
            }
            if (value == null) {
                BlockRange now = range;
                if (now == null || !now.contains(number)) {
                    return Optional.empty(); // pruned meanwhile
                }
                integrity.reportCorrupt(number, "missing although the store holds " + now, filesHolding(key));
                return Optional.empty();
            }
            try {
                return Optional.of(BlockIntegrity.check(number, value, genesis.hash()));
            } catch (BlockIntegrity.CorruptRecordException e) {
                integrity.reportCorrupt(number, "the record " + e.getMessage(), filesHolding(key));
                return Optional.empty();
            }
        } finally {
            lifecycle.readLock().unlock();
        }
    }

    @Override
    public void append(FinalBlock block) {
        appendAll(List.of(block));
    }

    @Override
    public void appendAll(List<FinalBlock> blocks) {
        lifecycle.readLock().lock();
        try {
            checkOpen();
            synchronized (writeLock) {
                BlockRules.Plan plan = BlockRules.plan(
                        genesis, range, blocks, n -> get(db, blocksCf, blockKey(n), dir), dir.toString());
                if (plan.writes().isEmpty()) {
                    return;
                }
                try (WriteBatch batch = new WriteBatch()) {
                    for (BlockRules.Write w : plan.writes()) {
                        batch.put(blocksCf, blockKey(w.number()), w.encoded());
                    }
                    write(batch);
                } catch (RocksDBException e) {
                    throw new StorageException(
                            "cannot write blocks " + plan.writes().getFirst().number() + ".."
                                    + plan.writes().getLast().number() + " to " + dir + ": " + e.getMessage(),
                            e);
                }
                range = plan.range();
            }
        } finally {
            lifecycle.readLock().unlock();
        }
    }

    @Override
    public void pruneBelow(long number) {
        lifecycle.readLock().lock();
        try {
            checkOpen();
            synchronized (writeLock) {
                BlockRange r = range;
                if (r == null || number <= r.first()) {
                    return;
                }
                long newFirst = Math.min(number, r.last());
                try (WriteBatch batch = new WriteBatch()) {
                    batch.deleteRange(blocksCf, blockKey(r.first()), blockKey(newFirst));
                    db.write(syncWrite, batch);
                } catch (RocksDBException e) {
                    throw new StorageException(
                            "cannot prune blocks " + r.first() + ".." + (newFirst - 1) + " in " + dir + ": "
                                    + e.getMessage(),
                            e);
                }
                range = new BlockRange(newFirst, r.last());
                integrity.forgetBelow(newFirst);
                log.debug("Pruned blocks {}..{} in {}", r.first(), newFirst - 1, dir);
            }
        } finally {
            lifecycle.readLock().unlock();
        }
    }

    @Override
    public SortedSet<Long> corruptBlocks() {
        return integrity.corrupt();
    }

    @Override
    public long corruptBlocksFound() {
        return integrity.found();
    }

    @Override
    public void repair(FinalBlock block) {
        lifecycle.readLock().lock();
        try {
            checkOpen();
            synchronized (writeLock) {
                long n = block.number();
                BlockRules.checkStructure(genesis, block, dir.toString());
                if (!integrity.isCorrupt(n)) {
                    BlockRules.checkIntactCopy(
                            genesis, range, block, m -> get(db, blocksCf, blockKey(m), dir), dir.toString());
                    return;
                }
                try {
                    db.put(blocksCf, syncWrite, blockKey(n), Codec.encode(block));
                } catch (RocksDBException e) {
                    throw new StorageException("cannot write block " + n + " to " + dir + ": " + e.getMessage(), e);
                }
                integrity.repaired(n);
                for (LiveFileMetaData f : blockFiles()) {
                    if (holds(f, blockKey(n))) {
                        dropIfDamaged(f);
                    }
                }
            }
        } finally {
            lifecycle.readLock().unlock();
        }
    }

    /**
     * Drops a damaged SST file once each of its blocks has a good copy. A repaired block shadows its damaged copy,
     * but the file would still fail every compaction that reads it, and RocksDB would then stop all writes. So when
     * the file's blocks all read well (the damaged ones repaired), they are written again, newer than the file, and
     * the file is deleted. A block of it found corrupt now is reported; it is retried after that block's repair. A
     * file in level 0 cannot be deleted this way (RocksDB deletes files by range from level 1 down): it is only
     * reported. Called under the write lock.
     */
    private void dropIfDamaged(LiveFileMetaData f) {
        String file = fileName(f);
        long first = ByteBuffer.wrap(f.smallestKey()).getLong();
        long last = ByteBuffer.wrap(f.largestKey()).getLong();
        if (!integrity.corrupt().subSet(first, true, last, true).isEmpty()) {
            return; // blocks of it still wait for a good copy
        }
        try (WriteBatch rewrite = new WriteBatch()) {
            boolean damaged = false;
            for (long n = first; n <= last; n++) {
                try {
                    byte[] value = db.get(blocksCf, verifiedRead, blockKey(n));
                    if (value != null) {
                        rewrite.put(blocksCf, blockKey(n), value);
                    }
                } catch (RocksDBException e) {
                    if (!isCorruption(e)) {
                        throw e;
                    }
                    integrity.reportCorrupt(n, "RocksDB: " + e.getMessage(), file);
                    damaged = true;
                }
            }
            if (damaged || f.level() == 0) {
                if (f.level() == 0 && !damaged) {
                    log.warn("The damaged file {} is in level 0 and cannot be dropped while the node runs", file);
                }
                return;
            }
            long before = db.getLatestSequenceNumber();
            db.write(syncWrite, rewrite);
            for (LiveFileMetaData g : blockFiles()) {
                boolean within = Arrays.compareUnsigned(f.smallestKey(), g.smallestKey()) <= 0
                        && Arrays.compareUnsigned(g.largestKey(), f.largestKey()) <= 0;
                if (g.level() > 0 && within && g.largestSeqno() > before) {
                    return; // the rewrite already reached a file the deletion would take: keep everything
                }
            }
            db.deleteFilesInRanges(blocksCf, List.of(f.smallestKey(), f.largestKey()), true);
            log.info("Dropped the damaged file {} after writing its blocks {}..{} again", file, first, last);
        } catch (RocksDBException e) {
            throw new StorageException(
                    "cannot rewrite the blocks of the damaged file " + file + ": " + e.getMessage(), e);
        }
    }

    private List<LiveFileMetaData> blockFiles() {
        return db.getLiveFilesMetaData().stream()
                .filter(f -> Arrays.equals(f.columnFamilyName(), ascii(BLOCKS_CF)))
                .toList();
    }

    private static boolean holds(LiveFileMetaData f, byte[] key) {
        return Arrays.compareUnsigned(f.smallestKey(), key) <= 0 && Arrays.compareUnsigned(key, f.largestKey()) <= 0;
    }

    private String fileName(LiveFileMetaData f) {
        return dir.resolve(f.fileName().replaceFirst("^/", "")) + " (level " + f.level() + ")";
    }

    static boolean isCorruption(RocksDBException e) {
        return e.getStatus() != null && e.getStatus().getCode() == Status.Code.Corruption;
    }

    /** The RocksDB files whose key range holds {@code key} in the blocks column family, for reports. */
    private String filesHolding(byte[] key) {
        List<String> files = blockFiles().stream()
                .filter(f -> holds(f, key))
                .map(this::fileName)
                .toList();
        return files.isEmpty() ? "memory, not yet flushed to a file" : String.join(", ", files);
    }

    @Override
    public Optional<ReplicaState> replicaState() {
        checkOpen();
        return Optional.ofNullable(replicaState);
    }

    @Override
    public void persistReplicaState(ReplicaState state) {
        Objects.requireNonNull(state, "state");
        byte[] encoded = Codec.encode(state);
        lifecycle.readLock().lock();
        try {
            checkOpen();
            synchronized (writeLock) {
                try (WriteBatch batch = new WriteBatch()) {
                    batch.put(stateCf, REPLICA_STATE_KEY, encoded);
                    batch.put(stateCf, REPLICA_STATE_CRC_KEY, crc32c(encoded));
                    write(batch);
                } catch (RocksDBException e) {
                    throw new StorageException("cannot write the replica state to " + dir + ": " + e.getMessage(), e);
                }
                replicaState = state;
            }
        } finally {
            lifecycle.readLock().unlock();
        }
    }

    @Override
    public void close() {
        lifecycle.writeLock().lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            syncWrite.close();
            logWrite.close();
            verifiedRead.close();
            closeAll(db, handles, cfOptions, dbOptions);
            log.info("Closed storage in {}", dir);
        } finally {
            lifecycle.writeLock().unlock();
        }
    }

    private static final class OpenGroup {
        final RocksStorage storage;
        boolean pending;

        OpenGroup(RocksStorage storage) {
            this.storage = storage;
        }
    }

    /** This thread's open sync group on this storage, or null. */
    private OpenGroup openGroup() {
        OpenGroup g = GROUP.get();
        return g != null && g.storage == this ? g : null;
    }

    /** A block or replica state write: synced, or in this thread's sync group only logged. */
    private void write(WriteBatch batch) throws RocksDBException {
        OpenGroup g = openGroup();
        if (g == null) {
            db.write(syncWrite, batch);
            syncs.incrementAndGet();
        } else {
            db.write(logWrite, batch);
            g.pending = true;
        }
    }

    /** {@inheritDoc} A thread has one group open at a time: inside one, of any storage, this returns none. */
    @Override
    public SyncGroup syncGroup() {
        if (GROUP.get() != null) {
            return SyncGroup.NONE;
        }
        GROUP.set(new OpenGroup(this));
        return () -> {
            try {
                syncGroupNow();
            } finally {
                GROUP.remove();
            }
        };
    }

    @Override
    public void syncGroupNow() {
        OpenGroup g = openGroup();
        if (g == null || !g.pending) {
            return;
        }
        lifecycle.readLock().lock();
        try {
            checkOpen();
            db.syncWal();
            syncs.incrementAndGet();
            g.pending = false;
        } catch (RocksDBException e) {
            throw new StorageException("cannot sync the write-ahead log in " + dir + ": " + e.getMessage(), e);
        } finally {
            lifecycle.readLock().unlock();
        }
    }

    @Override
    public long syncs() {
        return syncs.get();
    }

    private void checkOpen() {
        if (closed) {
            throw new StorageException("storage in " + dir + " is closed");
        }
    }

    @Override
    public String toString() {
        return "RocksStorage(" + dir + ", " + (range == null ? "no blocks" : range) + ")";
    }
}
