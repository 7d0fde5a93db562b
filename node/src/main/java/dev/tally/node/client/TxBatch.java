package dev.tally.node.client;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;

/**
 * The body of {@code POST /txs} ({@code Content-Type: application/octet-stream}): transactions one after the other,
 * each a 4-byte big-endian length and then that many bytes. No count and no trailer: the body ends after the last
 * transaction. At most {@link #MAX_TRANSACTIONS} transactions, within the node's {@code rpc_max_body_bytes}.
 */
public final class TxBatch {
    /** The most transactions one batch may hold. */
    public static final int MAX_TRANSACTIONS = 10_000;
    /** The bytes of each transaction's length prefix. */
    public static final int PREFIX_SIZE = 4;

    /** A body that is not a batch: the message names the transaction (by index) and the byte where it went wrong. */
    public static final class MalformedBatchException extends Exception {
        private static final long serialVersionUID = 1L;

        MalformedBatchException(String message) {
            super(message, null, false, false);
        }
    }

    private TxBatch() {}

    public static byte[] encode(List<byte[]> txs) {
        if (txs.isEmpty() || txs.size() > MAX_TRANSACTIONS) {
            throw new IllegalArgumentException(
                    "a batch holds 1 to " + MAX_TRANSACTIONS + " transactions, not " + txs.size());
        }
        int size = 0;
        for (byte[] tx : txs) {
            size = Math.addExact(size, PREFIX_SIZE + tx.length);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(size);
        for (byte[] tx : txs) {
            int n = tx.length;
            out.write(n >>> 24);
            out.write(n >>> 16);
            out.write(n >>> 8);
            out.write(n);
            out.writeBytes(tx);
        }
        return out.toByteArray();
    }

    /** The transactions of a body, each in a fresh array; an empty transaction is left for the mempool to refuse. */
    public static List<byte[]> decode(byte[] body) throws MalformedBatchException {
        if (body.length == 0) {
            throw new MalformedBatchException("the body holds no transaction");
        }
        List<byte[]> txs = new ArrayList<>();
        int at = 0;
        while (at < body.length) {
            int index = txs.size();
            if (index == MAX_TRANSACTIONS) {
                throw new MalformedBatchException("transaction " + index + " (at byte " + at
                        + ") is one too many: at most " + MAX_TRANSACTIONS + " per batch");
            }
            if (body.length - at < PREFIX_SIZE) {
                throw new MalformedBatchException("transaction " + index + " (at byte " + at
                        + "): the body ends inside its length prefix, after " + (body.length - at) + " of "
                        + PREFIX_SIZE + " bytes");
            }
            long n = ((body[at] & 0xffL) << 24)
                    | ((body[at + 1] & 0xff) << 16)
                    | ((body[at + 2] & 0xff) << 8)
                    | (body[at + 3] & 0xff);
            int left = body.length - at - PREFIX_SIZE;
            if (n > left) {
                throw new MalformedBatchException("transaction " + index + " (at byte " + at + "): its prefix says " + n
                        + " bytes, the body has " + left + " more");
            }
            at += PREFIX_SIZE;
            byte[] tx = new byte[(int) n];
            System.arraycopy(body, at, tx, 0, tx.length);
            txs.add(tx);
            at += tx.length;
        }
        return txs;
    }
}
