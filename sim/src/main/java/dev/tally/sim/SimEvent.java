package dev.tally.sim;

import dev.tally.consensus.Input;
import dev.tally.protocol.ChonkyMessage;
import dev.tally.protocol.FinalBlock;
import dev.tally.protocol.Signed;
import java.util.List;

/**
 * Everything that can happen in a run, at a time the {@link EventLoop} keeps. An event for a node carries the node's
 * {@code life} when it was scheduled, so what was meant for a node before it crashed does not reach it afterwards.
 */
sealed interface SimEvent {
    record Deliver(int from, int to, int life, Signed<? extends ChonkyMessage> message) implements SimEvent {}

    record Timer(int node, int life) implements SimEvent {}

    record Answer(int node, int life, Input input) implements SimEvent {}

    record Crash(int node) implements SimEvent {}

    record Wipe(int node) implements SimEvent {}

    record Restart(int node) implements SimEvent {}

    record SyncTick(int node) implements SimEvent {}

    record BlocksArrive(int node, int life, List<FinalBlock> blocks) implements SimEvent {}

    record Repartition() implements SimEvent {}

    record Stabilise() implements SimEvent {}

    /** Delivers what a node held back for {@link NetworkModel#HOLD_LIMIT_MILLIS} (no proposal came to release it). */
    record Release(int node) implements SimEvent {}
}
