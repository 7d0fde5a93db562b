package dev.tally.crypto;

import java.nio.charset.StandardCharsets;

/**
 * Parameters of the validator signature scheme: BLS12-381 in the "min_sig" form (signatures in G1,
 * 48 bytes compressed; public keys in G2, 96 bytes compressed), as the reference implementation uses.
 */
public final class Bls {
    private Bls() {}

    /** Domain separation tag for message signatures (the reference's string, G2 in its name included). */
    public static final String DST = "MATTER_LABS_CONSENSUS_BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_";
    /** Domain separation tag for proofs of possession. */
    public static final String DST_POP = "MATTER_LABS_CONSENSUS_BLS_POP_BLS12381G2_XMD:SHA-256_SSWU_RO_";

    public static final int SECRET_KEY_LENGTH = 32;
    public static final int PUBLIC_KEY_LENGTH = 96;
    public static final int SIGNATURE_LENGTH = 48;

    static final byte[] NO_AUG = new byte[0];

    static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
