package dev.tally.storage;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.DBOptions;
import org.rocksdb.Options;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;

/** A storage directory opened with plain RocksDB, to plant damage and to read what is really on disk. */
final class RawRocks implements AutoCloseable {
    static {
        RocksDB.loadLibrary();
    }

    private final DBOptions options = new DBOptions();
    private final List<byte[]> names;
    private final List<ColumnFamilyHandle> handles = new ArrayList<>();
    private final RocksDB db;

    RawRocks(Path dir) throws RocksDBException {
        try (Options o = new Options()) {
            names = RocksDB.listColumnFamilies(o, dir.toString());
        }
        List<ColumnFamilyDescriptor> ds =
                names.stream().map(ColumnFamilyDescriptor::new).toList();
        db = RocksDB.open(options, dir.toString(), ds, handles);
    }

    ColumnFamilyHandle cf(String name) {
        for (int i = 0; i < names.size(); i++) {
            if (Arrays.equals(names.get(i), name.getBytes(StandardCharsets.UTF_8))) {
                return handles.get(i);
            }
        }
        throw new IllegalArgumentException("no column family " + name);
    }

    RocksDB db() {
        return db;
    }

    byte[] get(String cf, byte[] key) throws RocksDBException {
        return db.get(cf(cf), key);
    }

    /** Every value of every column family but the one under {@code key} in {@code cf}. */
    List<byte[]> valuesExcept(String cf, byte[] key) {
        List<byte[]> values = new ArrayList<>();
        for (int i = 0; i < names.size(); i++) {
            boolean sameCf = Arrays.equals(names.get(i), cf.getBytes(StandardCharsets.UTF_8));
            try (RocksIterator it = db.newIterator(handles.get(i))) {
                for (it.seekToFirst(); it.isValid(); it.next()) {
                    if (!(sameCf && Arrays.equals(it.key(), key))) {
                        values.add(it.value());
                    }
                }
            }
        }
        return values;
    }

    void put(String cf, byte[] key, byte[] value) throws RocksDBException {
        db.put(cf(cf), key, value);
    }

    void delete(String cf, byte[] key) throws RocksDBException {
        db.delete(cf(cf), key);
    }

    @Override
    public void close() {
        handles.forEach(ColumnFamilyHandle::close);
        db.close();
        options.close();
    }
}
