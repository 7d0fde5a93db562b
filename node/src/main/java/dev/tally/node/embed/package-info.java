/**
 * Tally in a Java process: {@link dev.tally.node.embed.TallyNode} starts a validator or a full node from a config, an
 * optional {@link dev.tally.execution.Application} and a data directory, with the RPC, metrics and debug-page servers
 * its config names, and stops it. The command line's {@code tally node} starts nodes the same way.
 */
package dev.tally.node.embed;
