/**
 * The deterministic simulator: committees of the real {@link dev.tally.consensus.Replica} on
 * {@link dev.tally.storage.InMemoryStorage}, run through a seeded network, clock and disk, with twins, Byzantine and
 * deliberately broken validators, checked after every step.
 *
 * <p>{@link dev.tally.sim.Scenario} (with {@link dev.tally.sim.Committee} and {@link dev.tally.sim.Faults}) says what
 * one run varies; {@link dev.tally.sim.Simulation#run} runs it and returns a {@link dev.tally.sim.SimResult}, and
 * {@link dev.tally.sim.SimRunner} runs many, and the self-check. Inside a run, {@code SimWorld} holds the shared state,
 * {@code EventLoop} the clock and the queue of events, {@code NetworkModel} and {@code StorageModel} the network and
 * the nodes' disks, {@code InvariantChecker} and {@code LivenessCheck} what must hold (PROTOCOL.md section 7);
 * {@code Faulty} and {@code Broken} are the faulty behaviours. One seed, one thread, one run: no wall clock, no
 * threads and no randomness but the seed's inside a run, so a seed replays byte for byte.
 *
 * <p>Depends on {@code consensus} and {@code storage} (and what they use) only: never on the network, the node or a
 * harness. Only the command line and tests depend on it.
 */
package dev.tally.sim;
