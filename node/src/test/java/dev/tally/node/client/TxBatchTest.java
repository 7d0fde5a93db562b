package dev.tally.node.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

class TxBatchTest {
    @Test
    void transactionsComeBackAsTheyWent() throws Exception {
        List<byte[]> txs = List.of(new byte[] {1, 2, 3}, new byte[0], new byte[300]);
        byte[] body = TxBatch.encode(txs);
        assertThat(body).hasSize(3 * TxBatch.PREFIX_SIZE + 303);
        assertThat(Arrays.copyOf(body, 7)).containsExactly(0, 0, 0, 3, 1, 2, 3);
        assertThat(TxBatch.decode(body)).usingElementComparator(Arrays::compare).containsExactlyElementsOf(txs);
    }

    @Test
    void anEmptyBodyIsNoBatch() {
        assertThatThrownBy(() -> TxBatch.decode(new byte[0]))
                .isInstanceOf(TxBatch.MalformedBatchException.class)
                .hasMessage("the body holds no transaction");
    }

    @Test
    void aTruncatedLengthPrefixIsNamedByItsTransaction() {
        byte[] body = Arrays.copyOf(TxBatch.encode(List.of(new byte[] {9, 9})), 6 + 2);
        assertThatThrownBy(() -> TxBatch.decode(body))
                .isInstanceOf(TxBatch.MalformedBatchException.class)
                .hasMessage("transaction 1 (at byte 6): the body ends inside its length prefix, after 2 of 4 bytes");
    }

    @Test
    void aLengthBeyondTheBodyIsNamedByItsTransaction() {
        byte[] body = Arrays.copyOf(TxBatch.encode(List.of(new byte[] {9}, new byte[10])), 5 + 4 + 7);
        assertThatThrownBy(() -> TxBatch.decode(body))
                .isInstanceOf(TxBatch.MalformedBatchException.class)
                .hasMessage("transaction 1 (at byte 5): its prefix says 10 bytes, the body has 7 more");
        // Text is no batch either: "GET " read as a length is far beyond the body.
        assertThatThrownBy(() -> TxBatch.decode("GET /".getBytes(java.nio.charset.StandardCharsets.US_ASCII)))
                .hasMessage("transaction 0 (at byte 0): its prefix says 1195725856 bytes, the body has 1 more");
    }

    @Test
    void aBatchAboveTheCountLimitIsRefused() {
        List<byte[]> most = new ArrayList<>(Collections.nCopies(TxBatch.MAX_TRANSACTIONS, new byte[] {7}));
        byte[] full = TxBatch.encode(most);
        byte[] oneMore = Arrays.copyOf(full, full.length + 5);
        oneMore[full.length + 3] = 1;
        assertThatThrownBy(() -> TxBatch.decode(oneMore))
                .isInstanceOf(TxBatch.MalformedBatchException.class)
                .hasMessage("transaction 10000 (at byte 50000) is one too many: at most 10000 per batch");
        most.add(new byte[] {7});
        assertThatThrownBy(() -> TxBatch.encode(most)).isInstanceOf(IllegalArgumentException.class);
    }
}
