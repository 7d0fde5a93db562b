/**
 * A wide-area network on one Linux host ({@code tally wan}): each node in its own network namespace with its own
 * address on a bridge, links with per-region latency, jitter and loss, partitions that cut a region's links.
 */
package dev.tally.testbed.wan;
