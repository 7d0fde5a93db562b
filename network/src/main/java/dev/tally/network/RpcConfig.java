package dev.tally.network;

import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;

/**
 * Per-RPC limits: the token-bucket rate (applied by the client before each call and by the server before handling
 * one) and the largest request and response it accepts. A frame over its limit closes the connection before its
 * body is read. The rate of {@link Rpc#PUSH_TXS} counts transactions, not calls: a batch of 500 takes 500 tokens on
 * both ends.
 */
public record RpcConfig(Map<Rpc, Limit> limits) {
    public static final int KB = 1024;

    /** At most {@code burst} calls at once, then one more every {@code refresh}; a zero refresh means no limit. */
    public record Rate(int burst, Duration refresh) {
        public static final Rate UNLIMITED = new Rate(1, Duration.ZERO);

        public Rate {
            if (burst < 1 || refresh.isNegative()) {
                throw new IllegalArgumentException("invalid rate: burst " + burst + ", refresh " + refresh);
            }
        }
    }

    public record Limit(Rate rate, int maxRequestBytes, int maxResponseBytes) {
        public Limit {
            if (maxRequestBytes < 1 || maxResponseBytes < 1) {
                throw new IllegalArgumentException("sizes must be positive");
            }
        }
    }

    public RpcConfig {
        limits = Map.copyOf(limits);
        for (Rpc r : Rpc.values()) {
            if (!limits.containsKey(r)) {
                throw new IllegalArgumentException("no limit for rpc " + r);
            }
        }
    }

    public Limit limit(Rpc rpc) {
        return limits.get(rpc);
    }

    public RpcConfig with(Rpc rpc, Limit limit) {
        Map<Rpc, Limit> m = new EnumMap<>(limits);
        m.put(rpc, limit);
        return new RpcConfig(m);
    }

    /** The ping rate is part of the protocol: both ends must agree on when a connection is alive. */
    public static final Rate PING_RATE = new Rate(2, Duration.ofSeconds(1));

    /** The request size limit of push_txs unless a transaction is larger: 256 KiB, ~1,000 transactions of 256 bytes. */
    public static final int TX_BATCH_BYTES = 256 * KB;

    /**
     * Defaults, from the reference implementation's where it has them (see the notes for the table). One change:
     * get_block allows 100 calls/s instead of 10/s, since 10/s caps block sync at 10 blocks per second per peer.
     * push_txs (ours: the reference has no transaction gossip) takes batches of up to {@link #TX_BATCH_BYTES} (or one
     * largest transaction) and allows 100,000 transactions/s per connection after a burst of 10,000: about what a
     * chain of 2.5 MB blocks at 10 blocks/s could order of 256-byte transactions, so an honest peer relaying everything
     * it accepts is not slowed, while a flooding one is held to that rate and to two batches in flight.
     * push_gossip_peers (ours too) is sent when a node's set of peers changes: 2 at once, then 1/s.
     * push_validator_addrs allows 20 at once, then 2/s (the reference: 1 per 5 s): a node passes each address on as it
     * learns it, so at 1 per 5 s discovery took about 5 s per gossip hop, some two minutes across 100 validators in a
     * gossip ring; only addresses newer than the book's are verified, so a fast pusher costs little.
     */
    public static RpcConfig defaults(int maxBlockSize, int maxTxSize) {
        Map<Rpc, Limit> m = new EnumMap<>(Rpc.class);
        m.put(Rpc.PING, new Limit(PING_RATE, KB, KB));
        m.put(Rpc.CONSENSUS, new Limit(Rate.UNLIMITED, saturatingAdd(maxBlockSize, 100 * KB), KB));
        m.put(Rpc.PUSH_BLOCK_STORE_STATE, new Limit(new Rate(2, Duration.ofMillis(200)), 10 * KB, KB));
        m.put(Rpc.GET_BLOCK, new Limit(new Rate(10, Duration.ofMillis(10)), KB, saturatingAdd(maxBlockSize, KB)));
        m.put(Rpc.PUSH_VALIDATOR_ADDRS, new Limit(new Rate(20, Duration.ofMillis(500)), 100 * KB, KB));
        m.put(
                Rpc.PUSH_TXS,
                new Limit(
                        new Rate(10_000, Duration.ofNanos(10_000)),
                        saturatingAdd(Math.max(TX_BATCH_BYTES, maxTxSize), KB),
                        4 * KB));
        m.put(Rpc.PUSH_GOSSIP_PEERS, new Limit(new Rate(2, Duration.ofSeconds(1)), 40 * KB, KB));
        return new RpcConfig(m);
    }

    static int saturatingAdd(int a, int b) {
        long s = (long) a + b;
        return s > Integer.MAX_VALUE - 64 ? Integer.MAX_VALUE - 64 : (int) s;
    }
}
