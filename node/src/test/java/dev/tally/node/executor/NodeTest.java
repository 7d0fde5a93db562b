package dev.tally.node.executor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.tally.crypto.BlsSecretKey;
import dev.tally.crypto.NodeSecretKey;
import dev.tally.execution.MempoolExecutionLayer;
import dev.tally.execution.TransactionPayload;
import dev.tally.network.LoopbackPorts;
import dev.tally.node.Await;
import dev.tally.node.ForwardingStorage;
import dev.tally.node.config.NodeConfig;
import dev.tally.protocol.FinalBlock;
import dev.tally.protocol.Phase;
import dev.tally.protocol.ReplicaState;
import dev.tally.protocol.ReplicaTimeout;
import dev.tally.protocol.TestChain;
import dev.tally.storage.InMemoryStorage;
import dev.tally.storage.Storage;
import dev.tally.storage.StorageException;
import dev.tally.storage.SyncGroup;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** Nodes in one JVM on loopback with in-memory storage: the executor wiring, shutdown and failure. */
class NodeTest {
    static final int N = 4;
    final TestChain chain = new TestChain(N);
    final List<Node> nodes = new ArrayList<>();

    @AfterEach
    void closeAll() {
        nodes.forEach(Node::close);
    }

    List<NodeConfig> configs() throws IOException {
        List<InetSocketAddress> addrs = new ArrayList<>();
        List<NodeSecretKey> keys = new ArrayList<>();
        for (int i = 0; i < N; i++) {
            addrs.add(LoopbackPorts.freeAddress());
            keys.add(NodeSecretKey.generate());
        }
        List<NodeConfig> configs = new ArrayList<>();
        for (int i = 0; i < N; i++) {
            Map<dev.tally.crypto.NodePublicKey, InetSocketAddress> peers = new java.util.HashMap<>();
            for (int j = 0; j < i; j++) {
                peers.put(keys.get(j).publicKey(), addrs.get(j));
            }
            configs.add(new NodeConfig(
                    addrs.get(i),
                    addrs.get(i),
                    Optional.empty(),
                    Optional.empty(),
                    Optional.empty(),
                    chain.genesis,
                    100_000,
                    10_000,
                    Duration.ofMillis(1000),
                    Optional.of(chain.keys.get(i)),
                    keys.get(i),
                    100,
                    List.of(),
                    peers,
                    Duration.ofSeconds(5),
                    Optional.empty(),
                    List.of()));
        }
        return configs;
    }

    Node start(NodeConfig cfg, Storage storage) throws IOException {
        Node node = Node.start(
                cfg, storage, new MempoolExecutionLayer(storage, chain.genesis, cfg.maxTxSize(), 1000, List.of()));
        nodes.add(node);
        return node;
    }

    @Test
    void validatorsFinalizeBlocksPersistTheirStateAndStopCleanly() throws Exception {
        List<Storage> stores = new ArrayList<>();
        for (NodeConfig cfg : configs()) {
            Storage s = InMemoryStorage.create(chain.genesis);
            stores.add(s);
            start(cfg, s);
        }
        nodes.getFirst().submitTransaction(new byte[] {1, 2, 3});
        for (Node n : nodes) {
            Await.until(
                    "block 3 on every node",
                    Duration.ofSeconds(30),
                    () -> n.storedBlocks().last() >= 3);
        }
        for (int i = 0; i < N; i++) {
            ReplicaStatus status = nodes.get(i).replicaStatus().orElseThrow();
            assertThat(status.view()).isGreaterThan(3);
            ReplicaState persisted = stores.get(i).replicaState().orElseThrow();
            assertThat(persisted.view()).isGreaterThan(0);
        }
        for (long b = 0; b <= 3; b++) {
            FinalBlock reference = stores.getFirst().block(b).orElseThrow();
            for (Storage s : stores) {
                assertThat(s.block(b).orElseThrow().header()).isEqualTo(reference.header());
            }
        }
        Node first = nodes.getFirst();
        first.close();
        first.awaitTermination(); // a clean stop: no failure
        assertThatThrownBy(() -> stores.getFirst().range()).isInstanceOf(StorageException.class);
    }

    @Test
    void aStorageFailureStopsTheNodeNamingTheComponent() throws Exception {
        List<NodeConfig> configs = configs();
        // A validator that has run before: one that starts without state writes none until it learns the view
        // from its peers, and this one is alone. Its first timeout must be persisted, and that write fails.
        Storage inner = InMemoryStorage.create(chain.genesis);
        List<ReplicaTimeout> timeouts = new ArrayList<>();
        for (int i = 0; i < N; i++) {
            timeouts.add(new ReplicaTimeout(chain.view(0), Optional.empty(), Optional.empty()));
        }
        inner.persistReplicaState(new ReplicaState(
                0,
                1,
                Phase.PREPARE,
                Optional.empty(),
                Optional.empty(),
                Optional.of(chain.timeoutQc(0, timeouts)),
                List.of()));
        Storage failing = new FailingStateStore(inner);
        Node node = start(configs.getFirst(), failing);
        assertThatThrownBy(node::awaitTermination)
                .isInstanceOf(NodeFailedException.class)
                .hasMessageContaining("replica")
                .hasMessageContaining("disk full");
    }

    @Test
    void aValidatorKeyOutsideTheCommitteeIsRefusedBeforeTheNetworkStarts() throws Exception {
        NodeConfig cfg = configs().getFirst();
        NodeConfig stranger = new NodeConfig(
                cfg.serverAddr(),
                cfg.publicAddr(),
                Optional.empty(),
                Optional.empty(),
                Optional.empty(),
                cfg.genesis(),
                cfg.maxPayloadSize(),
                cfg.maxTxSize(),
                cfg.viewTimeout(),
                Optional.of(BlsSecretKey.generate()),
                cfg.nodeKey(),
                100,
                List.of(),
                Map.of(),
                cfg.fetchScheduleInterval(),
                Optional.empty(),
                List.of());
        assertThatThrownBy(() -> start(stranger, InMemoryStorage.create(chain.genesis)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("not in the committee");
        // The port was never bound.
        try (ServerSocket s =
                new ServerSocket(cfg.serverAddr().getPort(), 1, cfg.serverAddr().getAddress())) {
            assertThat(s.isBound()).isTrue();
        }
    }

    @Test
    void aStalledValidatorSaysWhereItStandsAndWhatIsMissing() throws Exception {
        ListAppender<ILoggingEvent> warnings = new ListAppender<>();
        warnings.start();
        Logger stallLog = (Logger) LoggerFactory.getLogger(ProgressWatch.class);
        stallLog.addAppender(warnings);
        try {
            NodeConfig cfg = configs().getFirst();
            NodeConfig fast = new NodeConfig(
                    cfg.serverAddr(),
                    cfg.publicAddr(),
                    Optional.empty(),
                    Optional.empty(),
                    Optional.empty(),
                    cfg.genesis(),
                    cfg.maxPayloadSize(),
                    cfg.maxTxSize(),
                    Duration.ofMillis(100),
                    cfg.validatorKey(),
                    cfg.nodeKey(),
                    100,
                    List.of(),
                    Map.of(),
                    cfg.fetchScheduleInterval(),
                    Optional.empty(),
                    List.of());
            start(fast, InMemoryStorage.create(chain.genesis)); // alone: 1 of 4 validators, no quorum ever
            Await.until("a stall warning", Duration.ofSeconds(10), () -> !warnings.list.isEmpty());
            ILoggingEvent w = warnings.list.getFirst();
            assertThat(w.getLevel()).isEqualTo(Level.WARN);
            assertThat(w.getFormattedMessage())
                    .contains(
                            "no block finalized",
                            "view ",
                            "phase TIMEOUT",
                            "connected to 0 of 3 other validators",
                            "no quorum of timeout votes");
        } finally {
            stallLog.detachAppender(warnings);
        }
    }

    @Test
    void anIdleNetworkMakesAnEmptyBlockAboutOncePerIntervalWhileTransactionsWaitForNone() throws Exception {
        Duration interval = Duration.ofMillis(450); // below half the 1 s view timeout of these configs
        for (NodeConfig cfg : configs()) {
            start(cfg.toBuilder().emptyBlockInterval(interval).build(), InMemoryStorage.create(chain.genesis));
        }
        Node node0 = nodes.getFirst();
        Await.until(
                "block 1", Duration.ofSeconds(30), () -> node0.storedBlocks().last() >= 1);
        long from = node0.storedBlocks().last();
        long start = System.nanoTime();
        Thread.sleep(4_000);
        double seconds = (System.nanoTime() - start) / 1e9;
        long made = node0.storedBlocks().last() - from;
        // At most one empty block per interval (and one more already on its way); still live.
        assertThat(made).isBetween(2L, (long) (seconds * 1000 / interval.toMillis()) + 1);

        // A transaction submitted just after a block, while the next leader waits, is proposed at once.
        List<Long> latencies = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            long last = node0.storedBlocks().last();
            Await.until(
                    "the next block",
                    Duration.ofSeconds(10),
                    () -> node0.storedBlocks().last() > last);
            long sent = System.nanoTime();
            node0.submitTransaction(new byte[] {7, (byte) i});
            Await.until("the transaction final", Duration.ofSeconds(10), () -> holdsTransaction(node0, last + 1));
            latencies.add((System.nanoTime() - sent) / 1_000_000);
        }
        latencies.sort(null);
        assertThat(latencies.get(1)).as("median ms of %s", latencies).isLessThan(interval.toMillis() * 6 / 10);
    }

    /** Whether a final block from {@code from} on carries a transaction. */
    private static boolean holdsTransaction(Node node, long from) {
        for (long n = from; n <= node.storedBlocks().last(); n++) {
            if (node.execution().block(n).orElseThrow().payload().size() > TransactionPayload.HEADER_SIZE) {
                return true;
            }
        }
        return false;
    }

    @Test
    void aFinalBlockIsWrittenInOneSyncGroupWithTheNextViewsState() throws Exception {
        List<GroupRecorder> stores = new ArrayList<>();
        for (NodeConfig cfg : configs()) {
            GroupRecorder s = new GroupRecorder(InMemoryStorage.create(chain.genesis));
            stores.add(s);
            start(cfg, s);
        }
        for (Node n : nodes) {
            Await.until(
                    "block 3 on every node",
                    Duration.ofSeconds(30),
                    () -> n.storedBlocks().last() >= 3);
        }
        for (GroupRecorder s : stores) {
            List<String> loop = s.eventsOf(s.groupThread);
            assertThat(loop).as("the replica loop opened groups").contains("open");
            assertThat(String.join(" ", loop))
                    .as("a final block and the next view's state, in one group")
                    .contains("open append state close");
            boolean open = false;
            for (int i = 0; i + 1 < loop.size(); i++) {
                switch (loop.get(i)) {
                    case "open" -> open = true;
                    case "close" -> open = false;
                    case "append" ->
                        assertThat(open || !loop.get(i + 1).equals("state"))
                                .as("a final block and the state after it, synced apart")
                                .isTrue();
                    default -> {}
                }
            }
        }
    }

    /** Storage that records, by thread, its sync groups and the writes made on the thread that opens them. */
    static final class GroupRecorder extends ForwardingStorage {
        private final List<Map.Entry<Thread, String>> events = new CopyOnWriteArrayList<>();
        volatile Thread groupThread;

        GroupRecorder(Storage inner) {
            super(inner);
        }

        private void record(String event) {
            events.add(Map.entry(Thread.currentThread(), event));
        }

        List<String> eventsOf(Thread thread) {
            return events.stream()
                    .filter(e -> e.getKey() == thread)
                    .map(Map.Entry::getValue)
                    .toList();
        }

        @Override
        public SyncGroup syncGroup() {
            groupThread = Thread.currentThread();
            record("open");
            SyncGroup inner = super.syncGroup();
            return () -> {
                record("close");
                inner.close();
            };
        }

        @Override
        public void append(FinalBlock b) {
            record("append");
            super.append(b);
        }

        @Override
        public void persistReplicaState(ReplicaState s) {
            record("state");
            super.persistReplicaState(s);
        }
    }

    /** Storage whose replica-state writes fail, as a full disk would make them. */
    static final class FailingStateStore extends ForwardingStorage {
        FailingStateStore(Storage inner) {
            super(inner);
        }

        @Override
        public void persistReplicaState(ReplicaState s) {
            throw new StorageException("disk full");
        }
    }
}
