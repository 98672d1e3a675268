package io.workron.bench;

import java.util.concurrent.locks.LockSupport;
import java.util.function.LongConsumer;
import java.util.function.LongSupplier;

/**
 * Hands out send slots at a fixed rate. Slot {@code i} is due at {@code start + i / rate}, computed
 * from the start every time, so a late wake-up or a slow send delays that one slot and never shifts
 * the ones after it (no drift). When the sender falls behind it gets the overdue slots at once.
 */
final class Pacer {

  private final LongSupplier nanoTime;
  private final LongConsumer parkNanos;
  private final long startNanos;
  private final double periodNanos;
  private long maxLagNanos;

  Pacer(double ratePerSecond, long startNanos, LongSupplier nanoTime, LongConsumer parkNanos) {
    if (!(ratePerSecond > 0)) {
      throw new IllegalArgumentException("rate must be positive: " + ratePerSecond);
    }
    this.periodNanos = 1e9 / ratePerSecond;
    this.startNanos = startNanos;
    this.nanoTime = nanoTime;
    this.parkNanos = parkNanos;
  }

  /** A pacer on the system clock starting now. */
  static Pacer startingNow(double ratePerSecond) {
    return new Pacer(ratePerSecond, System.nanoTime(), System::nanoTime, LockSupport::parkNanos);
  }

  /** When slot {@code i} is due, on the {@link System#nanoTime()} scale. */
  long dueNanos(long i) {
    return startNanos + Math.round(i * periodNanos);
  }

  /** Waits until slot {@code i} is due and returns its due time (not the time of waking). */
  long await(long i) {
    long due = dueNanos(i);
    long now = nanoTime.getAsLong();
    while (due - now > 0) {
      parkNanos.accept(due - now);
      now = nanoTime.getAsLong();
    }
    maxLagNanos = Math.max(maxLagNanos, now - due);
    return due;
  }

  long startNanos() {
    return startNanos;
  }

  /** The latest any slot was handed out after it was due. */
  long maxLagNanos() {
    return maxLagNanos;
  }
}
