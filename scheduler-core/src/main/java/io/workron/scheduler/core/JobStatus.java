package io.workron.scheduler.core;

import java.util.Locale;

/**
 * A job's status. Which status may follow which is not written here but in {@link Transition}, the
 * one table of named status changes; {@link #canMoveTo} reads it.
 */
public enum JobStatus {
  BLOCKED(false),
  PENDING(false),
  RESERVED(false),
  RUNNING(false),
  PREEMPTING(false),
  PREEMPTED(false),
  DONE(true),
  FAILED(true),
  CANCELLED(true);

  private final boolean finished;

  JobStatus(boolean finished) {
    this.finished = finished;
  }

  /** The name stored in PostgreSQL and shown in the API ({@code pending}, {@code done}, …). */
  public String wire() {
    return name().toLowerCase(Locale.ROOT);
  }

  public static JobStatus fromWire(String value) {
    return valueOf(value.toUpperCase(Locale.ROOT));
  }

  public static boolean isKnown(String value) {
    for (JobStatus s : values()) {
      if (s.wire().equals(value)) {
        return true;
      }
    }
    return false;
  }

  /** Finished: no attempt runs or will run, and {@code finished_at} is set. */
  public boolean isTerminal() {
    return finished;
  }

  /** Whether some transition leads from this status to {@code next}. */
  public boolean canMoveTo(JobStatus next) {
    for (Transition t : Transition.values()) {
      if (t.to() == next && t.from().contains(this)) {
        return true;
      }
    }
    return false;
  }
}
