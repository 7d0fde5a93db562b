/**
 * The ChonkyBFT replica as a pure, deterministic state machine: {@link dev.tally.consensus.Replica#step} takes an
 * {@link dev.tally.consensus.Input} and the current time and returns {@link dev.tally.consensus.Output}s, refusing
 * messages with a typed {@link dev.tally.consensus.Rejection} and checking its own
 * {@link dev.tally.consensus.Invariant}s after every step.
 *
 * <p>Depends on {@code dev.tally.protocol} and {@code dev.tally.crypto} only: no threads, clocks, I/O or randomness
 * (time, storage and the network reach it as inputs and outputs).
 */
package dev.tally.consensus;
