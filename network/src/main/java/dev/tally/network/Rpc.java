package dev.tally.network;

/**
 * The named RPCs. Each has a wire id and a maximum number of calls in flight per connection and direction: a
 * protocol constant both ends enforce (a client never exceeds it; a server drops a peer that does). Rates and
 * sizes are configuration ({@link RpcConfig}). Wire id 6 was {@code push_tx}, one transaction per call, replaced by
 * {@link #PUSH_TXS}; a request for it is refused as one for an unknown rpc.
 */
public enum Rpc {
    PING(1, 1),
    CONSENSUS(2, 3),
    PUSH_BLOCK_STORE_STATE(3, 1),
    GET_BLOCK(4, 5),
    PUSH_VALIDATOR_ADDRS(5, 1),
    /** A batch of transactions; two in flight, so the next batch is on its way while one is being served. */
    PUSH_TXS(7, 2),
    /** The set of nodes the sender is connected to (it spares relaying transactions to them). */
    PUSH_GOSSIP_PEERS(8, 1);

    private static final Rpc[] BY_ID = new Rpc[16];

    static {
        for (Rpc r : values()) {
            BY_ID[r.id] = r;
        }
    }

    private final int id;
    private final int inflight;

    Rpc(int id, int inflight) {
        this.id = id;
        this.inflight = inflight;
    }

    public int id() {
        return id;
    }

    public int inflight() {
        return inflight;
    }

    /** The RPC with this wire id, or null. */
    static Rpc byId(int id) {
        return id >= 0 && id < BY_ID.length ? BY_ID[id] : null;
    }

    @Override
    public String toString() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
