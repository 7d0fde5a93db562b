package dev.tally.testbed.chaos;

import dev.tally.testbed.localnet.Localnet;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The links between validators: one {@link ChaosProxy} in front of each, all applying the current {@link LinkPolicy}
 * (partitions, delay, dropped connections).
 */
final class Links implements AutoCloseable {
    private final List<ChaosProxy> proxies = new ArrayList<>();
    private final RunLog log;
    private volatile LinkPolicy policy = LinkPolicy.CLEAR;

    /** Starts a proxy for each member; {@code pids} maps a process id to the node it runs, as the proxies need it. */
    Links(List<Localnet.Member> members, Supplier<Map<Long, Integer>> pids, long seed, RunLog log) throws IOException {
        this.log = log;
        try {
            for (int i = 0; i < members.size(); i++) {
                proxies.add(new ChaosProxy(i, members.get(i).config().serverAddr(), () -> policy, pids, seed + i));
            }
        } catch (IOException | RuntimeException e) {
            close();
            throw e;
        }
    }

    /** Where peers dial node {@code i}. */
    InetSocketAddress address(int i) {
        return proxies.get(i).address();
    }

    List<Integer> ports() {
        return proxies.stream().map(p -> p.address().getPort()).toList();
    }

    LinkPolicy policy() {
        return policy;
    }

    /** Applies {@code p} at once (dropping connections it forbids), logging {@code what}. */
    void set(LinkPolicy p, String what) {
        policy = p;
        log.log(what);
        proxies.forEach(ChaosProxy::enforce);
    }

    @Override
    public void close() {
        proxies.forEach(ChaosProxy::close);
    }
}
