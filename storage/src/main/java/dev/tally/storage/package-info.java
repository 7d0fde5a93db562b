/**
 * Durable storage of a Tally node: the final blocks of its chain and the replica safety state.
 *
 * <p>{@link dev.tally.storage.Storage} is the whole contract ({@link dev.tally.storage.BlockStore} +
 * {@link dev.tally.storage.ReplicaStateStore}); {@link dev.tally.storage.RocksStorage} keeps it on disk with
 * synced writes and refuses, at open, any directory it must not use; {@link dev.tally.storage.InMemoryStorage}
 * follows the same rules in memory for tests and the simulator. Failures are
 * {@link dev.tally.storage.StorageException}s whose message names the problem and the path or key.
 *
 * <p>The application API and the execution-layer interface embedders implement are in module {@code execution}
 * (package {@code dev.tally.execution}), which builds on this one.
 */
package dev.tally.storage;
