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
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.DBOptions;
import org.rocksdb.Options;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
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
 *   <li>column family {@code state}: the replica state under the key {@code replica_state}, canonical encoding.</li>
 * </ul>
 * Every write (append, prune, replica state) is one {@link WriteBatch} written with {@code sync = true}: it is on
 * disk when the call returns, and after a crash either all of it or none of it is there.
 *
 * <h2>Start-up checks</h2>
 * {@link #open} refuses, with a {@link StorageException} naming the problem and the path, and without writing
 * anything: a path that is a file or not writable; a directory locked by another process (RocksDB's
 * {@code LOCK}); a database of a newer format version or of another genesis; missing or undecodable metadata
 * next to data; a last (or first) block or a replica state that does not decode.
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

    private static final Logger log = LoggerFactory.getLogger(RocksStorage.class);

    static {
        RocksDB.loadLibrary();
    }

    private final Path dir;
    private final Genesis genesis;
    private final RocksDB db;
    private final DBOptions dbOptions;
    private final ColumnFamilyOptions cfOptions;
    private final WriteOptions syncWrite;
    private final List<ColumnFamilyHandle> handles;
    private final ColumnFamilyHandle blocksCf;
    private final ColumnFamilyHandle stateCf;
    private final ReentrantReadWriteLock lifecycle = new ReentrantReadWriteLock();
    private final Object writeLock = new Object();
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
                .setKeepLogFileNum(4);
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
        ReplicaState state = null;
        byte[] stateBytes = get(db, stateCf, REPLICA_STATE_KEY, path);
        if (stateBytes != null) {
            try {
                state = Codec.decodeReplicaState(stateBytes);
            } catch (DecodeException e) {
                throw new StorageException(
                        "record state/replica_state in " + path + " cannot be decoded: " + e.getMessage(), e);
            }
        }
        log.info(
                "Opened storage in {} for {}: {}, replica state {}",
                path,
                genesis.hash(),
                range == null ? "no blocks" : range,
                state == null ? "none" : "at view " + state.view());
        return new RocksStorage(path, genesis, db, dbOptions, cfOptions, handles, blocksCf, stateCf, range, state);
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
            first = checkedBlock(it.key(), it.value(), path).number();
            it.seekToLast();
            if (!it.isValid()) {
                checkIterator(it, path);
                throw new StorageException("cannot read the last block in " + path);
            }
            last = checkedBlock(it.key(), it.value(), path).number();
        }
        if (first < genesis.firstBlock()) {
            throw new StorageException("data directory " + path + " holds block " + first
                    + ", before the genesis' first block " + genesis.firstBlock());
        }
        return new BlockRange(first, last);
    }

    private static FinalBlock checkedBlock(byte[] key, byte[] value, Path path) {
        if (key.length != 8) {
            throw new StorageException("record blocks/" + HexFormat.of().formatHex(key) + " in " + path
                    + " has a malformed key (" + key.length + " bytes, expected 8)");
        }
        long number = ByteBuffer.wrap(key).getLong();
        FinalBlock block;
        try {
            block = Codec.decodeFinalBlock(value);
        } catch (DecodeException e) {
            throw new StorageException(
                    "record blocks/" + HexFormat.of().formatHex(key) + " (block " + number + ") in " + path
                            + " cannot be decoded: " + e.getMessage(),
                    e);
        }
        if (block.number() != number) {
            throw new StorageException("record blocks/" + HexFormat.of().formatHex(key) + " in " + path
                    + " holds block " + block.number() + " under the key of block " + number);
        }
        return block;
    }

    private static void checkIterator(RocksIterator it, Path path) {
        try {
            it.status();
        } catch (RocksDBException e) {
            throw new StorageException("cannot read blocks in " + path + ": " + e.getMessage(), e);
        }
    }

    private static List<byte[]> existingColumnFamilies(Path path) {
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

    private static StorageException translateOpenFailure(Path path, RocksDBException e) {
        String message = String.valueOf(e.getMessage());
        if (message.toLowerCase(Locale.ROOT).contains("lock")) {
            return new StorageException(
                    "data directory " + path + " is in use: another process (or another open "
                            + "storage in this one) holds its lock " + path.resolve("LOCK") + " (" + message + ")",
                    e);
        }
        return new StorageException("cannot open the database in " + path + ": " + message, e);
    }

    private static ColumnFamilyHandle find(List<ColumnFamilyHandle> handles, List<byte[]> names, String name) {
        for (int i = 0; i < names.size(); i++) {
            if (Arrays.equals(names.get(i), ascii(name))) {
                return handles.get(i);
            }
        }
        return null;
    }

    private static byte[] get(RocksDB db, ColumnFamilyHandle cf, byte[] key, Path path) {
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

    private static byte[] ascii(String s) {
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
            byte[] key = blockKey(number);
            byte[] value = get(db, blocksCf, key, dir);
            if (value == null) {
                BlockRange now = range;
                if (now == null || !now.contains(number)) {
                    return Optional.empty(); // pruned meanwhile
                }
                throw new StorageException("block " + number + " is missing from " + dir + " although it holds " + now);
            }
            return Optional.of(checkedBlock(key, value, dir));
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
                    db.write(syncWrite, batch);
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
                log.debug("Pruned blocks {}..{} in {}", r.first(), newFirst - 1, dir);
            }
        } finally {
            lifecycle.readLock().unlock();
        }
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
                try {
                    db.put(stateCf, syncWrite, REPLICA_STATE_KEY, encoded);
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
            closeAll(db, handles, cfOptions, dbOptions);
            log.info("Closed storage in {}", dir);
        } finally {
            lifecycle.writeLock().unlock();
        }
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
