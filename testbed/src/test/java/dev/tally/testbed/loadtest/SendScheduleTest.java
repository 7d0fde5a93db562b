package dev.tally.testbed.loadtest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** A sender's schedule: when each transaction falls due, and when a batch of them closes. */
class SendScheduleTest {
    private static final long START = 1_000_000_000L;
    private static final long MS = TimeUnit.MILLISECONDS.toNanos(1);

    /** 500 tx/s: a transaction every 2 ms, the first at 2 ms. */
    private static SendSchedule every2ms(long batchIntervalMs, int maxBatch) {
        return new SendSchedule(START, 500, batchIntervalMs * MS, maxBatch);
    }

    @Test
    void aTransactionIsDueFromItsPlaceInTheScheduleOn() {
        SendSchedule s = new SendSchedule(START, 3_000 / 7.0, 0, 10);
        for (long k = 0; k < 10_000; k++) {
            long due = s.dueAt(k);
            assertThat(s.dueBy(due)).as("transaction %d at its due time", k).isEqualTo(k + 1);
            assertThat(s.dueBy(due - 1)).as("transaction %d just before", k).isEqualTo(k);
        }
        assertThat(every2ms(0, 1).dueAt(0)).isEqualTo(START + 2 * MS);
        assertThat(every2ms(0, 1).dueBy(START - 1)).isZero();
    }

    /** Six senders sharing {@code rate}, each started at its phase. */
    private static List<SendSchedule> sixSenders(double rate, long batchIntervalMs) {
        List<SendSchedule> senders = new ArrayList<>();
        for (int s = 0; s < 6; s++) {
            senders.add(new SendSchedule(
                    START + SendSchedule.phase(s, 6, rate / 6, batchIntervalMs * MS),
                    rate / 6,
                    batchIntervalMs * MS,
                    500));
        }
        return senders;
    }

    @Test
    void sendersAtTheirPhasesSendOneEvenStreamNotBursts() {
        List<Long> due = new ArrayList<>();
        for (SendSchedule s : sixSenders(5, 10)) {
            for (long k = 0; k < 10; k++) {
                due.add(s.dueAt(k));
            }
        }
        Collections.sort(due);
        for (int i = 1; i < due.size(); i++) {
            assertThat(due.get(i) - due.get(i - 1))
                    .as("5 tx/s from six senders: one transaction every 200 ms, not six at once")
                    .isBetween(200 * MS - 1, 200 * MS + 1);
        }
    }

    @Test
    void sendersAtTheirPhasesCloseTheirBatchesInTurn() {
        List<Long> closes = new ArrayList<>();
        for (SendSchedule s : sixSenders(3_000, 10)) {
            closes.add(s.next(0, START).closesAt());
        }
        Collections.sort(closes);
        for (int i = 1; i < closes.size(); i++) {
            assertThat(closes.get(i) - closes.get(i - 1))
                    .as("3,000 tx/s in 10 ms batches from six senders: a batch every 10/6 ms")
                    .isBetween(MS * 10 / 6 - MS / 2, MS * 10 / 6 + MS / 2);
        }
    }

    @Test
    void withoutABatchIntervalATransactionLeavesAsSoonAsItIsDue() {
        SendSchedule s = every2ms(0, 100);

        assertThat(s.next(0, START + MS)).isEqualTo(new SendSchedule.Batch(0, START + 2 * MS));
        assertThat(s.next(0, START + 2 * MS).size()).isEqualTo(1);
        assertThat(s.next(1, START + 5 * MS).size())
                .as("what fell due meanwhile, at once")
                .isEqualTo(1);
    }

    @Test
    void aBatchClosesWhenItsOldestTransactionHasWaitedTheInterval() {
        SendSchedule s = every2ms(10, 100);

        assertThat(s.next(0, START + 2 * MS)).isEqualTo(new SendSchedule.Batch(0, START + 12 * MS));
        assertThat(s.next(0, START + 12 * MS - 1).size())
                .as("open until the interval is up")
                .isZero();
        assertThat(s.next(0, START + 12 * MS).size())
                .as("due at 2, 4, ..., 12 ms")
                .isEqualTo(6);
        assertThat(s.next(6, START + 12 * MS).closesAt())
                .as("the next batch's interval starts when its own first transaction falls due")
                .isEqualTo(START + 24 * MS);
    }

    @Test
    void aFullBatchLeavesBeforeTheInterval() {
        SendSchedule s = every2ms(10, 3);

        assertThat(s.next(0, START + 2 * MS).closesAt()).isEqualTo(START + 6 * MS);
        assertThat(s.next(0, START + 7 * MS).size()).isEqualTo(3);
        assertThat(s.next(0, START + 100 * MS).size())
                .as("never more than maxBatch")
                .isEqualTo(3);
    }

    @Test
    void noBatchSpansAnEdgeOfTheWindow() {
        SendSchedule s = every2ms(10, 100);
        long windowStart = START + 7 * MS; // between the 3rd (6 ms) and the 4th (8 ms) transaction
        long windowEnd = START + 16 * MS; // the 8th falls due on it: inside no more

        SendSchedule.Batch before = s.next(0, START + 6 * MS, windowStart, windowEnd);
        assertThat(before)
                .as("closed by the edge, once its last one is due")
                .isEqualTo(new SendSchedule.Batch(3, START + 6 * MS));
        SendSchedule.Batch inside = s.next(3, START + 30 * MS, windowStart, windowEnd);
        assertThat(inside.size()).as("the 4th to the 7th, due at 8 to 14 ms").isEqualTo(4);
        assertThat(s.next(7, START + 30 * MS, windowStart, windowEnd).size()).isEqualTo(8);
    }

    @Test
    void aScheduleNeedsARateAnIntervalAndABatch() {
        assertThatThrownBy(() -> new SendSchedule(START, 0, 0, 1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new SendSchedule(START, 1, -1, 1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new SendSchedule(START, 1, 0, 0)).isInstanceOf(IllegalArgumentException.class);
    }
}
