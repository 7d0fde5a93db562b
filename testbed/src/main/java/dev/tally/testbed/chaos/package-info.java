/**
 * The chaos harness behind {@code tally chaos}: real node processes behind loopback proxies, faults injected on a
 * seeded schedule (kills, pauses, partitions, delay, dropped connections, wiped, read-only and full disks), and every
 * node's chain audited over RPC against the others (RELIABILITY.md).
 *
 * <p>Used by the command line's {@code chaos} command and {@code ChaosTest}; it depends on the node and the local
 * network, never on the command line.
 */
package dev.tally.testbed.chaos;
