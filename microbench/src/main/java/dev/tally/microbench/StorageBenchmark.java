package dev.tally.microbench;

import dev.tally.protocol.CommitQC;
import dev.tally.protocol.FinalBlock;
import dev.tally.protocol.Payload;
import dev.tally.protocol.Phase;
import dev.tally.protocol.Proposal;
import dev.tally.protocol.ReplicaCommit;
import dev.tally.protocol.ReplicaState;
import dev.tally.storage.RocksStorage;
import dev.tally.storage.SyncGroup;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Durable writes through {@link RocksStorage}, each synced (fsync) before it returns. Blocks are final blocks of a
 * six-validator chain (commit QC of 5 signers) with distinct random payloads; appending one includes what
 * RocksStorage does per block (payload keccak-256 against the QC header, canonical encoding, the synced write).
 *
 * <p>Blocks must be appended in order, each once, so the append benchmarks run in single-shot mode: every
 * iteration opens a new database, gets freshly built blocks, and times a fixed batch of calls (the score is
 * the time of the whole batch; see the batch sizes below). persistReplicaState overwrites one key and runs in
 * average-time mode. The database lives under {@code -Dtally.bench.dir} (default: java.io.tmpdir); pass it with
 * {@code -jvmArgsAppend -Dtally.bench.dir=/path} to measure another disk.
 */
@Fork(1)
public class StorageBenchmark {
    static final int ONE_KIB_BATCH = 200;
    static final int ONE_MIB_BATCH = 20;
    static final int APPEND_ALL_BATCH = 5;
    static final int APPEND_ALL_SIZE = 100;

    /** A fresh database per iteration, and the blocks the iteration will append, in order. */
    public abstract static class Db {
        BenchChain chain;
        Path dir;
        RocksStorage storage;
        List<FinalBlock> blocks;
        int next;

        @Setup(Level.Trial)
        public void chain() {
            chain = new BenchChain(6);
        }

        void open(int count, int payloadBytes) throws IOException {
            Path base = Paths.get(System.getProperty("tally.bench.dir", System.getProperty("java.io.tmpdir")));
            Files.createDirectories(base);
            dir = Files.createTempDirectory(base, "tally-bench-storage-");
            storage = RocksStorage.open(dir, chain.genesis);
            blocks = new ArrayList<>(count);
            long seed = System.nanoTime();
            for (int i = 0; i < count; i++) {
                Payload p = BenchChain.payload(payloadBytes, seed + i);
                CommitQC qc = chain.commitQc(chain.vote(i + 1, i, p));
                blocks.add(new FinalBlock(p, qc));
            }
            next = 0;
        }

        @TearDown(Level.Iteration)
        public void close() throws IOException {
            if (storage != null) {
                storage.close();
                storage = null;
            }
            if (dir != null) {
                try (Stream<Path> files = Files.walk(dir)) {
                    for (Path f : files.sorted(Comparator.reverseOrder()).toList()) {
                        Files.deleteIfExists(f);
                    }
                }
                dir = null;
            }
        }
    }

    /** Blocks for {@link #append1KiB}: one batch of single appends per iteration. */
    @State(Scope.Thread)
    public static class Append1KiBDb extends Db {
        @Setup(Level.Iteration)
        public void open() throws IOException {
            open(ONE_KIB_BATCH, 1024);
        }
    }

    /** Blocks for {@link #append1MiB}: one batch of single appends per iteration. */
    @State(Scope.Thread)
    public static class Append1MiBDb extends Db {
        @Setup(Level.Iteration)
        public void open() throws IOException {
            open(ONE_MIB_BATCH, 1 << 20);
        }
    }

    /** Blocks for {@link #appendAll100}: {@value #APPEND_ALL_BATCH} calls of {@value #APPEND_ALL_SIZE} blocks. */
    @State(Scope.Thread)
    public static class AppendAllDb extends Db {
        List<List<FinalBlock>> batches;

        @Setup(Level.Iteration)
        public void open() throws IOException {
            open(APPEND_ALL_BATCH * APPEND_ALL_SIZE, 1024);
            batches = new ArrayList<>();
            for (int i = 0; i < APPEND_ALL_BATCH; i++) {
                batches.add(blocks.subList(i * APPEND_ALL_SIZE, (i + 1) * APPEND_ALL_SIZE));
            }
        }
    }

    /**
     * One synced append per call, 1 KiB payload. The score is a batch of {@value #ONE_KIB_BATCH} calls: divide
     * by it for the time per block. (JMH's -bs overrides the batch size; keep it at or below the blocks built.)
     */
    @Benchmark
    @BenchmarkMode(Mode.SingleShotTime)
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    @Warmup(iterations = 2, batchSize = ONE_KIB_BATCH)
    @Measurement(iterations = 5, batchSize = ONE_KIB_BATCH)
    public void append1KiB(Append1KiBDb db) {
        db.storage.append(db.blocks.get(db.next++));
    }

    /** One synced append per call, 1 MiB payload. The score is a batch of {@value #ONE_MIB_BATCH} calls. */
    @Benchmark
    @BenchmarkMode(Mode.SingleShotTime)
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    @Warmup(iterations = 2, batchSize = ONE_MIB_BATCH)
    @Measurement(iterations = 5, batchSize = ONE_MIB_BATCH)
    public void append1MiB(Append1MiBDb db) {
        db.storage.append(db.blocks.get(db.next++));
    }

    /** {@value #APPEND_ALL_SIZE} blocks in one synced write batch; the score is {@value #APPEND_ALL_BATCH} such calls. */
    @Benchmark
    @BenchmarkMode(Mode.SingleShotTime)
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    @Warmup(iterations = 2, batchSize = APPEND_ALL_BATCH)
    @Measurement(iterations = 5, batchSize = APPEND_ALL_BATCH)
    public void appendAll100(AppendAllDb db) {
        db.storage.appendAll(db.batches.get(db.next++));
    }

    /** Blocks for the commit step benchmarks, and the state the replica persists after each. */
    @State(Scope.Thread)
    public static class CommitStepDb extends Db {
        ReplicaState state;

        @Setup(Level.Iteration)
        public void open() throws IOException {
            open(ONE_KIB_BATCH, 1024);
            state = StateDb.runningState(chain);
        }
    }

    /**
     * A commit QC's storage work as the replica loop did it before sync groups: the final block (1 KiB payload) and
     * then the next view's state, each synced. The score is a batch of {@value #ONE_KIB_BATCH} such steps.
     */
    @Benchmark
    @BenchmarkMode(Mode.SingleShotTime)
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    @Warmup(iterations = 2, batchSize = ONE_KIB_BATCH)
    @Measurement(iterations = 5, batchSize = ONE_KIB_BATCH)
    public void commitStepSyncedApart(CommitStepDb db) {
        db.storage.append(db.blocks.get(db.next++));
        db.storage.persistReplicaState(db.state);
    }

    /** The same step in one sync group, as the replica loop does it: one sync for both writes. */
    @Benchmark
    @BenchmarkMode(Mode.SingleShotTime)
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    @Warmup(iterations = 2, batchSize = ONE_KIB_BATCH)
    @Measurement(iterations = 5, batchSize = ONE_KIB_BATCH)
    public void commitStepInOneSyncGroup(CommitStepDb db) {
        SyncGroup group = db.storage.syncGroup();
        try {
            db.storage.append(db.blocks.get(db.next++));
            db.storage.persistReplicaState(db.state);
        } finally {
            group.close();
        }
    }

    /** A replica state as a running replica persists it: high vote, high commit QC and one pending proposal. */
    @State(Scope.Thread)
    public static class StateDb {
        Path dir;
        RocksStorage storage;
        ReplicaState state;

        @Setup(Level.Trial)
        public void open() throws IOException {
            BenchChain chain = new BenchChain(6);
            Path base = Paths.get(System.getProperty("tally.bench.dir", System.getProperty("java.io.tmpdir")));
            Files.createDirectories(base);
            dir = Files.createTempDirectory(base, "tally-bench-state-");
            storage = RocksStorage.open(dir, chain.genesis);
            state = runningState(chain);
        }

        static ReplicaState runningState(BenchChain chain) {
            Payload p1 = BenchChain.payload(1024, 1);
            Payload p2 = BenchChain.payload(1024, 2);
            CommitQC qc = chain.commitQc(chain.vote(4, 1, p1));
            ReplicaCommit vote = chain.vote(5, 2, p2);
            return new ReplicaState(
                    0,
                    5,
                    Phase.COMMIT,
                    Optional.of(vote),
                    Optional.of(qc),
                    Optional.empty(),
                    List.of(new Proposal(2, p2)));
        }

        @TearDown(Level.Trial)
        public void close() throws IOException {
            storage.close();
            try (Stream<Path> files = Files.walk(dir)) {
                for (Path f : files.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(f);
                }
            }
        }
    }

    /** One synced overwrite of the replica state (what precedes every vote). */
    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    @Warmup(iterations = 3, time = 1)
    @Measurement(iterations = 5, time = 1)
    public void persistReplicaState(StateDb db) {
        db.storage.persistReplicaState(db.state);
    }
}
