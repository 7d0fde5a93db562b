package dev.tally.node.rpc;

/** A JSON-RPC error: the request cannot be answered, for the reason in the message. */
public final class RpcException extends Exception {
    public static final int PARSE_ERROR = -32700;
    public static final int INVALID_REQUEST = -32600;
    public static final int METHOD_NOT_FOUND = -32601;
    public static final int INVALID_PARAMS = -32602;
    public static final int INTERNAL_ERROR = -32603;
    /** The request was well formed but the node cannot serve it (e.g. a block it does not store). */
    public static final int NOT_AVAILABLE = -32000;
    /** The mempool refused a transaction. */
    public static final int REJECTED = -32001;
    /**
     * The node has no room for the request now (a full mempool, too many submissions at once): send it again later.
     * Over HTTP: status 429 with {@code Retry-After}. The code is the one Ethereum nodes use for "limit exceeded".
     */
    public static final int OVERLOADED = -32005;
    /**
     * The answers of a JSON-RPC batch filled {@code HttpLimits#maxBatchAnswerChars} before this call of it: the call was
     * not made; send it again in another request.
     */
    public static final int BATCH_ANSWER_LIMIT = -32006;

    private final int code;

    /** Without a stack trace: it is an answer to a client, thrown on every refusal of an overloaded node. */
    public RpcException(int code, String message) {
        super(message, null, false, false);
        this.code = code;
    }

    public int code() {
        return code;
    }
}
