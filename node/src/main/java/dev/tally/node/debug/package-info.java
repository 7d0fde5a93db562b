/**
 * The node's debug page: one HTML page for people (identity, limits, consensus position, peers) served next to RPC.
 *
 * <p>Started by whoever embeds a node (the command line's {@code tally node}); it reads a running
 * {@link dev.tally.node.executor.Node} and changes nothing.
 */
package dev.tally.node.debug;
