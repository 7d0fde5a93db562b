/**
 * JMH micro-benchmarks of the hot paths (BLS signatures, QC verification, message encoding, replica steps, storage),
 * run by {@code bin/jmh} and reported in BENCHMARKS.md, "Micro-benchmarks (JMH)".
 *
 * <p>Not part of any test run, and nothing depends on it.
 */
package dev.tally.microbench;
