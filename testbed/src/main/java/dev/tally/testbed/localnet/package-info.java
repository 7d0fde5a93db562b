/**
 * A local network on loopback: {@link dev.tally.testbed.localnet.Localnet} writes its genesis, keys and configs and
 * starts each node as a child process running the {@code tally} command line; {@link dev.tally.testbed.localnet.RpcClient}
 * talks to a node's JSON-RPC.
 *
 * <p>Used by {@code tally localnet}, the load test and the chaos harness, and by the end-to-end tests.
 */
package dev.tally.testbed.localnet;
