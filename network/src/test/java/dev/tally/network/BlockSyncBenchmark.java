package dev.tally.network;

import dev.tally.crypto.NodeSecretKey;
import dev.tally.protocol.FinalBlock;
import dev.tally.protocol.Payload;
import dev.tally.protocol.TestChain;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Block sync speed from one peer on loopback, with 1 MB blocks: not part of the test suite. Run with
 * {@code mvn -o -pl network test -Dtest=BlockSyncBenchmark -Dtally.bench=true -Dsurefire.failIfNoSpecifiedTests=false}.
 */
@EnabledIfSystemProperty(named = "tally.bench", matches = "true")
class BlockSyncBenchmark {
    static final int BLOCKS = Integer.getInteger("tally.bench.blocks", 200);
    static final int SIZE = Integer.getInteger("tally.bench.size", 1 << 20);
    static final int RUNS = Integer.getInteger("tally.bench.runs", 3);

    @Test
    void syncFromOnePeer() throws Exception {
        TestChain chain = TestNets.chain();
        Random rnd = new Random(1);
        List<FinalBlock> blocks = new ArrayList<>();
        long bytes = 0;
        for (int i = 0; i < BLOCKS; i++) {
            byte[] p = new byte[SIZE];
            rnd.nextBytes(p);
            Payload payload = Payload.of(p);
            FinalBlock b = new FinalBlock(payload, chain.commitQc(i + 1, i, payload));
            blocks.add(b);
            bytes += dev.tally.protocol.Codec.encode(b).length;
        }
        RpcConfig unlimited = RpcConfig.defaults(2 * SIZE, 1 << 16)
                .with(Rpc.GET_BLOCK, new RpcConfig.Limit(RpcConfig.Rate.UNLIMITED, 1024, 2 * SIZE + 1024));
        RpcConfig defaults = RpcConfig.defaults(2 * SIZE, 1 << 16);
        var os = java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        System.out.printf(
                "block sync benchmark: %d blocks of %d bytes (%.1f MB encoded), %d cores, %s %s, Java %s, load average %.2f%n",
                BLOCKS,
                SIZE,
                bytes / 1e6,
                Runtime.getRuntime().availableProcessors(),
                os.getName(),
                os.getArch(),
                Runtime.version(),
                os.getSystemLoadAverage());
        // Warm-up (JIT): one sync of a quarter of the chain, not reported.
        syncOnce(chain, blocks.subList(0, Math.max(1, BLOCKS / 4)), unlimited);
        for (var cfg : List.of(
                new Object[] {"get_block unlimited", unlimited}, new Object[] {"get_block default 100/s", defaults})) {
            double[] rates = new double[RUNS];
            for (int run = 0; run < RUNS; run++) {
                double load = os.getSystemLoadAverage();
                long cpu0 = processCpuNanos();
                double secs = syncOnce(chain, blocks, (RpcConfig) cfg[1]);
                double cpuMsPerBlock = (processCpuNanos() - cpu0) / 1e6 / BLOCKS;
                rates[run] = BLOCKS / secs;
                System.out.printf(
                        "  %-24s run %d: %.2f s, %.1f blocks/s, %.1f MB/s, %.1f ms CPU per block, both ends (load average %.2f before)%n",
                        cfg[0], run + 1, secs, BLOCKS / secs, bytes / 1e6 / secs, cpuMsPerBlock, load);
            }
            java.util.Arrays.sort(rates);
            double median = rates[RUNS / 2];
            System.out.printf(
                    "  %-24s median of %d: %.1f blocks/s, %.1f MB/s (min %.1f, max %.1f blocks/s)%n",
                    cfg[0], RUNS, median, median * bytes / BLOCKS / 1e6, rates[0], rates[RUNS - 1]);
        }
    }

    /** CPU time of this JVM (both ends of the sync run in it), or -1 where the platform does not say. */
    static long processCpuNanos() {
        return java.lang.management.ManagementFactory.getOperatingSystemMXBean()
                        instanceof com.sun.management.OperatingSystemMXBean o
                ? o.getProcessCpuTime()
                : -1;
    }

    /** Where the time goes: the per-block costs of one side, on one thread. */
    @Test
    void costBreakdown() throws Exception {
        TestChain chain = TestNets.chain();
        byte[] p = new byte[SIZE];
        new Random(2).nextBytes(p);
        Payload payload = Payload.of(p);
        FinalBlock b = new FinalBlock(payload, chain.commitQc(1, 0, payload));
        var hs = new com.southernstorm.noise.protocol.HandshakeState(
                NoiseStream.PROTOCOL, com.southernstorm.noise.protocol.HandshakeState.INITIATOR);
        var cipher = com.southernstorm.noise.protocol.Noise.createCipher("ChaChaPoly");
        cipher.initializeKey(new byte[32], 0);
        hs.destroy();
        byte[] out = new byte[NoiseStream.MAX_MESSAGE];
        int reps = 20;
        for (int warm = 0; warm < 2; warm++) {
            long t0 = System.nanoTime();
            for (int r = 0; r < reps; r++) {
                for (int off = 0; off < SIZE; off += NoiseStream.MAX_PAYLOAD) {
                    cipher.encryptWithAd(null, p, off, out, 0, Math.min(NoiseStream.MAX_PAYLOAD, SIZE - off));
                }
            }
            long t1 = System.nanoTime();
            for (int r = 0; r < reps; r++) {
                dev.tally.crypto.Keccak256.of(p);
            }
            long t2 = System.nanoTime();
            for (int r = 0; r < reps; r++) {
                dev.tally.protocol.Codec.decodeFinalBlock(dev.tally.protocol.Codec.encode(b));
            }
            long t3 = System.nanoTime();
            for (int r = 0; r < reps; r++) {
                b.justification().verify(chain.epoch);
            }
            long t4 = System.nanoTime();
            if (warm == 1) {
                System.out.printf(
                        "per 1 MB block, one thread: ChaChaPoly (noise-java) %.1f ms, keccak-256 %.1f ms, encode+decode %.1f ms, commit QC verify %.1f ms%n",
                        (t1 - t0) / 1e6 / reps, (t2 - t1) / 1e6 / reps, (t3 - t2) / 1e6 / reps, (t4 - t3) / 1e6 / reps);
            }
        }
    }

    // `me` is never named in the body: it is open, syncing from the server, for exactly as long as the body runs.
    @SuppressWarnings("try")
    static double syncOnce(TestChain chain, List<FinalBlock> blocks, RpcConfig rpc) throws Exception {
        NodeSecretKey serverKey = NodeSecretKey.generate();
        TestNets.MemoryStore theirs = new TestNets.MemoryStore(0).with(blocks);
        try (Network server = Network.start(
                TestNets.config(serverKey, chain)
                        .rpc(rpc)
                        .maxBlockSize(2 * SIZE)
                        .build(),
                theirs,
                theirs,
                TestNets.NO_TXS)) {
            TestNets.MemoryStore mine = new TestNets.MemoryStore(0);
            long start = System.nanoTime();
            try (Network me = Network.start(
                    TestNets.config(NodeSecretKey.generate(), chain)
                            .rpc(rpc)
                            .maxBlockSize(2 * SIZE)
                            .verifierThreads(Runtime.getRuntime().availableProcessors())
                            .gossipStaticOutbound(serverKey.publicKey(), server.boundAddress())
                            .build(),
                    mine,
                    mine,
                    TestNets.NO_TXS)) {
                TestNets.await("sync", Duration.ofMinutes(5), () -> mine.last == blocks.size() - 1);
                return (System.nanoTime() - start) / 1e9;
            }
        }
    }
}
