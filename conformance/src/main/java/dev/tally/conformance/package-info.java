/**
 * Replays executions of the reference's formal model (Quint ITF traces) through the real
 * {@code dev.tally.consensus.Replica} and compares every step, field by field ({@code bin/tally conformance}).
 *
 * <p>Depends on the consensus core and the protocol; nothing but tests and the command line depends on it.
 */
package dev.tally.conformance;
