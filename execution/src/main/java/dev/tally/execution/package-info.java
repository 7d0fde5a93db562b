/**
 * The execution layer: what consensus asks of the chain it orders (committees, final blocks, payloads,
 * transactions). {@link dev.tally.execution.ExecutionLayer} is the interface embedders implement;
 * {@link dev.tally.execution.MempoolExecutionLayer} is the default, a mempool of opaque transactions packed
 * into {@link dev.tally.execution.TransactionPayload}s.
 */
package dev.tally.execution;
