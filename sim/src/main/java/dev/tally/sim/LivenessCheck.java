package dev.tally.sim;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.LongStream;

/**
 * Liveness after stabilisation: a first new block within a bound, then a steady pace of blocks, checked after every
 * event and at the end of the run. Only when the scenario (or a test) expects liveness; the bookkeeping runs always,
 * since faulty behaviours may ask whether a block was final since stabilisation.
 */
final class LivenessCheck {
    /** Blocks to finalize after stabilisation before a healthy run ends: enough to see a pace, not one lucky block. */
    private static final int BLOCKS_AFTER_STABILISATION = 4;
    /** A view's length at most after stabilisation: its timeout, and the messages that end it. */
    private static final long VIEW_BOUND_MILLIS = SimWorld.VIEW_TIMEOUT_MILLIS + 4 * NetworkModel.STABLE_DELAY_MILLIS;

    private final SimWorld world;
    private boolean expectLiveness;
    /** Why liveness is not checked after all (see {@link #excusedByAbstainers}). */
    private Optional<String> excused = Optional.empty();

    private long stableView = -1;
    private long stableHeight = -1;
    /** The highest view and the time when the final height last grew after stabilisation. */
    private long progressView = -1;

    private long progressHeight = -1;
    private long progressAt = -1;

    LivenessCheck(SimWorld world, boolean expectLiveness) {
        this.world = world;
        this.expectLiveness = expectLiveness;
    }

    /** The network stabilised now: blocks are counted from here. */
    void onStable() {
        stableView = world.highestView();
        stableHeight = world.checker().highestFinal();
        world.note("t=" + world.now() + " network stable at view " + stableView + ", height " + stableHeight);
    }

    /** Long enough for the first block and the steady pace after it, which fail sooner if blocks stop. */
    long hardStopMillis() {
        return world.scenario().faults().gstMillis() + 2 * windowMillis() + 10 * SimWorld.VIEW_TIMEOUT_MILLIS;
    }

    /** Whether the run has shown liveness: enough new blocks final after stabilisation. */
    boolean finished() {
        return world.blockFinalSinceStable()
                && world.checker().highestFinal() >= stableHeight + BLOCKS_AFTER_STABILISATION;
    }

    private long windowMillis() {
        return (5L * world.scenario().maxFaulty() + 3) * VIEW_BOUND_MILLIS;
    }

    /**
     * The steady pace after the first block: every window of {@code 5f + 1} views led by validators that run honest
     * code with their data (a full rotation of honest leaders for n = 5f + 1 equal weights, the bound PROTOCOL.md
     * section 7 gives for the first block) finalizes a block. Views of faulty or wiped leaders do not count, since
     * they may end by timeout (in weighted mode they can come in runs longer than f); a window that sees no view end
     * at all fails after as long as those views would take.
     */
    private long steadyWindowViews() {
        return 5 * world.scenario().maxFaulty() + 1;
    }

    /** Views after {@code from}, up to {@code to}, led by a validator with honest code, its own key and its data. */
    private long honestLedViews(long from, long to) {
        Scenario scenario = world.scenario();
        return LongStream.rangeClosed(from + 1, to)
                .filter(view -> {
                    int v = world.leaderIndex(view);
                    return v >= scenario.twins() + scenario.byzantineCount() && !world.wasWiped(v);
                })
                .count();
    }

    /** After each event: notes progress, and fails the run when blocks stopped for too long after stabilisation. */
    void check() {
        if (!world.stable()) {
            return;
        }
        InvariantChecker checker = world.checker();
        if (checker.highestFinal() > Math.max(stableHeight, progressHeight)) {
            progressHeight = checker.highestFinal();
            progressView = world.highestView();
            progressAt = world.now();
            world.blockFinalizedSinceStable();
            return;
        }
        if (!expectLiveness) {
            return;
        }
        if (world.blockFinalSinceStable()) {
            checkSteadyPace();
            return;
        }
        long top = world.highestView();
        long honestViews = honestLedViews(stableView, top);
        if (honestViews > steadyWindowViews() + 1) { // + 1: the view in flight at stabilisation
            fail("reached view " + top + " with no new block final since stabilisation at view " + stableView + ", "
                    + honestViews + " views led by honest validators since (bound: 5f + 1)");
        } else if (world.now() > world.scenario().faults().gstMillis() + windowMillis()) {
            fail("no new block final " + windowMillis() + " ms after stabilisation at view " + stableView);
        }
    }

    private void checkSteadyPace() {
        long top = world.highestView();
        long honestViews = honestLedViews(progressView, top);
        if (honestViews > steadyWindowViews()) {
            fail("no block final in views " + (progressView + 1) + " to " + top + ", " + honestViews
                    + " of them led by honest validators (steady pace: a block per " + steadyWindowViews()
                    + " such views)");
        } else if (world.now()
                > progressAt
                        + (steadyWindowViews() + 2) * VIEW_BOUND_MILLIS
                        + (top - progressView) * SimWorld.VIEW_TIMEOUT_MILLIS) {
            fail("no block final since t=" + progressAt + " ms (view " + progressView + "), now in view " + top);
        }
    }

    /** Why liveness was not checked although expected: faulty and abstaining validators weighed more than f. */
    Optional<String> excused() {
        return excused;
    }

    private void fail(String why) {
        if (!excusedByAbstainers()) {
            world.checker().fail("liveness", why);
        }
    }

    /**
     * Whether liveness, about to be judged failed, is beyond what the protocol promises here. A replica that started
     * without state abstains until it has caught up (PROTOCOL.md section 9), and so does one that merely missed the
     * chain's first views (cut off at the start): it cannot tell that it never voted. If faulty keys and the
     * validators abstaining now weigh more than f, the others are below a quorum: no view can end until the
     * abstainers catch up, which needs views to end, so the chain has stopped by design, safely. Liveness is then no
     * longer checked (safety still is), and the result says why.
     */
    private boolean excusedByAbstainers() {
        Scenario scenario = world.scenario();
        long abstaining = 0;
        List<Integer> who = new ArrayList<>();
        for (SimNode node : world.nodes()) {
            boolean honestKey = node.validator >= scenario.twins() + scenario.byzantineCount();
            if (honestKey
                    && (node.up ? node.replica.abstaining() : node.persisted().isEmpty())) {
                abstaining += scenario.committee().weights().get(node.validator);
                who.add(node.validator);
            }
        }
        // Only the abstainers may excuse: faulty keys alone above f are a stall a test may demand to see called.
        if (abstaining == 0 || scenario.faultyWeight() + abstaining <= scenario.maxFaulty()) {
            return false;
        }
        expectLiveness = false;
        excused =
                Optional.of("validators " + who + " (weight " + abstaining + ") started without state and still abstain"
                        + " at t=" + world.now() + " ms; with faulty keys of weight " + scenario.faultyWeight()
                        + " that exceeds f = "
                        + scenario.maxFaulty());
        world.note("t=" + world.now() + " liveness not checked: " + excused.get());
        return true;
    }

    /** At the end of the run: fails it if it stopped before enough new blocks were final. */
    void atEnd() {
        InvariantChecker checker = world.checker();
        if (checker.violation().isEmpty()
                && expectLiveness
                && checker.highestFinal() < stableHeight + BLOCKS_AFTER_STABILISATION) {
            fail("only " + (checker.highestFinal() - stableHeight) + " of " + BLOCKS_AFTER_STABILISATION
                    + " new blocks final by t=" + world.now() + " ms (stable since "
                    + world.scenario().faults().gstMillis()
                    + " ms at view " + stableView + ", height " + stableHeight + ")");
        }
    }
}
