package dev.tally.network;

import java.security.GeneralSecurityException;
import java.security.InvalidAlgorithmParameterException;
import java.security.InvalidKeyException;
import java.security.NoSuchAlgorithmException;
import javax.crypto.Cipher;
import javax.crypto.NoSuchPaddingException;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * A Noise CipherState (Noise spec rev 34, section 5.1) for ChaChaPoly on the JDK's {@code ChaCha20-Poly1305}, which
 * has CPU intrinsics that noise-java's pure-Java cipher lacks. The nonce n is a 64-bit counter, sent as 4 zero bytes
 * ++ n little-endian; every encryption or successful decryption uses the next one, so a nonce never repeats under a
 * key (the JDK also refuses to encrypt twice under one key and nonce). The value 2^64 - 1 is reserved, as the spec
 * says: reaching it fails the message.
 *
 * <p>Public so that the micro-benchmarks can measure it; not for use by more than one thread at a time.
 */
public final class NoiseCipher {
    static final int KEY_LENGTH = 32;
    static final int MAC_LENGTH = 16;
    private static final long RESERVED_NONCE = -1L; // 2^64 - 1 as an unsigned counter

    private final Cipher cipher;
    private final SecretKeySpec key;
    private final byte[] iv = new byte[12];
    private long nonce;

    /** A cipher state with key {@code k} and nonce 0. */
    public NoiseCipher(byte[] k) {
        this(k, 0);
    }

    /** A cipher state with key {@code k} and the given nonce (SetNonce): for tests of nonce exhaustion. */
    NoiseCipher(byte[] k, long nonce) {
        if (k.length != KEY_LENGTH) {
            throw new IllegalArgumentException("a ChaChaPoly key is " + KEY_LENGTH + " bytes, not " + k.length);
        }
        try {
            this.cipher = Cipher.getInstance("ChaCha20-Poly1305");
        } catch (NoSuchAlgorithmException | NoSuchPaddingException e) {
            throw new IllegalStateException("this JDK lacks ChaCha20-Poly1305", e);
        }
        this.key = new SecretKeySpec(k, "ChaCha20");
        this.nonce = nonce;
    }

    /**
     * Seals {@code len} bytes of {@code plaintext} at {@code off} into {@code out} at {@code outOff} (ciphertext, then
     * the 16-byte MAC), authenticating {@code ad}; returns {@code len + 16}.
     */
    public int encryptWithAd(byte[] ad, byte[] plaintext, int off, int len, byte[] out, int outOff)
            throws GeneralSecurityException {
        start(Cipher.ENCRYPT_MODE, ad);
        int n = cipher.doFinal(plaintext, off, len, out, outOff);
        nonce++;
        return n;
    }

    /**
     * Opens {@code len} bytes of {@code ciphertext} at {@code off} (ciphertext ++ MAC) into {@code out} at
     * {@code outOff}; returns {@code len - 16}.
     *
     * @throws javax.crypto.AEADBadTagException when the MAC does not verify (the nonce stays, as the spec says)
     */
    public int decryptWithAd(byte[] ad, byte[] ciphertext, int off, int len, byte[] out, int outOff)
            throws GeneralSecurityException {
        if (len < MAC_LENGTH) {
            throw new GeneralSecurityException("a message of " + len + " bytes is shorter than its MAC");
        }
        start(Cipher.DECRYPT_MODE, ad);
        int n = cipher.doFinal(ciphertext, off, len, out, outOff);
        nonce++;
        return n;
    }

    private void start(int mode, byte[] ad) throws InvalidKeyException, InvalidAlgorithmParameterException {
        if (nonce == RESERVED_NONCE) {
            throw new InvalidAlgorithmParameterException("noise nonce exhausted: the session must end");
        }
        for (int i = 0; i < 8; i++) {
            iv[4 + i] = (byte) (nonce >>> (8 * i));
        }
        cipher.init(mode, key, new IvParameterSpec(iv)); // copies iv
        if (ad.length > 0) {
            cipher.updateAAD(ad);
        }
    }
}
