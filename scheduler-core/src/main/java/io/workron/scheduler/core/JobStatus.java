package io.workron.scheduler.core;

import java.util.EnumSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * A job's status and the one table of legal transitions. Every write in the repositories guards on
 * the status it expects in the same SQL statement; this table is what those guards encode.
 */
public enum JobStatus {
  BLOCKED,
  PENDING,
  RESERVED,
  RUNNING,
  PREEMPTING,
  PREEMPTED,
  DONE,
  FAILED,
  CANCELLED;

  private static final Map<JobStatus, Set<JobStatus>> NEXT =
      Map.of(
          BLOCKED, EnumSet.of(PENDING, RESERVED, CANCELLED, FAILED),
          PENDING, EnumSet.of(RUNNING, BLOCKED, CANCELLED, FAILED),
          RESERVED, EnumSet.of(RUNNING, BLOCKED, CANCELLED, FAILED),
          RUNNING, EnumSet.of(DONE, FAILED, PENDING, PREEMPTING, CANCELLED),
          PREEMPTING, EnumSet.of(PREEMPTED, CANCELLED),
          PREEMPTED, EnumSet.of(BLOCKED, FAILED, CANCELLED),
          DONE, EnumSet.noneOf(JobStatus.class),
          FAILED, EnumSet.noneOf(JobStatus.class),
          CANCELLED, EnumSet.noneOf(JobStatus.class));

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

  public boolean isTerminal() {
    return NEXT.get(this).isEmpty();
  }

  public boolean canMoveTo(JobStatus next) {
    return NEXT.get(this).contains(next);
  }
}
