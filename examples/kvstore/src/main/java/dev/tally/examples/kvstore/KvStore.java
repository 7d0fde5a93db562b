package dev.tally.examples.kvstore;

import dev.tally.crypto.Keccak256;
import dev.tally.execution.Application;
import dev.tally.execution.AppliedState;
import dev.tally.execution.PayloadVerdict;
import dev.tally.execution.TxCheck;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.rocksdb.Options;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteOptions;

/**
 * A replicated key-value store, the example application: {@link KvTx} transactions, state in RocksDB (each block
 * written in one synced batch with the block number and root, so a crash leaves a block applied wholly or not at
 * all), and a state root over the whole store.
 *
 * <p>The root is the sum, modulo 2^256, of keccak-256(key length, key, value) over every entry: a function of the
 * store's content alone (not of the order of writes), updated per write in constant time. It is an example's root:
 * it identifies the state for comparison between honest nodes, it is not a proof structure.
 *
 * <p>Queries: {@code kv_get} (param {@code key}: the value as text, or null) and {@code kv_root} (the last applied
 * block and the root).
 */
public final class KvStore implements Application, AutoCloseable {
    private static final BigInteger MODULUS = BigInteger.ONE.shiftLeft(256);
    private static final byte[] APPLIED = "meta/applied".getBytes(StandardCharsets.US_ASCII);
    private static final byte DATA = 'd';

    static {
        RocksDB.loadLibrary();
    }

    private final Options options;
    private final RocksDB db;
    private final WriteOptions synced = new WriteOptions().setSync(true);
    private volatile Optional<AppliedState> applied;

    private KvStore(Options options, RocksDB db) throws RocksDBException {
        this.options = options;
        this.db = db;
        byte[] meta = db.get(APPLIED);
        this.applied = meta == null
                ? Optional.empty()
                : Optional.of(new AppliedState(
                        ByteBuffer.wrap(meta).getLong(), Arrays.copyOfRange(meta, Long.BYTES, meta.length)));
    }

    /** Opens (or creates) the store in {@code dir}. */
    public static KvStore open(Path dir) {
        try {
            Files.createDirectories(dir);
            Options options = new Options().setCreateIfMissing(true);
            try {
                return new KvStore(options, RocksDB.open(options, dir.toString()));
            } catch (RocksDBException e) {
                options.close();
                throw e;
            }
        } catch (RocksDBException | java.io.IOException e) {
            throw new IllegalStateException("kvstore in " + dir + ": " + e.getMessage(), e);
        }
    }

    @Override
    public Optional<AppliedState> lastApplied() {
        return applied;
    }

    @Override
    public TxCheck checkTx(byte[] transaction) {
        try {
            KvTx.parse(transaction);
            return TxCheck.ok();
        } catch (IllegalArgumentException e) {
            return TxCheck.refused(e.getMessage());
        }
    }

    @Override
    public PayloadVerdict verifyBlock(long blockNumber, List<byte[]> transactions) {
        for (int i = 0; i < transactions.size(); i++) {
            try {
                KvTx.parse(transactions.get(i));
            } catch (IllegalArgumentException e) {
                return PayloadVerdict.invalid("transaction " + i + ": " + e.getMessage());
            }
        }
        return PayloadVerdict.valid();
    }

    @Override
    public byte[] applyBlock(long blockNumber, List<byte[]> transactions) {
        BigInteger root = applied.map(s -> new BigInteger(1, s.root())).orElse(BigInteger.ZERO);
        // The block's writes so far, by key (null: deleted), so a key written twice in a block reads its own write.
        Map<ByteBuffer, byte[]> writes = new LinkedHashMap<>();
        try (WriteBatch batch = new WriteBatch()) {
            for (byte[] tx : transactions) {
                KvTx t = KvTx.parse(tx); // a final block was verified: a failure here is a bug, and stops the node
                byte[] dataKey = dataKey(t.key());
                ByteBuffer k = ByteBuffer.wrap(dataKey);
                byte[] old = writes.containsKey(k) ? writes.get(k) : db.get(dataKey);
                if (old != null) {
                    root = root.subtract(entryHash(t.key(), old));
                }
                if (t instanceof KvTx.Set s) {
                    root = root.add(entryHash(t.key(), s.value()));
                    batch.put(dataKey, s.value());
                    writes.put(k, s.value());
                } else {
                    batch.delete(dataKey);
                    writes.put(k, null);
                }
            }
            byte[] rootBytes = toBytes(root.mod(MODULUS));
            batch.put(
                    APPLIED,
                    ByteBuffer.allocate(Long.BYTES + rootBytes.length)
                            .putLong(blockNumber)
                            .put(rootBytes)
                            .array());
            db.write(synced, batch);
            applied = Optional.of(new AppliedState(blockNumber, rootBytes));
            return rootBytes;
        } catch (RocksDBException e) {
            throw new IllegalStateException("kvstore write of block " + blockNumber + ": " + e.getMessage(), e);
        }
    }

    private static byte[] dataKey(byte[] key) {
        byte[] k = new byte[key.length + 1];
        k[0] = DATA;
        System.arraycopy(key, 0, k, 1, key.length);
        return k;
    }

    private static BigInteger entryHash(byte[] key, byte[] value) {
        byte[] entry = ByteBuffer.allocate(4 + key.length + value.length)
                .putInt(key.length)
                .put(key)
                .put(value)
                .array();
        return new BigInteger(1, Keccak256.of(entry).bytes());
    }

    /** 32 bytes, big-endian. */
    private static byte[] toBytes(BigInteger v) {
        byte[] raw = v.toByteArray();
        byte[] out = new byte[32];
        int n = Math.min(raw.length, 32);
        System.arraycopy(raw, raw.length - n, out, 32 - n, n);
        return out;
    }

    /** The value of {@code key}, if set. */
    public Optional<byte[]> get(byte[] key) {
        try {
            return Optional.ofNullable(db.get(dataKey(key)));
        } catch (RocksDBException e) {
            throw new IllegalStateException("kvstore read: " + e.getMessage(), e);
        }
    }

    @Override
    public Set<String> queryMethods() {
        return Set.of("kv_get", "kv_root");
    }

    @Override
    public Object query(String method, Map<String, String> params) {
        return switch (method) {
            case "kv_get" -> {
                String key = params.getOrDefault("key", params.get("0"));
                if (key == null) {
                    throw new IllegalArgumentException("missing param \"key\"");
                }
                yield get(key.getBytes(StandardCharsets.UTF_8))
                        .map(v -> new String(v, StandardCharsets.UTF_8))
                        .orElse(null);
            }
            case "kv_root" -> {
                Map<String, Object> answer = new HashMap<>();
                answer.put("block", applied.map(AppliedState::block).orElse(null));
                answer.put(
                        "root",
                        HexFormat.of().formatHex(applied.map(AppliedState::root).orElse(new byte[32])));
                yield answer;
            }
            default -> throw new IllegalArgumentException("no query method " + method);
        };
    }

    @Override
    public void close() {
        db.close();
        synced.close();
        options.close();
    }
}
