package dev.tally.network;

import dev.tally.protocol.ChonkyMessage;
import dev.tally.protocol.Epoch;
import dev.tally.protocol.Signed;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's network: one TCP port serving the gossip endpoint (every node) and the consensus endpoint
 * (validators), with an accept rate limit. What the node wires:
 * <ul>
 *   <li>in: {@link BlockSource} and {@link BlockSink} (its block store), {@link TransactionSink} (its mempool);
 *   <li>out: {@link #inbox()}, the verified consensus messages for the replica; {@link #broadcast} for the
 *       replica's outputs; {@link #gossip()} for transactions and block-store notifications; {@link #addressBook()}.
 * </ul>
 */
public final class Network implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Network.class);

    private final NetworkConfig config;
    private final ServerSocket server;
    private final ExecutorService verifier;
    private final CachingQcVerifier qcs = new CachingQcVerifier(1024);
    private final ValidatorAddressBook book;
    private final ConsensusInbox inbox = new ConsensusInbox();
    private final GossipNetwork gossip;
    private final ConsensusMesh mesh;
    private final TokenBucket acceptRate;
    private volatile boolean closed;
    private volatile Epoch epoch;

    private Network(NetworkConfig config, BlockSource source, BlockSink sink, TransactionSink txs) throws IOException {
        this.config = config;
        this.verifier = new VerifierExecutor(config.verifierThreads);
        this.epoch = config.epoch;
        this.book = new ValidatorAddressBook(config.epoch.committee());
        book.setCommittees(committees(config.epoch));
        this.gossip = new GossipNetwork(config, source, sink, txs, book, qcs, verifier);
        this.mesh = config.validatorKey.isPresent() ? new ConsensusMesh(config, book, inbox, qcs) : null;
        this.acceptRate = new TokenBucket(config.acceptRate);
        this.server = new ServerSocket();
        server.setReuseAddress(true);
        server.bind(config.listenAddress, 128);
    }

    /** Binds the port and starts gossip, block sync and (on validators) the consensus mesh. */
    public static Network start(NetworkConfig config, BlockSource source, BlockSink sink, TransactionSink txs)
            throws IOException {
        Network net = new Network(config, source, sink, txs);
        Thread.ofVirtual().name("net-accept " + net.boundAddress()).start(net::acceptLoop);
        net.gossip.start();
        if (net.mesh != null) {
            net.mesh.start(config.publicAddress.orElse(net.boundAddress()));
        }
        log.info(
                "network listening on {} as {}{}",
                net.boundAddress(),
                config.nodeKey.publicKey(),
                config.validatorKey.map(k -> " / " + k.publicKey()).orElse(" (full node)"));
        return net;
    }

    /**
     * Moves consensus to the committee of {@code next} (the executor calls it once the last block of the previous
     * epoch is stored): the mesh connects to the new validators and verifies messages against {@code next}; the
     * address book accepts the announcements of its members and of the epoch after it.
     */
    public synchronized void switchEpoch(Epoch next) {
        if (next.number() <= epoch.number()) {
            return;
        }
        epoch = next;
        book.setCommittees(committees(next));
        if (mesh != null) {
            mesh.switchEpoch(next);
        }
        gossip.notifyBlocksChanged();
    }

    /** The epoch consensus runs in. */
    public Epoch epoch() {
        return epoch;
    }

    /** The committee of {@code e} and of the epoch announced after it, if any. */
    private java.util.List<dev.tally.protocol.ValidatorSchedule> committees(Epoch e) {
        java.util.List<dev.tally.protocol.ValidatorSchedule> all = new java.util.ArrayList<>();
        all.add(e.committee());
        config.pendingEpoch.apply(e.firstBlock()).ifPresent(p -> all.add(p.committee()));
        return all;
    }

    public InetSocketAddress boundAddress() {
        return (InetSocketAddress) server.getLocalSocketAddress();
    }

    /** Verified consensus messages for the replica to take. */
    public ConsensusInbox inbox() {
        return inbox;
    }

    /** Sends a message to every validator of the committee, this one included (validators only). */
    public void broadcast(Signed<? extends ChonkyMessage> message) {
        consensus()
                .orElseThrow(() -> new IllegalStateException("not a validator: no consensus mesh"))
                .broadcast(message);
    }

    public Optional<ConsensusMesh> consensus() {
        return Optional.ofNullable(mesh);
    }

    public GossipNetwork gossip() {
        return gossip;
    }

    public ValidatorAddressBook addressBook() {
        return book;
    }

    public CachingQcVerifier qcVerifier() {
        return qcs;
    }

    private void acceptLoop() {
        while (!closed) {
            Socket s;
            try {
                acceptRate.acquire();
                s = server.accept();
            } catch (IOException | InterruptedException e) {
                if (!closed) {
                    log.warn("accept failed: {}", e.getMessage());
                }
                continue;
            }
            Thread.ofVirtual()
                    .name("net-handshake " + s.getRemoteSocketAddress())
                    .start(() -> handshake(s));
        }
    }

    private void handshake(Socket s) {
        String remote = String.valueOf(s.getRemoteSocketAddress());
        try {
            s.setSoTimeout((int) Preface.TIMEOUT.toMillis());
            Preface.Accepted a = Preface.accept(s);
            switch (a.endpoint()) {
                case GOSSIP -> gossip.acceptInbound(a.stream(), remote);
                case CONSENSUS, CONSENSUS_STREAM, CONSENSUS_DUPLEX -> {
                    if (mesh == null) {
                        throw new HandshakeException("consensus endpoint requested from a full node");
                    }
                    if (a.endpoint().compareTo(config.newestConsensusEndpoint) > 0) {
                        throw new HandshakeException(a.endpoint() + " not served (acting as an earlier build)");
                    }
                    mesh.acceptInbound(a.stream(), remote, a.endpoint());
                }
            }
        } catch (IOException | RuntimeException e) {
            log.info("inbound connection from {} refused: {}", remote, e.getMessage());
            try {
                s.close();
            } catch (IOException ignored) {
                // already failing
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        try {
            server.close();
        } catch (IOException ignored) {
            // closing anyway
        }
        if (mesh != null) {
            mesh.close();
        }
        gossip.close();
        verifier.shutdownNow();
    }

    /** A check that may throw; see {@link #onVerifier}. */
    interface Check {
        void run() throws Exception;
    }

    /** Runs CPU-heavy verification on the verifier pool and waits for it, rethrowing its failure as it was thrown. */
    static void onVerifier(ExecutorService verifier, Check check) throws Exception {
        try {
            verifier.submit(() -> {
                        check.run();
                        return null;
                    })
                    .get();
        } catch (ExecutionException e) {
            throw e.getCause() instanceof Exception ex ? ex : e;
        }
    }
}
