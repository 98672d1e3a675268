package io.workron.scheduler.core;

import java.util.EnumSet;
import java.util.Set;

/**
 * Named status changes, each with the statuses it may start from and the one it leads to. A
 * repository renders any of them as one guarded {@code UPDATE … WHERE status IN (from) RETURNING};
 * use cases choose the transition, never the status strings. (The job-control work moves the
 * remaining writes here.)
 */
public enum Transition {
  /**
   * No registered worker offers what the job asks for, and none has for {@code
   * unschedulable-timeout}: the job fails (and its dependents are cancelled).
   */
  FAIL_UNSCHEDULABLE(EnumSet.of(JobStatus.PENDING), JobStatus.FAILED),
  /**
   * A job the blocked job depends on was never submitted within {@code dependency-wait-timeout}:
   * the job is cancelled (and its dependents with it).
   */
  CANCEL_UNMET_DEPENDENCY(EnumSet.of(JobStatus.BLOCKED), JobStatus.CANCELLED);

  private final Set<JobStatus> from;
  private final JobStatus to;

  Transition(Set<JobStatus> from, JobStatus to) {
    for (JobStatus f : from) {
      if (!f.canMoveTo(to)) {
        throw new IllegalStateException(name() + ": " + f + " -> " + to + " is not allowed");
      }
    }
    this.from = Set.copyOf(from);
    this.to = to;
  }

  public Set<JobStatus> from() {
    return from;
  }

  public JobStatus to() {
    return to;
  }
}
