package dev.tally.examples.kvstore;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tally.execution.TxCheck;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.function.LongFunction;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KvLoadTest {
    @TempDir
    Path dir;

    @Test
    void writesAreValidDistinctSetsOverABoundedKeySpace() {
        LongFunction<byte[]> writes = KvLoad.writes(7);
        Set<String> seen = new HashSet<>();
        for (long n = 0; n < 3 * KvLoad.KEYS; n += 997) {
            KvTx tx = KvTx.parse(writes.apply(n));
            assertThat(tx).isInstanceOf(KvTx.Set.class);
            assertThat(new String(tx.key(), StandardCharsets.UTF_8)).isEqualTo("load/" + (n % KvLoad.KEYS));
            assertThat(seen.add(HexFormat.of().formatHex(writes.apply(n)))).isTrue();
        }
        // Another run writes the same keys with other values: nothing a mempool would take for a duplicate.
        assertThat(KvLoad.writes(8).apply(0)).isNotEqualTo(writes.apply(0));
        assertThat(KvTx.parse(KvLoad.writes(8).apply(0)).key())
                .isEqualTo(KvTx.parse(writes.apply(0)).key());
    }

    @Test
    void theStoreTakesTheWritesAndItsRootMoves() {
        LongFunction<byte[]> writes = KvLoad.writes(1);
        try (KvStore store = KvStore.open(dir)) {
            List<byte[]> block0 = LongStream.range(0, 10).mapToObj(writes).toList();
            List<byte[]> block1 = LongStream.range(10, 20).mapToObj(writes).toList();
            block0.forEach(tx -> assertThat(store.checkTx(tx)).isEqualTo(TxCheck.ok()));
            byte[] root0 = store.applyBlock(0, block0);
            byte[] root1 = store.applyBlock(1, block1);
            assertThat(root1).isNotEqualTo(root0);
            assertThat(store.query("kv_get", java.util.Map.of("key", "load/15")))
                    .isEqualTo("run 1 write 15");
        }
    }
}
