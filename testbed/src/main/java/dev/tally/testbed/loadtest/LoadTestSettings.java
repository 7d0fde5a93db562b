package dev.tally.testbed.loadtest;

import java.util.List;
import java.util.Locale;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * What a {@link LoadTest} runs, as {@code tally bench}'s options give it; build one with {@link #builder()}. A smoke run
 * ({@code smoke}) has a 2 s warm-up and an 8 s window whatever the settings say.
 *
 * @param inProcess every node in this JVM (or, with {@code jvms} above 1, in that many child JVMs) instead of one
 *     process each
 * @param startTimeoutSeconds how long the network may take to finalize its first block (default: 120, or 4 s per
 *     validator if more)
 * @param senders client threads (default: one per node, at most 6)
 * @param nodeJvmOptions extra JVM options of each node process (of each child JVM with {@code jvms} above 1)
 * @param emptyBlockIntervalMs the nodes' {@code empty_block_interval_ms} (default: the node's default; 0 makes empty
 *     blocks as fast as the network can, to measure its block rate)
 * @param client how the senders hand transactions to node processes (default: the binary batch path)
 * @param batchIntervalMs how long a sender holds a batch open, at most, for more transactions to fall due (default:
 *     10; 0 sends each transaction as soon as it is due)
 * @param unloadedSeconds seconds without load after the first block, before the senders start: the blocks/s that an
 *     overload run's are compared with (0: none)
 * @param drainSeconds how long, after the load, the harness waits for every accepted transaction to be final
 */
public record LoadTestSettings(
        int validators,
        boolean inProcess,
        int jvms,
        Storage storage,
        int payloadLimit,
        int txSize,
        long rate,
        boolean openLoop,
        int durationSeconds,
        int warmupSeconds,
        long viewTimeoutMs,
        OptionalLong startTimeoutSeconds,
        OptionalInt senders,
        List<String> nodeJvmOptions,
        boolean smoke,
        OptionalLong emptyBlockIntervalMs,
        Client client,
        long batchIntervalMs,
        int unloadedSeconds,
        int drainSeconds) {
    /** The nodes' storage. */
    public enum Storage {
        ROCKSDB,
        MEMORY;

        /** The name {@code --storage} takes. */
        public String cliName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** How transactions reach a node process: one binary {@code POST /txs} per batch, or a JSON-RPC batch of push_tx. */
    public enum Client {
        BINARY,
        JSON_RPC;

        /** The name {@code --client} takes. */
        public String cliName() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }
    }

    public LoadTestSettings {
        nodeJvmOptions = List.copyOf(nodeJvmOptions);
        if (smoke) {
            warmupSeconds = 2;
            durationSeconds = 8;
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Settings by name ({@code tally bench} sets every one from its options); a number not set is 0. */
    public static final class Builder {
        private int validators;
        private boolean inProcess;
        private int jvms = 1;
        private Storage storage = Storage.ROCKSDB;
        private int payloadLimit;
        private int txSize;
        private long rate;
        private boolean openLoop;
        private int durationSeconds;
        private int warmupSeconds;
        private long viewTimeoutMs;
        private OptionalLong startTimeoutSeconds = OptionalLong.empty();
        private OptionalLong emptyBlockIntervalMs = OptionalLong.empty();
        private OptionalInt senders = OptionalInt.empty();
        private List<String> nodeJvmOptions = List.of();
        private boolean smoke;
        private Client client = Client.BINARY;
        private long batchIntervalMs = 10;
        private int unloadedSeconds;
        private int drainSeconds = 10;

        private Builder() {}

        public Builder validators(int n) {
            this.validators = n;
            return this;
        }

        public Builder inProcess(boolean inProcess) {
            this.inProcess = inProcess;
            return this;
        }

        public Builder jvms(int k) {
            this.jvms = k;
            return this;
        }

        public Builder storage(Storage storage) {
            this.storage = storage;
            return this;
        }

        public Builder payloadLimit(int bytes) {
            this.payloadLimit = bytes;
            return this;
        }

        public Builder txSize(int bytes) {
            this.txSize = bytes;
            return this;
        }

        public Builder rate(long txPerSecond) {
            this.rate = txPerSecond;
            return this;
        }

        public Builder openLoop(boolean openLoop) {
            this.openLoop = openLoop;
            return this;
        }

        public Builder durationSeconds(int seconds) {
            this.durationSeconds = seconds;
            return this;
        }

        public Builder warmupSeconds(int seconds) {
            this.warmupSeconds = seconds;
            return this;
        }

        public Builder viewTimeoutMs(long ms) {
            this.viewTimeoutMs = ms;
            return this;
        }

        public Builder emptyBlockIntervalMs(OptionalLong ms) {
            this.emptyBlockIntervalMs = ms;
            return this;
        }

        public Builder startTimeoutSeconds(OptionalLong seconds) {
            this.startTimeoutSeconds = seconds;
            return this;
        }

        public Builder senders(OptionalInt threads) {
            this.senders = threads;
            return this;
        }

        public Builder nodeJvmOptions(List<String> options) {
            this.nodeJvmOptions = options;
            return this;
        }

        public Builder smoke(boolean smoke) {
            this.smoke = smoke;
            return this;
        }

        public Builder client(Client client) {
            this.client = client;
            return this;
        }

        public Builder batchIntervalMs(long ms) {
            this.batchIntervalMs = ms;
            return this;
        }

        public Builder unloadedSeconds(int seconds) {
            this.unloadedSeconds = seconds;
            return this;
        }

        public Builder drainSeconds(int seconds) {
            this.drainSeconds = seconds;
            return this;
        }

        public LoadTestSettings build() {
            return new LoadTestSettings(
                    validators,
                    inProcess,
                    jvms,
                    storage,
                    payloadLimit,
                    txSize,
                    rate,
                    openLoop,
                    durationSeconds,
                    warmupSeconds,
                    viewTimeoutMs,
                    startTimeoutSeconds,
                    senders,
                    nodeJvmOptions,
                    smoke,
                    emptyBlockIntervalMs,
                    client,
                    batchIntervalMs,
                    unloadedSeconds,
                    drainSeconds);
        }
    }
}
