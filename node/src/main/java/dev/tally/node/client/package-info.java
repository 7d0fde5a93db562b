/**
 * A client for applications that send transactions to a node: {@link dev.tally.node.client.TallyClient} over the
 * RPC's binary batch path, and that path's body format, {@link dev.tally.node.client.TxBatch}, which the node's RPC
 * server decodes.
 */
package dev.tally.node.client;
