/**
 * The end-to-end load test behind {@code tally bench}: a network of validator processes (or in-process nodes), driven
 * with client transactions through RPC, measured for finality latency, throughput, CPU and memory, and reported as a
 * table and JSON (BENCHMARKS.md, "End to end").
 *
 * <p>Used by the command line's {@code bench} command, which only parses options; it depends on the node and the
 * local network, never on the command line.
 */
package dev.tally.testbed.loadtest;
