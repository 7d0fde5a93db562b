package dev.tally.examples.kvstore;

import java.nio.charset.StandardCharsets;
import java.util.function.LongFunction;

/**
 * Load for a key-value store chain ({@code tally localnet --app kvstore --tx-rate N}): {@code set} writes, binary
 * encoded, to the keys {@code load/0} to {@code load/9999} in turn, so the store stays bounded while its root moves
 * with every block. Each value names its run and write, so no write repeats one the mempool has seen (it would drop it
 * as a duplicate), even across runs.
 */
public final class KvLoad {
    /** How many keys the writes cycle through. */
    public static final int KEYS = 10_000;

    private KvLoad() {}

    /** The writes of one run: write {@code n} sets key {@code load/<n mod KEYS>}; {@code run} tells runs apart. */
    public static LongFunction<byte[]> writes(long run) {
        String prefix = "run " + Long.toHexString(run) + " write ";
        return n -> new KvTx.Set(
                        ("load/" + Math.floorMod(n, KEYS)).getBytes(StandardCharsets.UTF_8),
                        (prefix + n).getBytes(StandardCharsets.UTF_8))
                .encode();
    }
}
