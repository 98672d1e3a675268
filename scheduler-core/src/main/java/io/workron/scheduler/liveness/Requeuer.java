package io.workron.scheduler.liveness;

import io.micrometer.core.instrument.MeterRegistry;
import io.workron.scheduler.core.JobStatus;
import io.workron.scheduler.dag.DependencyGraph;
import io.workron.scheduler.outbox.JobEvents;
import io.workron.scheduler.outbox.OutboxMessage;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
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
    NOT_ACKNOWLEDGED("dispatch not acknowledged", false);

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

  /** An attempt to take back. */
  public record Held(String jobId, int attempt) {}

  /**
   * A condition re-checked in the same statement that takes the attempt back, so a heartbeat that
   * commits between the reaper's look and its update saves the attempt.
   *
   * @param neverListedDispatchedBefore when set: only if no heartbeat ever listed the attempt and
   *     it was dispatched before this time
   * @param lastListedBefore when set: only if the last heartbeat listing it is older than this
   */
  public record Guard(OffsetDateTime neverListedDispatchedBefore, OffsetDateTime lastListedBefore) {
    public static final Guard NONE = new Guard(null, null);
  }

  /** What became of the jobs, with the outbox messages announcing it. */
  public record Outcome(int requeued, int failed, List<OutboxMessage> messages) {}

  /**
   * A re-queued job waits this long before it can be dispatched again, so that a result already on
   * its way (the attempt did run) can still be applied; see ResultStore.
   */
  private final java.time.Duration settleDelay;

  private final DSLContext db;
  private final JobEvents events;
  private final DependencyGraph graph;
  private final MeterRegistry meters;

  Requeuer(
      DSLContext db,
      JobEvents events,
      DependencyGraph graph,
      MeterRegistry meters,
      io.workron.scheduler.config.SchedulerProperties properties) {
    this.settleDelay = properties.requeueDelay();
    this.db = db;
    this.events = events;
    this.graph = graph;
    this.meters = meters;
  }

  /**
   * Moves the held attempts back to {@code pending}, or to {@code failed} when the attempt counts
   * and was the job's last.
   */
  public Outcome requeue(List<Held> held, Cause cause, OffsetDateTime now) {
    return requeue(held, cause, now, Guard.NONE);
  }

  /**
   * As {@link #requeue(List, Cause, OffsetDateTime)}, only for attempts that still meet {@code
   * guard}.
   */
  public Outcome requeue(List<Held> held, Cause cause, OffsetDateTime now, Guard guard) {
    if (held.isEmpty()) {
      return new Outcome(0, 0, List.of());
    }
    // rows locked in id order, as everywhere, so concurrent transactions cannot deadlock
    db.resultQuery(
            "select id from jobs where id = any(?::varchar[]) order by id for update",
            (Object) held.stream().map(Held::jobId).distinct().sorted().toArray(String[]::new))
        .fetch();
    String[] ids = held.stream().map(Held::jobId).toArray(String[]::new);
    Integer[] attempts = held.stream().map(Held::attempt).toArray(Integer[]::new);
    int countedIncrement = cause.counts ? 0 : 1;
    List<OutboxMessage> messages = new ArrayList<>();
    List<String> failed = new ArrayList<>();
    List<String> takenIds = new ArrayList<>();
    List<Integer> takenAttempts = new ArrayList<>();
    int[] requeued = {0};
    db.resultQuery(
            "update jobs j set "
                + "status = case when ? and j.attempt - j.free_attempts >= j.max_retries "
                + "  then 'failed' else 'pending' end, "
                + "finished_at = case when ? and j.attempt - j.free_attempts >= j.max_retries "
                + "  then ?::timestamptz else null end, "
                + "free_attempts = j.free_attempts + ?, run_at = ?::timestamptz + ?::interval, "
                + "failure_reason = ?, worker_id = null, worker_incarnation = null "
                + "from unnest(?::varchar[], ?::int[]) as v(id, attempt) "
                + "where j.id = v.id and j.attempt = v.attempt and j.status = 'running' "
                + "and (?::timestamptz is null "
                + "  or (j.last_heartbeat_at is null and j.dispatched_at < ?::timestamptz)) "
                + "and (?::timestamptz is null or j.last_heartbeat_at < ?::timestamptz) "
                + "returning j.id, j.attempt, j.status, j.queue_name",
            cause.counts,
            cause.counts,
            now,
            countedIncrement,
            now,
            settleDelay.toMillis() + " milliseconds",
            cause.reason(),
            ids,
            attempts,
            guard.neverListedDispatchedBefore(),
            guard.neverListedDispatchedBefore(),
            guard.lastListedBefore(),
            guard.lastListedBefore())
        .forEach(
            r -> {
              String jobId = r.get(0, String.class);
              int attempt = r.get(1, Integer.class);
              takenIds.add(jobId);
              takenAttempts.add(attempt);
              JobStatus status = JobStatus.fromWire(r.get(2, String.class));
              messages.add(
                  events.simple(jobId, status, attempt, cause.reason(), r.get(3, String.class)));
              if (status == JobStatus.FAILED) {
                failed.add(jobId);
              } else {
                requeued[0]++;
              }
            });
    db.execute(
        "update job_attempts a set finished_at = ?::timestamptz, outcome = ?, reason = ? "
            + "from unnest(?::varchar[], ?::int[]) as v(id, attempt) "
            + "where a.job_id = v.id and a.attempt = v.attempt and a.finished_at is null",
        now,
        cause.outcome(),
        cause.reason(),
        takenIds.toArray(String[]::new),
        takenAttempts.toArray(Integer[]::new));
    for (DependencyGraph.Moved m : graph.cancelDownstreamOf(failed)) {
      messages.add(events.simple(m.jobId(), m.status(), 0, m.reason(), m.queueName()));
    }
    meters.counter("workron_jobs_requeued_total", "cause", cause.outcome()).increment(requeued[0]);
    meters
        .counter("workron_jobs_reaped_failed_total", "cause", cause.outcome())
        .increment(failed.size());
    return new Outcome(requeued[0], failed.size(), messages);
  }
}
