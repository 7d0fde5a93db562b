package dev.tally.microbench;

import com.southernstorm.noise.protocol.CipherState;
import com.southernstorm.noise.protocol.Noise;
import dev.tally.network.NoiseCipher;
import java.security.GeneralSecurityException;
import java.util.Random;
import java.util.concurrent.TimeUnit;
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
 * pure-Java ChaChaPoly {@link CipherState} against the network's {@link NoiseCipher}, the JDK's
 * {@code ChaCha20-Poly1305} (with its intrinsics) initialised per message with the Noise nonce. Sizes:
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
    private static final byte[] NO_AD = new byte[0];

    @Param({"200", "4096", "65519"})
    int size;

    byte[] plain;
    byte[] sealed;
    byte[] opened;

    CipherState noiseSender;
    CipherState noiseReceiver;

    NoiseCipher jdkSender;
    NoiseCipher jdkReceiver;

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
        jdkSender = new NoiseCipher(k);
        jdkReceiver = new NoiseCipher(k);
    }

    @Benchmark
    public byte[] noiseJava() throws GeneralSecurityException {
        int n = noiseSender.encryptWithAd(null, plain, 0, sealed, 0, size);
        noiseReceiver.decryptWithAd(null, sealed, 0, opened, 0, n);
        return opened;
    }

    @Benchmark
    public byte[] jdk() throws GeneralSecurityException {
        int n = jdkSender.encryptWithAd(NO_AD, plain, 0, size, sealed, 0);
        jdkReceiver.decryptWithAd(NO_AD, sealed, 0, n, opened, 0);
        return opened;
    }
}
