package dev.tally.examples.kvstore;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tally.execution.TxCheck;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KvStoreTest {
    @TempDir
    Path dir;

    @Test
    void theRootDependsOnTheContentNotOnOrderOrBlocks() {
        byte[] a = KvTx.set("a", "1").encode();
        byte[] b = KvTx.set("b", "2").encodeJson();
        byte[] overwrite = KvTx.set("a", "3").encode();
        try (KvStore one = KvStore.open(dir.resolve("one"));
                KvStore two = KvStore.open(dir.resolve("two"))) {
            byte[] root = one.applyBlock(0, List.of(a, b, overwrite));
            two.applyBlock(0, List.of(b));
            assertThat(two.applyBlock(1, List.of(KvTx.set("a", "3").encodeJson())))
                    .isEqualTo(root);
            byte[] withC = one.applyBlock(1, List.of(KvTx.set("c", "x").encode()));
            assertThat(withC).isNotEqualTo(root);
            assertThat(one.applyBlock(2, List.of(KvTx.delete("c").encodeJson())))
                    .as("a delete undoes the set")
                    .isEqualTo(root);
            assertThat(one.query("kv_get", Map.of("key", "a"))).isEqualTo("3");
            assertThat(one.query("kv_get", Map.of("0", "c"))).isNull();
        }
    }

    @Test
    void theLastAppliedBlockAndRootSurviveAReopen() {
        byte[] root;
        try (KvStore s = KvStore.open(dir)) {
            root = s.applyBlock(7, List.of(KvTx.set("k", "v").encode()));
        }
        try (KvStore s = KvStore.open(dir)) {
            assertThat(s.lastApplied().orElseThrow().block()).isEqualTo(7);
            assertThat(s.lastApplied().orElseThrow().root()).isEqualTo(root);
            assertThat(s.get("k".getBytes(StandardCharsets.UTF_8))).hasValue("v".getBytes(StandardCharsets.UTF_8));
        }
    }

    @Test
    void badTransactionsAreRefusedWithTheirReason() {
        try (KvStore s = KvStore.open(dir)) {
            assertThat(s.checkTx("{\"op\":\"set\",\"key\":\"k\"}".getBytes(StandardCharsets.UTF_8)))
                    .isInstanceOfSatisfying(
                            TxCheck.Refused.class,
                            r -> assertThat(r.reason()).startsWith("a set has exactly the fields"));
            assertThat(s.checkTx(new byte[] {9, 0, 1, 'k'})).isInstanceOf(TxCheck.Refused.class);
            assertThat(s.checkTx(KvTx.set("k", "x".repeat(KvTx.MAX_VALUE + 1)).encode()))
                    .isEqualTo(TxCheck.refused("value of 4097 bytes, above the limit of 4096"));
            assertThat(s.checkTx(KvTx.delete("k").encode())).isEqualTo(TxCheck.ok());
        }
        assertThatThrownBy(() -> KvTx.parse(new byte[0])).hasMessage("empty transaction");
    }
}
