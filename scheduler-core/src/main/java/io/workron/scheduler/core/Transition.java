package io.workron.scheduler.core;

import java.util.EnumSet;
import java.util.Set;

/**
 * The job state machine: every status change a job can make, by name, with the statuses it may
 * start from, the one it leads to, and the fence that keeps a late or repeated message from
 * applying it twice. This is the only place that says which change is legal; {@code
 * lifecycle.JobTransitions} renders each one as a single guarded {@code UPDATE … RETURNING}, and no
 * other code writes {@code jobs.status}.
 *
 * <p>Adding a state (gang reservation, preemption) means adding rows here and their columns in the
 * one repository.
 */
public enum Transition {
  /** A dispatch round placed the job on a worker: its next attempt starts. */
  CLAIM(EnumSet.of(JobStatus.PENDING), JobStatus.RUNNING, Fence.NONE),
  /**
   * The attempt exited 0. Also from {@code pending} at the same attempt: liveness took the attempt
   * back, but it has not been dispatched again, and the result proves it ran.
   */
  FINISH(
      EnumSet.of(JobStatus.RUNNING, JobStatus.PENDING, JobStatus.RESERVED, JobStatus.PREEMPTING),
      JobStatus.DONE,
      Fence.ATTEMPT),
  /** The attempt failed and was the last one that counts against {@code max_retries}. */
  FAIL(EnumSet.of(JobStatus.RUNNING, JobStatus.PENDING), JobStatus.FAILED, Fence.ATTEMPT),
  /** The attempt failed with attempts left: pending again after a backoff. */
  RETRY(EnumSet.of(JobStatus.RUNNING, JobStatus.PENDING), JobStatus.PENDING, Fence.ATTEMPT),
  /**
   * The attempt was taken back (worker lost, restarted or stopped, dispatch never acknowledged) or
   * interrupted by its worker's shutdown: pending again, counted or not as the caller decided.
   */
  REQUEUE(EnumSet.of(JobStatus.RUNNING, JobStatus.PREEMPTING), JobStatus.PENDING, Fence.ATTEMPT),
  /** The attempt was taken back and was the job's last: it fails. */
  GIVE_UP(EnumSet.of(JobStatus.RUNNING), JobStatus.FAILED, Fence.ATTEMPT),
  /** Every job the blocked job depends on is done. */
  RELEASE(EnumSet.of(JobStatus.BLOCKED), JobStatus.PENDING, Fence.NONE),
  /** A user or another service cancelled a job that is not running: it never starts. */
  CANCEL(
      EnumSet.of(JobStatus.PENDING, JobStatus.BLOCKED, JobStatus.RESERVED, JobStatus.PREEMPTED),
      JobStatus.CANCELLED,
      Fence.NONE),
  /**
   * A cancelled job's running attempt ended without succeeding: its worker confirmed the stop (or
   * the attempt failed first), or its loss was detected. An attempt that succeeded first finishes
   * instead: done wins over a late cancel.
   */
  CANCEL_RUNNING(
      EnumSet.of(JobStatus.RUNNING, JobStatus.PREEMPTING), JobStatus.CANCELLED, Fence.ATTEMPT),
  /** A job upstream failed or was cancelled: the job never starts. */
  CANCEL_UPSTREAM_FAILED(
      EnumSet.of(JobStatus.BLOCKED, JobStatus.PENDING), JobStatus.CANCELLED, Fence.NONE),
  /**
   * A user retried a failed or cancelled job by hand: pending again with a fresh attempt budget
   * (its attempt number keeps growing; the attempts before no longer count).
   */
  RETRY_BY_HAND(EnumSet.of(JobStatus.FAILED, JobStatus.CANCELLED), JobStatus.PENDING, Fence.NONE),
  /**
   * A cancelled job waits for its dependencies again: retried by hand while they are not all done,
   * or brought back by a retry of the upstream job it was cancelled for ({@code cascade=true}).
   */
  BLOCK(EnumSet.of(JobStatus.CANCELLED), JobStatus.BLOCKED, Fence.NONE),
  /**
   * No registered worker offers what the job asks for, and none has for {@code
   * unschedulable-timeout}: the job fails (and its dependents are cancelled).
   */
  FAIL_UNSCHEDULABLE(
      EnumSet.of(JobStatus.PENDING, JobStatus.BLOCKED), JobStatus.FAILED, Fence.NONE),
  /**
   * A job the blocked job depends on was never submitted within {@code dependency-wait-timeout}:
   * the job is cancelled (and its dependents with it).
   */
  CANCEL_UNMET_DEPENDENCY(EnumSet.of(JobStatus.BLOCKED), JobStatus.CANCELLED, Fence.NONE),
  /**
   * The admission loop placed the task's whole gang: the task's next attempt is dispatched to its
   * worker, and it holds that worker's capacity until its worker lists it.
   */
  RESERVE(EnumSet.of(JobStatus.BLOCKED), JobStatus.RESERVED, Fence.NONE),
  /** The worker of a reserved gang task listed the attempt in a heartbeat: it runs. */
  START(EnumSet.of(JobStatus.RESERVED), JobStatus.RUNNING, Fence.ATTEMPT),
  /**
   * A drain round began (a sibling failed, timed out or lost its worker; the reservation was not
   * taken up in time; higher-priority work needs the capacity): the attempt is ordered stopped with
   * the round's epoch and keeps its worker's capacity until the stop is acknowledged.
   */
  PREEMPT(EnumSet.of(JobStatus.RUNNING, JobStatus.RESERVED), JobStatus.PREEMPTING, Fence.ATTEMPT),
  /**
   * Drained at once when a round begins: the task that caused it (its attempt ended already), or a
   * task whose worker is lost; nobody is left to acknowledge.
   */
  DRAIN_AT_ONCE(
      EnumSet.of(JobStatus.RUNNING, JobStatus.RESERVED), JobStatus.PREEMPTED, Fence.ATTEMPT),
  /** The worker acknowledged the round's stop (or the attempt ended by itself meanwhile). */
  ACK_PREEMPT(EnumSet.of(JobStatus.PREEMPTING), JobStatus.PREEMPTED, Fence.EPOCH),
  /**
   * No acknowledgement came within {@code drain-force-timeout}, or the task's worker was lost
   * during the round: drained without it.
   */
  FORCE_DRAIN(EnumSet.of(JobStatus.PREEMPTING), JobStatus.PREEMPTED, Fence.ATTEMPT),
  /** Every task of the gang is drained and attempts are left: the gang waits for admission. */
  REQUEUE_GANG(EnumSet.of(JobStatus.PREEMPTED), JobStatus.BLOCKED, Fence.NONE),
  /**
   * The drained gang cannot run again: a task used its last attempt, or a task is already done or
   * failed (a gang restarts all its tasks or none).
   */
  FAIL_GANG(EnumSet.of(JobStatus.PREEMPTED, JobStatus.BLOCKED), JobStatus.FAILED, Fence.NONE),
  /**
   * A single job preempted for higher-priority work is drained: it waits in the queue again, its
   * attempt refunded, and resumes from its checkpoint when it runs next.
   */
  REQUEUE_PREEMPTED(EnumSet.of(JobStatus.PREEMPTED), JobStatus.PENDING, Fence.NONE);

  /**
   * What a move must match besides the status, so that a message about the past changes nothing.
   */
  public enum Fence {
    /** The status alone decides (the job is not running an attempt the move is about). */
    NONE,
    /**
     * The job must still be at the attempt the move names: a result, take-back or stop about an
     * older attempt is stale.
     */
    ATTEMPT,
    /**
     * As {@link #ATTEMPT}, and the job must still be in the drain round the move names: an
     * acknowledgement of an earlier round is stale.
     */
    EPOCH
  }

  private final Set<JobStatus> from;
  private final JobStatus to;
  private final Fence fence;

  Transition(Set<JobStatus> from, JobStatus to, Fence fence) {
    this.from = Set.copyOf(from);
    this.to = to;
    this.fence = fence;
  }

  public Set<JobStatus> from() {
    return from;
  }

  public JobStatus to() {
    return to;
  }

  public Fence fence() {
    return fence;
  }

  /**
   * Whether the move may let the dispatch or admission loop place something it could not before: a
   * job becomes pending (or a gang task waits for admission again), or an attempt ends and frees
   * its worker's slot.
   */
  public boolean freesOrQueuesWork() {
    return to == JobStatus.PENDING
        || to == JobStatus.BLOCKED
        || from.contains(JobStatus.RUNNING)
        || from.contains(JobStatus.PREEMPTING);
  }
}
