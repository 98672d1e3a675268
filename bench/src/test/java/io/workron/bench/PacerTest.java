package io.workron.bench;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class PacerTest {

  /** A clock that only moves when the pacer parks, overshooting every wake-up. */
  static final class FakeClock {
    long now;
    long overshoot;

    void park(long nanos) {
      now += nanos + overshoot;
    }
  }

  @Test
  void slotsAreComputedFromTheStartSoLateWakeUpsDoNotAccumulate() {
    FakeClock clock = new FakeClock();
    clock.overshoot = 300_000; // every wake-up 0.3 ms late
    Pacer pacer = new Pacer(200, 0, () -> clock.now, clock::park);

    long last = 0;
    for (int i = 0; i < 1000; i++) {
      last = pacer.await(i);
    }

    assertThat(last).isEqualTo(999 * 5_000_000L);
    // had the delays accumulated, slot 999 would be due ~300 ms late
    assertThat(clock.now - last).isLessThanOrEqualTo(300_000);
    assertThat(pacer.maxLagNanos()).isEqualTo(300_000);
  }

  @Test
  void aSenderThatFellBehindGetsTheOverdueSlotsAtOnce() {
    FakeClock clock = new FakeClock();
    Pacer pacer = new Pacer(1000, 0, () -> clock.now, clock::park);
    clock.now = 10_000_000; // 10 ms stall: slots 0..10 are overdue

    for (int i = 0; i <= 10; i++) {
      assertThat(pacer.await(i)).isEqualTo(i * 1_000_000L);
    }
    assertThat(clock.now).isEqualTo(10_000_000);
    assertThat(pacer.await(11)).isEqualTo(11_000_000);
    assertThat(clock.now).isEqualTo(11_000_000);
  }

  @Test
  void fractionalPeriodsDoNotDrift() {
    Pacer pacer = new Pacer(3, 0, () -> 0, n -> {});
    assertThat(pacer.dueNanos(3)).isEqualTo(1_000_000_000L);
    assertThat(pacer.dueNanos(3_000)).isEqualTo(1_000_000_000_000L);
  }
}
