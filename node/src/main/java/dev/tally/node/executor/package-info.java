/**
 * The running node: {@link dev.tally.node.executor.Node} wires storage, the execution layer, the network and (on
 * validators) the {@link dev.tally.node.executor.ReplicaLoop}, the single owner of the replica, which executes its
 * outputs in order and persists state before it speaks; {@link dev.tally.node.executor.BlockPipeline} is the one way
 * final blocks reach the execution layer.
 *
 * <p>This is the embeddable product: applications, the command line and the testbed start nodes here. It depends on
 * crypto, protocol, consensus, storage and network, never on the simulator, the conformance replay, the testbed or
 * the command line.
 */
package dev.tally.node.executor;
