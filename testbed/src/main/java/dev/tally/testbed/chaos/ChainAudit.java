package dev.tally.testbed.chaos;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tally.protocol.Codec;
import dev.tally.protocol.DecodeException;
import dev.tally.protocol.Epoch;
import dev.tally.protocol.FinalBlock;
import dev.tally.protocol.InvalidMessageException;
import dev.tally.testbed.chaos.ChaosNode.Status;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The chain audit: one poller per node reads its height and every block it has not shown yet over RPC, verifies each
 * against the genesis and compares its payload hash with what the other nodes served at that height. It counts
 * disagreements, blocks a node no longer serves after a restart (lost blocks), and how long restarted nodes take to
 * catch up.
 */
final class ChainAudit {
    private final NodeProcesses nodes;
    private final Epoch epoch;
    private final RunLog log;
    private final Map<Long, String> canonical = new ConcurrentHashMap<>();
    private final AtomicLong disagreements = new AtomicLong();
    private final AtomicLong lostBlocks = new AtomicLong();
    private final List<Long> catchUps = new CopyOnWriteArrayList<>();
    private final List<Thread> pollers = new ArrayList<>();
    private volatile boolean stopped;

    ChainAudit(NodeProcesses nodes, Epoch epoch, RunLog log) {
        this.nodes = nodes;
        this.epoch = epoch;
        this.log = log;
    }

    void start() {
        for (ChaosNode n : nodes.all()) {
            pollers.add(Thread.ofVirtual().name("chaos-poll-" + n.index).start(() -> poll(n)));
        }
    }

    void stop() {
        stopped = true;
        pollers.forEach(Thread::interrupt);
    }

    long disagreements() {
        return disagreements.get();
    }

    long lostBlocks() {
        return lostBlocks.get();
    }

    List<Long> catchUpMillis() {
        return List.copyOf(catchUps);
    }

    /** Polls one node: its height, and every block it has not shown yet, compared with the others'. */
    private void poll(ChaosNode n) {
        while (!stopped) {
            try {
                Thread.sleep(300);
                pollOnce(n);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** Where a poll of one node starts: the node's process (generation) and what it had shown before. */
    private record Cursor(long generation, boolean recheck, long maxReported, long from) {}

    private void pollOnce(ChaosNode n) throws InterruptedException {
        Cursor c;
        synchronized (n) {
            if (n.status != Status.UP) {
                return;
            }
            c = new Cursor(n.generation, n.recheck, n.maxReported, n.recheck ? 0 : n.checkedUpTo + 1);
        }
        long h;
        try {
            JsonNode last = n.rpc.call("last_committed_block");
            h = last == null || last.isNull() ? -1 : last.get("number").asLong();
        } catch (IOException e) {
            return; // starting, stopping or busy
        }
        if (c.recheck() && !recheck(n, c, h)) {
            return;
        }
        long checked = checkBlocks(n, c, h);
        if (checked != Long.MIN_VALUE) {
            advance(n, c, h, checked);
        }
    }

    /** After a launch: the node must still serve every block it reported before. False if the process changed. */
    private boolean recheck(ChaosNode n, Cursor c, long h) {
        synchronized (n) {
            if (n.generation != c.generation()) {
                return false;
            }
            n.recheck = false;
            n.checkedUpTo = -1;
        }
        if (h < c.maxReported()) {
            lostBlocks.addAndGet(c.maxReported() - h);
            log.problem(
                    n.name() + " reported block " + c.maxReported() + " before its restart and only " + h + " after");
            log.log("LOST: " + n.name() + " had " + c.maxReported() + ", after restart " + h);
        }
        return true;
    }

    /** Checks blocks from the cursor up to {@code h}; the last one checked, or {@link Long#MIN_VALUE} if the process changed. */
    private long checkBlocks(ChaosNode n, Cursor c, long h) throws InterruptedException {
        long checked = c.from() - 1;
        for (long b = c.from(); b <= h && !stopped; b++) {
            JsonNode block;
            try {
                block = n.rpc.call("block", b);
            } catch (IOException e) {
                if (e.getMessage() != null && e.getMessage().contains("not stored") && b <= c.maxReported()) {
                    synchronized (n) {
                        if (n.generation != c.generation()) {
                            return Long.MIN_VALUE;
                        }
                    }
                    lostBlocks.incrementAndGet();
                    log.problem(n.name() + " no longer serves block " + b + " (it reported " + c.maxReported() + "): "
                            + e.getMessage());
                    checked = b;
                    continue;
                }
                break;
            }
            check(n, b, block);
            checked = b;
        }
        return checked;
    }

    /** Records what the poll showed, and a restarted node's catch-up once it reaches the height it restarted at. */
    private void advance(ChaosNode n, Cursor c, long h, long checked) {
        long now = System.nanoTime();
        synchronized (n) {
            if (n.generation != c.generation()) {
                return;
            }
            n.checkedUpTo = Math.max(n.checkedUpTo, checked);
            n.height = Math.max(h, n.height);
            n.maxReported = Math.max(n.maxReported, Math.min(h, n.checkedUpTo));
            if (n.restartedAt != 0 && h >= n.catchUpTarget) {
                long ms = (now - n.restartedAt) / 1_000_000;
                catchUps.add(ms);
                n.restartedAt = 0;
                log.log(n.name() + " caught up to " + n.catchUpTarget + " in " + ms + " ms");
            }
        }
    }

    private void check(ChaosNode n, long number, JsonNode b) {
        String hash;
        try {
            FinalBlock block = Codec.decodeFinalBlock(
                    HexFormat.of().parseHex(b.get("encoded").asText()));
            block.verify(epoch);
            if (block.number() != number) {
                throw new InvalidMessageException("asked for block " + number + ", got " + block.number());
            }
            hash = block.header().payload().toText();
        } catch (DecodeException | InvalidMessageException | RuntimeException e) {
            disagreements.incrementAndGet();
            log.problem(n.name() + " serves an invalid block " + number + ": " + e.getMessage());
            return;
        }
        String known = canonical.putIfAbsent(number, hash);
        if (known != null && !known.equals(hash)) {
            disagreements.incrementAndGet();
            log.problem("block " + number + ": " + n.name() + " has payload " + hash + ", another node " + known);
            log.log("DISAGREEMENT at block " + number + " on " + n.name());
        }
    }
}
