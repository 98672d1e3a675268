package io.workron.scheduler.liveness;

import static io.workron.scheduler.db.Tables.JOBS;
import static io.workron.scheduler.db.Tables.JOB_ATTEMPTS;

import io.micrometer.core.instrument.MeterRegistry;
import io.workron.scheduler.core.AttemptVerdict;
import io.workron.scheduler.core.Transition;
import io.workron.scheduler.dag.DependencyGraph;
import io.workron.scheduler.dispatch.StopOrders;
import io.workron.scheduler.lifecycle.JobTransitions;
import io.workron.schemas.StopCause;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.jooq.DSLContext;
import org.springframework.stereotype.Component;

/**
 * Takes running attempts away from workers that cannot finish them and puts the jobs back in the
 * queue. Runs inside the caller's transaction and guards on {@code (id, attempt, 'running')}, so an
 * attempt that finished meanwhile is left alone.
 */
@Component
public class Requeuer {

  /** Why an attempt was taken back, as recorded in its history. */
  public enum Cause {
    /** The worker stopped heartbeating; the attempt counts against {@code max_retries}. */
    WORKER_LOST("worker lost", true),
    /** A new incarnation of the worker announced itself; the attempt counts. */
    WORKER_RESTARTED("worker restarted", true),
    /** The job's own heartbeat went stale while its worker lived on; the attempt counts. */
    HEARTBEAT_TIMEOUT("heartbeat timeout", true),
    /** The worker shut down gracefully without reporting the attempt; it does not count. */
    WORKER_STOPPED("worker stopped", false),
    /** The worker never listed the attempt; it never ran, so it does not count. */
    NOT_ACKNOWLEDGED("dispatch not acknowledged", false),
    /**
     * The worker kept running an attempt it was ordered to stop (too old to read stop orders, or
     * its command would not die): the job ends as the stop meant it to; counts.
     */
    STOP_NOT_CONFIRMED("stop not confirmed", true),
    /**
     * The attempt ran past its job's timeout and its worker did not stop it (too old to know the
     * limit): a failed attempt, as a timeout the worker enforces is.
     */
    TIMED_OUT("timed out", true);

    private final String reason;
    private final boolean counts;

    Cause(String reason, boolean counts) {
      this.reason = reason;
      this.counts = counts;
    }

    public String reason() {
      return reason;
    }

    String outcome() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /**
   * An attempt to take back, with when a heartbeat last listed it as the caller saw it (null: never
   * listed).
   */
  public record Held(String jobId, int attempt, OffsetDateTime listedAt, String reason) {
    public Held(String jobId, int attempt) {
      this(jobId, attempt, null, null);
    }

    public Held(String jobId, int attempt, OffsetDateTime listedAt) {
      this(jobId, attempt, listedAt, null);
    }

    /** The same attempt, taken back for {@code why} rather than its cause's reason. */
    public Held because(String why) {
      return new Held(jobId, attempt, listedAt, why);
    }

    String reasonOr(Cause cause) {
      return reason != null ? reason : cause.reason();
    }
  }

  /** What became of the jobs (a job cancelled while running ends cancelled: counted as failed). */
  public record Outcome(int requeued, int failed) {}

  /**
   * A re-queued job waits this long before it can be dispatched again, so that a result already on
   * its way (the attempt did run) can still be applied; see ResultStore.
   */
  private final java.time.Duration settleDelay;

  /** Free take-backs of one job after which they count; see SchedulerProperties. */
  private final int maxFreeRequeues;

  private final DSLContext db;
  private final JobTransitions transitions;
  private final StopOrders stops;
  private final DependencyGraph graph;
  private final MeterRegistry meters;
  private final io.workron.scheduler.gangs.GangDrains drains;

  Requeuer(
      DSLContext db,
      JobTransitions transitions,
      StopOrders stops,
      DependencyGraph graph,
      MeterRegistry meters,
      io.workron.scheduler.config.SchedulerProperties properties,
      io.workron.scheduler.gangs.GangDrains drains) {
    this.drains = drains;
    this.settleDelay = properties.requeueDelay();
    this.maxFreeRequeues = properties.maxFreeRequeues();
    this.db = db;
    this.transitions = transitions;
    this.stops = stops;
    this.graph = graph;
    this.meters = meters;
  }

  /**
   * Moves the held attempts back to {@code pending}, or to {@code failed} when the attempt counts
   * and was the job's last. A cause that does not count counts anyway once the job has had {@code
   * max-free-requeues} free take-backs, so a job that keeps vanishing cannot run without limit.
   */
  public Outcome requeue(List<Held> held, Cause cause, OffsetDateTime now) {
    return requeue(held, cause, now, false);
  }

  /**
   * As {@link #requeue(List, Cause, OffsetDateTime)}, only for attempts no heartbeat listed since
   * the caller looked ({@link Held#listedAt()} still current), re-checked in the same statement: a
   * heartbeat that commits in between saves the attempt.
   */
  public Outcome requeueIfStillUnlisted(List<Held> held, Cause cause, OffsetDateTime now) {
    return requeue(held, cause, now, true);
  }

  private Outcome requeue(List<Held> held, Cause cause, OffsetDateTime now, boolean unlisted) {
    if (held.isEmpty()) {
      return new Outcome(0, 0);
    }
    record Current(
        int attempt,
        int freeAttempts,
        int budgetStart,
        int maxRetries,
        OffsetDateTime hb,
        String workerId,
        String incarnation,
        String cancelReason,
        boolean preempting) {}
    // the rows of these jobs and of every task of their gangs, in id order, before anything else
    Map<String, io.workron.scheduler.gangs.GangDrains.Task> gangTasks =
        drains.lockTasks(held.stream().map(Held::jobId).toList());
    Map<String, List<io.workron.scheduler.gangs.GangDrains.Trigger>> triggers =
        new java.util.LinkedHashMap<>();
    List<io.workron.scheduler.gangs.GangDrains.Task> forced = new ArrayList<>();
    Map<String, Current> current = new HashMap<>();
    // rows locked in id order, as everywhere, so concurrent transactions cannot deadlock; what is
    // read under the lock is what a heartbeat committing meanwhile would have changed
    db.select(
            JOBS.ID,
            JOBS.ATTEMPT,
            JOBS.FREE_ATTEMPTS,
            JOBS.BUDGET_START_ATTEMPT,
            JOBS.MAX_RETRIES,
            JOBS.LAST_HEARTBEAT_AT,
            JOBS.WORKER_ID,
            JOBS.WORKER_INCARNATION,
            JOBS.CANCEL_REQUESTED_AT,
            JOBS.CANCEL_REASON,
            JOBS.STATUS)
        .from(JOBS)
        .where(JOBS.ID.in(held.stream().map(Held::jobId).distinct().toList()))
        .orderBy(JOBS.ID)
        .forUpdate()
        .forEach(
            r ->
                current.put(
                    r.get(JOBS.ID),
                    new Current(
                        r.get(JOBS.ATTEMPT),
                        r.get(JOBS.FREE_ATTEMPTS),
                        r.get(JOBS.BUDGET_START_ATTEMPT),
                        r.get(JOBS.MAX_RETRIES),
                        r.get(JOBS.LAST_HEARTBEAT_AT),
                        r.get(JOBS.WORKER_ID),
                        r.get(JOBS.WORKER_INCARNATION),
                        r.get(JOBS.CANCEL_REQUESTED_AT) == null
                            ? null
                            : java.util.Objects.requireNonNullElse(
                                r.get(JOBS.CANCEL_REASON), "cancelled by request"),
                        "preempting".equals(r.get(JOBS.STATUS)))));
    List<JobTransitions.Move> back = new ArrayList<>();
    List<JobTransitions.Move> giveUp = new ArrayList<>();
    List<JobTransitions.Move> cancel = new ArrayList<>();
    for (Held h : held) {
      Current c = current.get(h.jobId());
      if (c == null || c.attempt() != h.attempt()) {
        continue; // finished and dispatched again meanwhile; the transition would refuse it too
      }
      if (unlisted && !sameInstant(c.hb(), h.listedAt())) {
        continue; // a heartbeat listed the attempt since the caller looked
      }
      if (c.cancelReason() != null) {
        // cancelled while running, and now lost: it is not run again
        cancel.add(JobTransitions.Move.at(h.jobId(), h.attempt()).because(c.cancelReason()));
        continue;
      }
      io.workron.scheduler.gangs.GangDrains.Task task = gangTasks.get(h.jobId());
      if (task != null) {
        // a gang task is not re-queued alone: its gang drains (or, mid-drain, it is drained)
        switch (task.status()) {
          case RUNNING, RESERVED ->
              triggers
                  .computeIfAbsent(task.gangId(), k -> new ArrayList<>())
                  .add(
                      new io.workron.scheduler.gangs.GangDrains.Trigger(
                          h.jobId(),
                          h.attempt(),
                          h.reasonOr(cause),
                          // a task its worker never listed did not run: it costs no attempt
                          cause.counts
                              && task.status() == io.workron.scheduler.core.JobStatus.RUNNING,
                          null,
                          null,
                          false));
          case PREEMPTING -> forced.add(task);
          default -> {}
        }
        continue;
      }
      if (c.preempting()) {
        // preempted for priority and now lost: queued again, its attempt refunded already
        back.add(
            JobTransitions.Move.at(h.jobId(), h.attempt())
                .because(h.reasonOr(cause))
                .runAt(now.plus(settleDelay)));
        continue;
      }
      // a cause that does not count counts anyway once the job had its free take-backs
      boolean counts = cause.counts || c.freeAttempts() >= maxFreeRequeues;
      JobTransitions.Move move =
          JobTransitions.Move.at(h.jobId(), h.attempt()).because(h.reasonOr(cause));
      int counted = c.attempt() - c.budgetStart() - c.freeAttempts();
      if (counts && AttemptVerdict.attemptsUsedUp(counted, c.maxRetries())) {
        giveUp.add(move);
      } else {
        back.add(move.runAt(now.plus(settleDelay)).free(!counts));
      }
    }
    List<JobTransitions.Moved> requeued = transitions.apply(Transition.REQUEUE, back, now).moved();
    List<JobTransitions.Moved> failed = transitions.apply(Transition.GIVE_UP, giveUp, now).moved();
    List<JobTransitions.Moved> cancelled =
        transitions.apply(Transition.CANCEL_RUNNING, cancel, now).moved();
    int drained = drains.force(forced, cause.reason(), now);
    List<String> triggered = new ArrayList<>();
    triggers.forEach(
        (gang, list) -> {
          if (drains.begin(gang, list, list.get(0).reason(), gangTasks, now) > 0) {
            list.forEach(t -> triggered.add(t.jobId()));
          }
        });
    List<JobTransitions.Moved> taken = new ArrayList<>(requeued);
    taken.addAll(failed);
    taken.addAll(cancelled);
    // the attempt may still run where it was (a worker that is slow, partitioned or restarted):
    // tell it to stop, so it never runs beside the next attempt
    stops.send(
        taken.stream()
            .map(
                m -> {
                  Current c = current.get(m.jobId());
                  return new StopOrders.Order(
                      m.jobId(), m.attempt(), c.workerId(), c.incarnation());
                })
            .toList(),
        StopCause.TAKEN_BACK,
        cause.reason(),
        now);
    if (!taken.isEmpty() || !triggered.isEmpty()) {
      Map<String, String> reasons = new HashMap<>();
      held.forEach(h -> reasons.putIfAbsent(h.jobId(), h.reasonOr(cause)));
      List<org.jooq.Query> history = new ArrayList<>(taken.size());
      Map<String, Integer> ended = new java.util.LinkedHashMap<>();
      taken.forEach(m -> ended.put(m.jobId(), m.attempt()));
      for (Held h : held) {
        if (triggered.contains(h.jobId())) {
          ended.put(h.jobId(), h.attempt());
        }
      }
      for (Map.Entry<String, Integer> m : ended.entrySet()) {
        history.add(
            db.update(JOB_ATTEMPTS)
                .set(JOB_ATTEMPTS.FINISHED_AT, now)
                .set(JOB_ATTEMPTS.OUTCOME, cause.outcome())
                .set(JOB_ATTEMPTS.REASON, reasons.get(m.getKey()))
                .where(JOB_ATTEMPTS.JOB_ID.eq(m.getKey()))
                .and(JOB_ATTEMPTS.ATTEMPT.eq(m.getValue()))
                .and(JOB_ATTEMPTS.FINISHED_AT.isNull()));
      }
      db.batch(history).execute();
    }
    List<String> ended = new ArrayList<>();
    failed.forEach(m -> ended.add(m.jobId()));
    cancelled.forEach(m -> ended.add(m.jobId()));
    graph.cancelDownstreamOf(ended);
    meters
        .counter("workron_jobs_requeued_total", "cause", cause.outcome())
        .increment(requeued.size());
    meters
        .counter("workron_jobs_reaped_failed_total", "cause", cause.outcome())
        .increment(failed.size());
    return new Outcome(
        requeued.size() + triggered.size() + drained, failed.size() + cancelled.size());
  }

  private static boolean sameInstant(OffsetDateTime a, OffsetDateTime b) {
    return a == null ? b == null : b != null && a.isEqual(b);
  }
}
