package dev.tally.storage;

import dev.tally.protocol.ReplicaState;
import dev.tally.protocol.TestChain;
import java.io.PrintStream;
import java.nio.file.Path;

/**
 * The child process of {@link CrashTest}: opens {@link RocksStorage} in the directory given as the only argument
 * and, until it is killed, appends the next block of {@link #CHAIN} and persists a replica state one view higher
 * than the last. Each write is acknowledged on stdout ("block N", "state V") only after it returned, i.e. after
 * it was synced. The first line, "ready NEXT_BLOCK NEXT_VIEW", tells where it resumed.
 */
public final class CrashWriter {
    /** One validator: the cheapest chain to certify blocks for. */
    static final TestChain CHAIN = new TestChain(1);

    private CrashWriter() {}

    public static void main(String[] args) {
        PrintStream out = System.out;
        RocksStorage storage = RocksStorage.open(Path.of(args[0]), CHAIN.genesis);
        long next = storage.range().map(r -> r.last() + 1).orElse(CHAIN.genesis.firstBlock());
        long view = storage.replicaState().map(s -> s.view() + 1).orElse(1L);
        out.println("ready " + next + " " + view);
        out.flush();
        while (true) {
            storage.append(Blocks.block(CHAIN, next));
            out.println("block " + next);
            out.flush();
            next++;
            storage.persistReplicaState(new ReplicaState(
                    0,
                    view,
                    dev.tally.protocol.Phase.PREPARE,
                    java.util.Optional.empty(),
                    java.util.Optional.empty(),
                    java.util.Optional.empty(),
                    java.util.List.of()));
            out.println("state " + view);
            out.flush();
            view++;
        }
    }
}
