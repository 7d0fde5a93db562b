package dev.tally.execution;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A replicated state machine, the high-level way to build on Tally: Tally orders transactions into final blocks,
 * keeps the blocks, the mempool and the network, and calls the application at five points of a transaction's life
 * (see API.md at the root of the repository). {@link ApplicationExecutionLayer} turns an application into the
 * {@link ExecutionLayer} a node runs; {@code dev.tally.node.embed.TallyNode} starts a node with one.
 *
 * <p>Threads: {@link #checkTx} and {@link #query} may be called concurrently with each other and with the rest;
 * {@link #verifyBlock} comes from the replica's thread, {@link #prepareProposal} from the proposing path (the replica's
 * thread, or the one whose transaction ends a leader's wait for a first transaction); {@link #applyBlock} is called by
 * one thread at a time, for one block after the other, each exactly once per node lifetime (replay after a restart
 * included).
 *
 * <p>Determinism: {@link #applyBlock} must give every node the same state and root for the same blocks. Tally
 * compares roots across nodes and reports a difference (metric {@code tally_app_root_mismatches_total}, an error in
 * the log), but it cannot undo one.
 */
public interface Application {
    /**
     * The last block this application applied durably and its state root after it; empty if it applied none. Tally
     * asks once, at start, and re-applies every stored block after it (replay). A block whose {@link #applyBlock}
     * returned must be reported here after a crash, or not at all with none of its effects: apply atomically.
     */
    Optional<AppliedState> lastApplied();

    /**
     * Whether a client's (or a peer's) transaction may enter the mempool, judged against the current state; a refusal
     * reaches the client with its reason. Cheap and side-effect free: it is called for every copy gossip delivers.
     * The default takes every transaction.
     */
    default TxCheck checkTx(byte[] transaction) {
        return TxCheck.ok();
    }

    /**
     * The transactions to propose as block {@code blockNumber}, from {@code candidates}: the mempool's waiting
     * transactions in arrival order, already within the payload size limit. Return a subset, in any order; the
     * default proposes them all as they are.
     */
    default List<byte[]> prepareProposal(long blockNumber, List<byte[]> candidates) {
        return candidates;
    }

    /**
     * Whether another validator's proposal may become block {@code blockNumber}; a validator votes for it only if
     * so. Must be deterministic and depend only on the transactions and the applied state (all blocks before it are
     * applied when it is called). The default accepts every well-formed payload.
     */
    default PayloadVerdict verifyBlock(long blockNumber, List<byte[]> transactions) {
        return PayloadVerdict.valid();
    }

    /**
     * Applies final block {@code blockNumber} and returns the state root (the application hash) after it, at most
     * {@value ApplicationExecutionLayer#MAX_ROOT_LENGTH} bytes. Deterministic, in order, and durable on return as
     * {@link #lastApplied} describes. Throwing stops the node with an error naming the block (and the next start
     * tries the block again): an application must throw rather than skip a block it cannot apply.
     */
    byte[] applyBlock(long blockNumber, List<byte[]> transactions);

    /** The JSON-RPC methods this application answers through {@link #query} (e.g. {@code kv_get}). */
    default Set<String> queryMethods() {
        return Set.of();
    }

    /**
     * Answers query {@code method} (one of {@link #queryMethods}) with its named parameters (positional ones are
     * named "0", "1", ...). The answer is a JSON value: a String, Number, Boolean, List or Map of them, or null.
     * Read-only; may run during {@link #applyBlock}.
     *
     * @throws IllegalArgumentException naming the problem, for bad parameters (the client gets its message)
     */
    default Object query(String method, Map<String, String> params) {
        throw new IllegalArgumentException("no query method " + method);
    }
}
