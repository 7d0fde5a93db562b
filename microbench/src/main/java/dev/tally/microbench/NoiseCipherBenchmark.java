package dev.tally.microbench;

import com.southernstorm.noise.protocol.CipherState;
import com.southernstorm.noise.protocol.Noise;
import java.security.GeneralSecurityException;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import javax.crypto.Cipher;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The Noise transport cipher, one message encrypted and then decrypted (empty associated data): noise-java's
 * pure-Java ChaChaPoly {@link CipherState} against the JDK's {@code ChaCha20-Poly1305} {@link Cipher} (with its
 * intrinsics), initialised per message with the Noise nonce (4 zero bytes ++ 64-bit little-endian counter). Sizes:
 * a transaction, a typical frame, and the largest transport message's plaintext (65,535 - 16 bytes).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Thread)
public class NoiseCipherBenchmark {
    private static final int MAC = 16;

    @Param({"200", "4096", "65519"})
    int size;

    byte[] plain;
    byte[] sealed;
    byte[] opened;

    CipherState noiseSender;
    CipherState noiseReceiver;

    SecretKeySpec key;
    Cipher jdkSender;
    Cipher jdkReceiver;
    long jdkNonce;

    @Setup
    public void setUp() throws GeneralSecurityException {
        plain = new byte[size];
        new Random(1).nextBytes(plain);
        sealed = new byte[size + MAC];
        opened = new byte[size];
        byte[] k = new byte[32];
        new Random(2).nextBytes(k);
        noiseSender = Noise.createCipher("ChaChaPoly");
        noiseSender.initializeKey(k, 0);
        noiseReceiver = Noise.createCipher("ChaChaPoly");
        noiseReceiver.initializeKey(k, 0);
        key = new SecretKeySpec(k, "ChaCha20");
        jdkSender = Cipher.getInstance("ChaCha20-Poly1305");
        jdkReceiver = Cipher.getInstance("ChaCha20-Poly1305");
    }

    @Benchmark
    public byte[] noiseJava() throws GeneralSecurityException {
        int n = noiseSender.encryptWithAd(null, plain, 0, sealed, 0, size);
        noiseReceiver.decryptWithAd(null, sealed, 0, opened, 0, n);
        return opened;
    }

    @Benchmark
    public byte[] jdk() throws GeneralSecurityException {
        IvParameterSpec nonce = nonce(jdkNonce++);
        jdkSender.init(Cipher.ENCRYPT_MODE, key, nonce);
        int n = jdkSender.doFinal(plain, 0, size, sealed, 0);
        jdkReceiver.init(Cipher.DECRYPT_MODE, key, nonce);
        jdkReceiver.doFinal(sealed, 0, n, opened, 0);
        return opened;
    }

    private static IvParameterSpec nonce(long counter) {
        byte[] iv = new byte[12];
        for (int i = 0; i < 8; i++) {
            iv[4 + i] = (byte) (counter >>> (8 * i));
        }
        return new IvParameterSpec(iv);
    }
}
