package dev.tally.node.debug;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.tally.node.SoloNode;
import dev.tally.node.executor.Node;
import dev.tally.node.rpc.NodeHttp;
import dev.tally.protocol.TestChain;
import java.io.File;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The debug page of a running validator, rendered by headless Chromium (as a browser sees it, not as a string
 * check of our own HTML): identity, limits, view and phase, finalized height, traffic, validators and sync queue
 * appear. {@code .ci/run} installs Chromium; without it the test is skipped, saying so.
 */
class DebugPageChromiumTest {
    static final TestChain CHAIN = new TestChain(1);

    @TempDir
    Path profile;

    static Optional<String> chromium() {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin").split(File.pathSeparator)) {
            for (String name : List.of("chromium", "chromium-browser", "google-chrome")) {
                if (Files.isExecutable(Path.of(dir, name))) {
                    return Optional.of(Path.of(dir, name).toString());
                }
            }
        }
        return Optional.empty();
    }

    @Test
    @Timeout(value = 2, unit = TimeUnit.MINUTES)
    void chromiumRendersIdentityViewHeightPeersAndValidators() throws Exception {
        Optional<String> browser = chromium();
        assumeTrue(browser.isPresent(), "no chromium on PATH: .ci/run installs it (apt-get install -y chromium)");
        InetSocketAddress any = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
        Node node = SoloNode.start(CHAIN);
        try {
            DebugPage page = DebugPage.start(node, any);
            node.attach(page);
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (node.storedBlocks().last() < 2 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertThat(node.storedBlocks().last()).isGreaterThanOrEqualTo(2);
            String url = "http://" + NodeHttp.text(page.address()) + "/";
            Process p = new ProcessBuilder(
                            browser.get(),
                            "--headless",
                            "--no-sandbox",
                            "--disable-gpu",
                            "--disable-dev-shm-usage",
                            "--user-data-dir=" + profile,
                            "--dump-dom",
                            url)
                    .redirectError(profile.resolve("chromium.err").toFile())
                    .start();
            String dom;
            try {
                dom = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("chromium exits").isTrue();
            } finally {
                p.destroyForcibly();
            }
            assertThat(dom)
                    .as("DOM dumped by chromium; stderr: %s", Files.readString(profile.resolve("chromium.err")))
                    .contains("<h1>tally node</h1>")
                    .contains(node.config().nodeKey().publicKey().toText())
                    .contains(CHAIN.keys.getFirst().publicKey().toText())
                    .contains("max payload size")
                    .contains("100000 bytes")
                    .containsPattern("<td>view</td><td>\\d+</td>")
                    .containsPattern("<td>phase</td><td>(prepare|commit|timeout)</td>")
                    .containsPattern("<td>finalized height</td><td>\\d+</td>")
                    .contains("<td>epoch</td><td>0 (from block 0, 1 validators)</td>")
                    .contains("Gossip peers")
                    .contains("sync queue")
                    .contains("gossip sent / received")
                    .contains("Validators");
        } finally {
            node.close();
        }
    }
}
