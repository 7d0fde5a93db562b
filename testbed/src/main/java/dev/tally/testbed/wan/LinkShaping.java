package dev.tally.testbed.wan;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.Set;

/**
 * How the links get their latency, jitter and loss, and how a partition cuts them: {@link NetemShaping} in the
 * kernel, or {@link RelayShaping} in this process where the kernel has no netem.
 */
sealed interface LinkShaping extends AutoCloseable permits NetemShaping, RelayShaping {
    /** Where the other nodes dial node {@code node}. */
    InetSocketAddress dialed(int node);

    /** Cuts ({@code cut} true) or restores every link between {@code side} and the other nodes. */
    void setCut(Set<Integer> side, boolean cut) throws IOException;

    /** One line saying how the links are shaped. */
    String describe();

    @Override
    void close();
}
