package dev.tally.crypto;

import java.math.BigInteger;
import java.security.SecureRandom;
import java.util.Arrays;
import supranational.blst.P1;
import supranational.blst.P2;
import supranational.blst.SecretKey;

/** A validator's BLS12-381 secret key. Its text form is never printed by {@link #toString()}. */
public final class BlsSecretKey {
    public static final String TEXT_PREFIX = "validator:secret:bls12_381:";
    /** The order of the BLS12-381 groups; a secret key is a scalar in [1, R). */
    private static final BigInteger R =
            new BigInteger("73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001", 16);

    private final SecretKey key;
    private final byte[] bigEndian;
    private final BlsPublicKey publicKey;

    private BlsSecretKey(byte[] bigEndian) {
        BigInteger k = new BigInteger(1, bigEndian);
        if (k.signum() == 0 || k.compareTo(R) >= 0) {
            throw new InvalidEncodingException("BLS secret key is not a scalar in [1, r)");
        }
        this.bigEndian = bigEndian.clone();
        this.key = new SecretKey();
        this.key.from_bendian(this.bigEndian);
        this.publicKey = BlsPublicKey.fromPoint(new P2(key));
    }

    /** Generates a key with the IETF KeyGen (v4/v5 draft) from 32 bytes of OS entropy. */
    public static BlsSecretKey generate() {
        byte[] ikm = new byte[32];
        new SecureRandom().nextBytes(ikm);
        return fromSeed(ikm);
    }

    /** Derives a key from input key material (at least 32 bytes); deterministic, for tests and simulation. */
    public static BlsSecretKey fromSeed(byte[] ikm) {
        SecretKey sk = new SecretKey();
        sk.keygen_v4_5(ikm, new byte[0]);
        return new BlsSecretKey(sk.to_bendian());
    }

    public static BlsSecretKey fromBytes(byte[] bigEndian) {
        if (bigEndian.length != Bls.SECRET_KEY_LENGTH) {
            throw new InvalidEncodingException("BLS secret key must be 32 bytes, got " + bigEndian.length);
        }
        return new BlsSecretKey(bigEndian);
    }

    public static BlsSecretKey fromText(String text) {
        return fromBytes(TextFormat.decode(TEXT_PREFIX, text));
    }

    public byte[] bytes() {
        return bigEndian.clone();
    }

    public String toText() {
        return TextFormat.encode(TEXT_PREFIX, bigEndian);
    }

    public BlsPublicKey publicKey() {
        return publicKey;
    }

    public BlsSignature sign(byte[] message) {
        P1 point = new P1().hash_to(message, Bls.DST, Bls.NO_AUG).sign_with(key);
        return BlsSignature.fromPoint(point);
    }

    /** A proof of possession: a signature over the compressed public key under its own tag. */
    public BlsProofOfPossession proofOfPossession() {
        P1 point = new P1().hash_to(publicKey.bytes(), Bls.DST_POP, Bls.NO_AUG).sign_with(key);
        return new BlsProofOfPossession(point.compress());
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof BlsSecretKey k && Arrays.equals(bigEndian, k.bigEndian);
    }

    @Override
    public int hashCode() {
        return publicKey.hashCode();
    }

    @Override
    public String toString() {
        return "BlsSecretKey(" + publicKey + ")";
    }
}
