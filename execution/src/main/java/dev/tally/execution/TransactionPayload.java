package dev.tally.execution;

import dev.tally.protocol.Payload;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The payload format of {@link MempoolExecutionLayer}: a list of opaque transactions.
 *
 * <pre>
 * payload     = count:u32be transaction{count}
 * transaction = length:u32be bytes{length}
 * </pre>
 * A valid payload has no bytes after its last transaction, no empty transaction, no transaction longer than the
 * layer's limit and no transaction twice (byte for byte). The empty list encodes as four zero bytes.
 */
public final class TransactionPayload {
    /** Bytes of the transaction count. */
    public static final int HEADER_SIZE = 4;
    /** Bytes of each transaction's length prefix. */
    public static final int PREFIX_SIZE = 4;

    private TransactionPayload() {}

    /** Encodes {@code transactions} in order. */
    public static Payload encode(List<byte[]> transactions) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(HEADER_SIZE + transactions.size() * 64);
        out.writeBytes(
                ByteBuffer.allocate(HEADER_SIZE).putInt(transactions.size()).array());
        for (byte[] tx : transactions) {
            out.writeBytes(ByteBuffer.allocate(PREFIX_SIZE).putInt(tx.length).array());
            out.writeBytes(tx);
        }
        return Payload.of(out.toByteArray());
    }

    /** The encoded size of a payload holding transactions of these sizes. */
    public static long encodedSize(long transactionCount, long transactionBytes) {
        return HEADER_SIZE + transactionCount * PREFIX_SIZE + transactionBytes;
    }

    /**
     * Decodes and checks a payload.
     *
     * @throws IllegalArgumentException naming the first fault, if the payload is malformed
     */
    public static List<byte[]> decode(Payload payload, int maxTransactionSize) {
        List<TransactionKey> keys = decodeKeys(payload, maxTransactionSize);
        List<byte[]> transactions = new ArrayList<>(keys.size());
        keys.forEach(k -> transactions.add(k.bytes()));
        return transactions;
    }

    /** As {@link #decode}, each transaction as the mempool's key (over bytes of its own). */
    static List<TransactionKey> decodeKeys(Payload payload, int maxTransactionSize) {
        ByteBuffer in = payload.bytes().asReadOnlyByteBuffer();
        int size = in.remaining();
        if (size < HEADER_SIZE) {
            throw new IllegalArgumentException(
                    "payload of " + size + " bytes is shorter than its 4-byte transaction count");
        }
        long count = Integer.toUnsignedLong(in.getInt());
        int room = (size - HEADER_SIZE) / (PREFIX_SIZE + 1);
        if (count > room) {
            throw new IllegalArgumentException(
                    "payload declares " + count + " transactions but its " + size + " bytes hold at most " + room);
        }
        List<TransactionKey> transactions = new ArrayList<>((int) count);
        Map<TransactionKey, Integer> seen = HashMap.newHashMap((int) count);
        for (int i = 0; i < count; i++) {
            if (in.remaining() < PREFIX_SIZE) {
                throw new IllegalArgumentException(
                        "transaction " + i + ": length prefix truncated at byte " + in.position());
            }
            long length = Integer.toUnsignedLong(in.getInt());
            if (length == 0) {
                throw new IllegalArgumentException("transaction " + i + " is empty");
            }
            if (length > maxTransactionSize) {
                throw new IllegalArgumentException(
                        "transaction " + i + " is " + length + " bytes, above the limit of " + maxTransactionSize);
            }
            if (length > in.remaining()) {
                throw new IllegalArgumentException(
                        "transaction " + i + " declares " + length + " bytes but only " + in.remaining() + " remain");
            }
            byte[] tx = new byte[(int) length];
            in.get(tx);
            TransactionKey key = new TransactionKey(tx);
            Integer earlier = seen.putIfAbsent(key, i);
            if (earlier != null) {
                throw new IllegalArgumentException("transaction " + i + " duplicates transaction " + earlier);
            }
            transactions.add(key);
        }
        if (in.hasRemaining()) {
            throw new IllegalArgumentException(
                    in.remaining() + " trailing bytes after the last of " + count + " transactions");
        }
        return transactions;
    }
}
