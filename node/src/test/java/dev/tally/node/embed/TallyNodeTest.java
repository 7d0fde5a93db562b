package dev.tally.node.embed;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tally.execution.Application;
import dev.tally.execution.AppliedState;
import dev.tally.execution.TxCheck;
import dev.tally.network.TransactionSink;
import dev.tally.node.SoloNode;
import dev.tally.node.client.TallyClient;
import dev.tally.node.executor.NodeFailedException;
import dev.tally.node.rpc.NodeHttp;
import dev.tally.protocol.TestChain;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** A one-validator node started from Java with an application, as an embedder starts one. */
class TallyNodeTest {
    /** Keeps every transaction it applies; refuses transactions starting with "bad"; its root is the count. */
    static final class Journal implements Application {
        final List<String> applied = new CopyOnWriteArrayList<>();
        final List<Long> blocks = new CopyOnWriteArrayList<>();
        volatile Optional<AppliedState> last = Optional.empty();
        volatile String explodeOn = null;

        @Override
        public Optional<AppliedState> lastApplied() {
            return last;
        }

        @Override
        public TxCheck checkTx(byte[] tx) {
            return text(tx).startsWith("bad") ? TxCheck.refused("no bad words") : TxCheck.ok();
        }

        @Override
        public byte[] applyBlock(long blockNumber, List<byte[]> txs) {
            for (byte[] tx : txs) {
                if (text(tx).equals(explodeOn)) {
                    throw new IllegalStateException("cannot apply " + explodeOn);
                }
                applied.add(text(tx));
            }
            blocks.add(blockNumber);
            byte[] root = new byte[] {(byte) applied.size()};
            last = Optional.of(new AppliedState(blockNumber, root));
            return root;
        }

        private static String text(byte[] b) {
            return new String(b, StandardCharsets.UTF_8);
        }
    }

    private static byte[] tx(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @TempDir
    Path dir;

    // One chain for all starts of a test: a restart must find the same genesis in the data directory.
    private final TestChain chain = new TestChain(1);

    private TallyNode start(Journal app) throws NodeStartException {
        return TallyNode.builder(SoloNode.config(chain))
                .application(app)
                .dataDir(dir)
                .start();
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void aTransactionIsCheckedOrderedAndApplied() throws Exception {
        Journal app = new Journal();
        try (TallyNode node = start(app)) {
            assertThat(node.submitTransaction(tx("bad tx")))
                    .isEqualTo(new TransactionSink.Result.Rejected("no bad words"));
            assertThat(node.submitTransaction(tx("hello"))).isEqualTo(TransactionSink.Result.ACCEPTED);
            while (!app.applied.contains("hello")) {
                Thread.sleep(20);
            }
            assertThat(app.applied).containsExactly("hello");
        }
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void anRpcAddressWithPortZeroIsReportedAsBoundAndServesClients() throws Exception {
        Journal app = new Journal();
        InetSocketAddress anyPort = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
        try (TallyNode node = TallyNode.builder(
                        SoloNode.config(chain).toBuilder().rpcAddr(anyPort).build())
                .application(app)
                .start()) {
            InetSocketAddress rpc = node.rpcAddress().orElseThrow();
            assertThat(rpc.getPort()).isPositive();
            try (TallyClient client = new TallyClient(URI.create("http://" + NodeHttp.text(rpc) + "/"))) {
                assertThat(client.submit(List.of(tx("over rpc"))).results())
                        .containsExactly(new TallyClient.TxStatus.Accepted());
            }
            while (!app.applied.contains("over rpc")) {
                Thread.sleep(20);
            }
        }
        // Without servers there is no RPC address, whatever the config says.
        try (TallyNode node = TallyNode.builder(
                        SoloNode.config(chain).toBuilder().rpcAddr(anyPort).build())
                .servers(false)
                .start()) {
            assertThat(node.rpcAddress()).isEmpty();
        }
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void anApplyThatThrowsStopsTheNodeNamingTheBlock() throws Exception {
        Journal app = new Journal();
        app.explodeOn = "boom";
        try (TallyNode node = start(app)) {
            node.submitTransaction(tx("boom"));
            assertThatThrownBy(node::awaitTermination)
                    .isInstanceOf(NodeFailedException.class)
                    .hasMessageMatching("(?s).*application failed to apply block \\d+: .*cannot apply boom.*");
        }
        // The stored block that failed is tried again at the next start: it fails the start, naming the block.
        Journal again = new Journal();
        again.explodeOn = "boom";
        assertThatThrownBy(() -> start(again))
                .isInstanceOf(NodeStartException.class)
                .hasMessageContaining("failed to apply block");
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void aRestartReplaysTheBlocksTheApplicationLost() throws Exception {
        Journal app = new Journal();
        try (TallyNode node = start(app)) {
            node.submitTransaction(tx("one"));
            node.submitTransaction(tx("two"));
            while (app.applied.size() < 2) {
                Thread.sleep(20);
            }
        }
        // An application whose state was lost entirely gets every stored block again, before the node starts.
        Journal fresh = new Journal();
        try (TallyNode node = TallyNode.builder(SoloNode.config(chain))
                .application(fresh)
                .dataDir(dir)
                .servers(false)
                .start()) {
            // Every block the first run applied, again, in order, before the node started.
            assertThat(fresh.blocks.subList(0, app.blocks.size())).isEqualTo(app.blocks);
            assertThat(app.blocks.getFirst())
                    .isEqualTo(node.node().storedBlocks().first());
            assertThat(fresh.applied).startsWith("one", "two");
        }
    }
}
