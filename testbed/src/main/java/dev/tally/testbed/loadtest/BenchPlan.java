package dev.tally.testbed.loadtest;

import java.time.Duration;

/** What to run; build one with {@link #builder()}. {@code rate} 0 with {@code openLoop} false sends nothing. */
record BenchPlan(
        int txSize,
        long rate,
        boolean openLoop,
        long unloadedNanos,
        long warmupNanos,
        long durationNanos,
        long drainNanos,
        long startTimeoutNanos,
        int senders,
        int maxBatch,
        long batchIntervalNanos,
        long followWaitNanos,
        int readChunk,
        int minWindowBlocks,
        long maxExtensionNanos) {
    static Builder builder() {
        return new Builder();
    }

    /** A plan by name; a number not set is 0. */
    static final class Builder {
        private int txSize;
        private long rate;
        private boolean openLoop;
        private Duration unloaded = Duration.ZERO;
        private Duration warmup = Duration.ZERO;
        private Duration duration = Duration.ZERO;
        private Duration drain = Duration.ZERO;
        private Duration startTimeout = Duration.ZERO;
        private int senders;
        private int maxBatch;
        private Duration batchInterval = Duration.ZERO;
        private Duration followWait = Duration.ZERO;
        private int readChunk;
        private int minWindowBlocks;
        private Duration maxExtension = Duration.ZERO;

        /** Bytes of each transaction, at least {@link Bench#TX_HEADER}. */
        Builder txSize(int bytes) {
            this.txSize = bytes;
            return this;
        }

        /** Transactions per second in all. */
        Builder rate(long txPerSecond) {
            this.rate = txPerSecond;
            return this;
        }

        /** Send as fast as the nodes take transactions, instead of at {@code rate}. */
        Builder openLoop(boolean openLoop) {
            this.openLoop = openLoop;
            return this;
        }

        /** No load from the first final block on, to measure blocks/s without it; then the load starts. */
        Builder unloaded(Duration d) {
            this.unloaded = d;
            return this;
        }

        /** Load before the measurement window, from the start of the load. */
        Builder warmup(Duration d) {
            this.warmup = d;
            return this;
        }

        /** The measurement window. */
        Builder duration(Duration d) {
            this.duration = d;
            return this;
        }

        /** How long, after the load, every accepted transaction is waited for until final, at most. */
        Builder drain(Duration d) {
            this.drain = d;
            return this;
        }

        /** How long the network may take to finalize its first block. */
        Builder startTimeout(Duration d) {
            this.startTimeout = d;
            return this;
        }

        /** Client threads. */
        Builder senders(int threads) {
            this.senders = threads;
            return this;
        }

        /** Transactions a sender pushes in one call, at most. */
        Builder maxBatch(int txs) {
            this.maxBatch = txs;
            return this;
        }

        /**
         * How long a sender holds a batch open for more transactions, at most, from the time its oldest fell due (see
         * {@link SendSchedule}); zero sends each transaction as soon as it is due.
         */
        Builder batchInterval(Duration d) {
            this.batchInterval = d;
            return this;
        }

        /**
         * How long one read of node0's final blocks waits for the next block: the reader sees a block when node0
         * stores it, and stops at most this long after it is told to.
         */
        Builder followWait(Duration d) {
            this.followWait = d;
            return this;
        }

        /** Blocks the reader fetches in one call, at most. */
        Builder readChunk(int blocks) {
            this.readChunk = blocks;
            return this;
        }

        /** Blocks the window must hold: it stretches, by at most {@code maxExtension}, until it does. */
        Builder minWindowBlocks(int blocks) {
            this.minWindowBlocks = blocks;
            return this;
        }

        Builder maxExtension(Duration d) {
            this.maxExtension = d;
            return this;
        }

        BenchPlan build() {
            return new BenchPlan(
                    txSize,
                    rate,
                    openLoop,
                    unloaded.toNanos(),
                    warmup.toNanos(),
                    duration.toNanos(),
                    drain.toNanos(),
                    startTimeout.toNanos(),
                    senders,
                    maxBatch,
                    batchInterval.toNanos(),
                    followWait.toNanos(),
                    readChunk,
                    minWindowBlocks,
                    maxExtension.toNanos());
        }
    }
}
