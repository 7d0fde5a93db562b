/**
 * The execution layer: what consensus asks of the chain it orders (committees, final blocks, payloads,
 * transactions). {@link dev.tally.storage.execution.ExecutionLayer} is the interface embedders implement;
 * {@link dev.tally.storage.execution.MempoolExecutionLayer} is the default, a mempool of opaque transactions packed
 * into {@link dev.tally.storage.execution.TransactionPayload}s.
 */
package dev.tally.storage.execution;
