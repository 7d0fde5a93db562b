/**
 * The values of the protocol as records (genesis, validator schedule, views, the four messages, QCs and their
 * builders, final blocks, replica state), their verification against an {@link dev.tally.protocol.Epoch}, and
 * {@link dev.tally.protocol.Codec}, the canonical protobuf encoding byte-compatible with the reference.
 *
 * <p>Depends on {@code dev.tally.crypto} only; it holds no behaviour of a replica (that is {@code dev.tally.consensus}).
 */
package dev.tally.protocol;
