/**
 * The node's network: TCP with Noise NN encryption and signed handshakes, length-prefixed frames with per-RPC size,
 * in-flight and rate limits, the consensus mesh between validators (verifying what it delivers, newest message per
 * signer and kind), and gossip (block sync, validator addresses, transactions).
 *
 * <p>Depends on {@code dev.tally.protocol} and {@code dev.tally.crypto}, never on the consensus core: it learns the
 * replica's position through {@link dev.tally.network.ConsensusInbox}.
 */
package dev.tally.network;
