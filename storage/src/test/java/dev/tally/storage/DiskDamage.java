package dev.tally.storage;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.FlushOptions;
import org.rocksdb.RocksDBException;

/**
 * Damage as a disk does it, deterministically: a storage directory's data is flushed and compacted into SST files,
 * then one bit is flipped inside the bytes of a chosen record, in the SST's data region. For tests of the
 * integrity checks, on a closed storage.
 */
public final class DiskDamage {
    private static final int WINDOW = 24;

    private DiskDamage() {}

    /** Where a bit was flipped. */
    public record Flip(Path file, long offset) {}

    /** Flushes every column family of the (closed) storage in {@code dir} and compacts it into SST files. */
    public static void compact(Path dir) {
        try (RawRocks raw = new RawRocks(dir);
                FlushOptions wait = new FlushOptions().setWaitForFlush(true)) {
            for (String cf : List.of("default", RocksStorage.BLOCKS_CF, RocksStorage.STATE_CF)) {
                ColumnFamilyHandle h = raw.cf(cf);
                raw.db().flush(wait, h);
                raw.db().compactRange(h);
            }
        } catch (RocksDBException e) {
            throw new IllegalStateException("cannot compact " + dir + ": " + e.getMessage(), e);
        }
    }

    /** Flips one bit inside block {@code number}'s stored bytes; the storage must be closed and compacted. */
    public static Flip flipBlock(Path dir, long number) {
        try (RawRocks raw = new RawRocks(dir)) {
            return flipInside(dir, raw, RocksStorage.BLOCKS_CF, RocksStorage.blockKey(number));
        } catch (RocksDBException e) {
            throw new IllegalStateException("cannot read block " + number + " in " + dir + ": " + e.getMessage(), e);
        }
    }

    /** Flips one bit inside the replica state's stored bytes; the storage must be closed and compacted. */
    public static Flip flipReplicaState(Path dir) {
        try (RawRocks raw = new RawRocks(dir)) {
            return flipInside(dir, raw, RocksStorage.STATE_CF, RocksStorage.REPLICA_STATE_KEY);
        } catch (RocksDBException e) {
            throw new IllegalStateException("cannot read the replica state in " + dir + ": " + e.getMessage(), e);
        }
    }

    /**
     * Flips a bit in the middle of the first window of the record's bytes that no other record holds and that occurs
     * exactly once among the SST files: then it is the record's own bytes (the files may be compressed, where a
     * window shared with other records could appear once, as theirs; signatures do not compress).
     */
    private static Flip flipInside(Path dir, RawRocks raw, String cf, byte[] key) throws RocksDBException {
        byte[] record = raw.get(cf, key);
        if (record == null) {
            throw new IllegalArgumentException("no such record in " + dir);
        }
        List<byte[]> others = raw.valuesExcept(cf, key);
        try {
            List<Path> ssts;
            try (Stream<Path> files = Files.list(dir)) {
                ssts = files.filter(f -> f.toString().endsWith(".sst")).sorted().toList();
            }
            List<byte[]> contents = new ArrayList<>();
            for (Path f : ssts) {
                contents.add(Files.readAllBytes(f));
            }
            for (int start = 0; start + WINDOW <= record.length; start++) {
                byte[] window = Arrays.copyOfRange(record, start, start + WINDOW);
                if (others.stream().anyMatch(o -> !occurrences(o, window).isEmpty())) {
                    continue;
                }
                List<Flip> hits = new ArrayList<>();
                for (int i = 0; i < ssts.size(); i++) {
                    for (int at : occurrences(contents.get(i), window)) {
                        hits.add(new Flip(ssts.get(i), at + WINDOW / 2));
                    }
                }
                if (hits.size() == 1) {
                    Flip flip = hits.getFirst();
                    byte[] bytes = contents.get(ssts.indexOf(flip.file()));
                    bytes[(int) flip.offset()] ^= 0x10;
                    Files.write(flip.file(), bytes);
                    return flip;
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        throw new IllegalStateException("the record's bytes are not found once in the SST files of " + dir);
    }

    private static List<Integer> occurrences(byte[] haystack, byte[] needle) {
        List<Integer> at = new ArrayList<>();
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            at.add(i);
        }
        return at;
    }
}
