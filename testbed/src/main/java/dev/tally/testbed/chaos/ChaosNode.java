package dev.tally.testbed.chaos;

import dev.tally.testbed.localnet.Localnet;
import dev.tally.testbed.localnet.RpcClient;

/**
 * One validator as the chaos run sees it: its process and what the chain audit learnt from it. Mutable fields are
 * guarded by the object's lock; {@link #generation} changes whenever the process does, so that an audit of an older
 * process does not count against the new one.
 */
final class ChaosNode {
    enum Status {
        UP,
        DOWN,
        PAUSED
    }

    final int index;
    final Localnet.Member member;
    final RpcClient rpc;
    Process process;
    Status status = Status.DOWN;
    long generation;
    /** The newest block the node reported as stored; −1 after a wipe. */
    long maxReported = -1;
    /** Blocks 0..checkedUpTo of this process were compared with the others. */
    long checkedUpTo = -1;

    long height = -1;
    /** Set on launch: the first answer must show every block reported before. */
    boolean recheck;

    long restartedAt;
    long catchUpTarget;

    ChaosNode(int index, Localnet.Member member) {
        this.index = index;
        this.member = member;
        this.rpc = new RpcClient(member.config().rpcAddr().orElseThrow());
    }

    String name() {
        return member.name();
    }

    synchronized Status status() {
        return status;
    }
}
