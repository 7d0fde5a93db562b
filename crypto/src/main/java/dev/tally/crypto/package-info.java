/**
 * The cryptography of Tally: BLS12-381 validator keys, signatures and aggregates (min_sig, with proofs of
 * possession), Ed25519 node keys, keccak-256, and the {@code prefix:hex} text forms of PROTOCOL.md section 6.
 *
 * <p>The bottom of the module graph: it depends on no other Tally package. Bad encodings are
 * {@link dev.tally.crypto.InvalidEncodingException}s that name what is wrong.
 */
package dev.tally.crypto;
