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

  /**
   * An attempt to take back, with when a heartbeat last listed it as the caller saw it (null: never
   * listed).
   */
  public record Held(String jobId, int attempt, OffsetDateTime listedAt) {
    public Held(String jobId, int attempt) {
      this(jobId, attempt, null);
    }
  }

  /** What became of the jobs, with the outbox messages announcing it. */
  public record Outcome(int requeued, int failed, List<OutboxMessage> messages) {}

  /**
   * A re-queued job waits this long before it can be dispatched again, so that a result already on
   * its way (the attempt did run) can still be applied; see ResultStore.
   */
  private final java.time.Duration settleDelay;

  /** Free take-backs of one job after which they count; see SchedulerProperties. */
  private final int maxFreeRequeues;

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
    this.maxFreeRequeues = properties.maxFreeRequeues();
    this.db = db;
    this.events = events;
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
      return new Outcome(0, 0, List.of());
    }
    // rows locked in id order, as everywhere, so concurrent transactions cannot deadlock
    db.resultQuery(
            "select id from jobs where id = any(?::varchar[]) order by id for update",
            (Object) held.stream().map(Held::jobId).distinct().sorted().toArray(String[]::new))
        .fetch();
    String[] ids = held.stream().map(Held::jobId).toArray(String[]::new);
    Integer[] attempts = held.stream().map(Held::attempt).toArray(Integer[]::new);
    OffsetDateTime[] listed = held.stream().map(Held::listedAt).toArray(OffsetDateTime[]::new);
    List<OutboxMessage> messages = new ArrayList<>();
    List<String> failed = new ArrayList<>();
    List<String> takenIds = new ArrayList<>();
    List<Integer> takenAttempts = new ArrayList<>();
    int[] requeued = {0};
    // "counts": the cause counts, or the job had its free take-backs already
    String counts = "(? or j.free_attempts >= ?)";
    db.resultQuery(
            "update jobs j set "
                + "status = case when "
                + counts
                + " and j.attempt - j.free_attempts >= j.max_retries then 'failed' else 'pending' end, "
                + "finished_at = case when "
                + counts
                + " and j.attempt - j.free_attempts >= j.max_retries then ?::timestamptz else null end, "
                + "free_attempts = j.free_attempts + case when "
                + counts
                + " then 0 else 1 end, run_at = ?::timestamptz + ?::interval, "
                + "failure_reason = ?, worker_id = null, worker_incarnation = null, "
                + "dispatch_published_at = null "
                + "from unnest(?::varchar[], ?::int[], ?::timestamptz[]) as v(id, attempt, listed) "
                + "where j.id = v.id and j.attempt = v.attempt and j.status = 'running' "
                + "and (not ? or j.last_heartbeat_at is not distinct from v.listed) "
                + "returning j.id, j.attempt, j.status, j.queue_name",
            cause.counts,
            maxFreeRequeues,
            cause.counts,
            maxFreeRequeues,
            now,
            cause.counts,
            maxFreeRequeues,
            now,
            settleDelay.toMillis() + " milliseconds",
            cause.reason(),
            ids,
            attempts,
            listed,
            unlisted)
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
