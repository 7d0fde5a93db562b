/**
 * The node's JSON-RPC 2.0 server over HTTP ({@link dev.tally.node.rpc.RpcServer}) and its methods
 * ({@link dev.tally.node.rpc.RpcMethods}): blocks, status, peers, transactions.
 *
 * <p>Clients are operators, the testbed's {@code RpcClient} (local networks, the load test, the chaos harness) and
 * applications that embed a node.
 */
package dev.tally.node.rpc;
