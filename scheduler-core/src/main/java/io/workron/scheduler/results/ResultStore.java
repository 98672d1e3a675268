package io.workron.scheduler.results;

import io.micrometer.core.instrument.MeterRegistry;
import io.workron.scheduler.config.SchedulerProperties;
import io.workron.scheduler.core.AttemptVerdict;
import io.workron.scheduler.core.JobStatus;
import io.workron.scheduler.core.RetryPolicy;
import io.workron.scheduler.dag.DependencyGraph;
import io.workron.scheduler.dispatch.DispatchLoop;
import io.workron.scheduler.outbox.JobEvents;
import io.workron.scheduler.outbox.Outbox;
import io.workron.scheduler.outbox.OutboxMessage;
import io.workron.schemas.JobEvent;
import io.workron.schemas.JobResult;
import java.time.Clock;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.random.RandomGenerator;
import org.jooq.DSLContext;
import org.jooq.Query;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Applies a batch of attempt results in one transaction. A result counts only if its {@code
 * (job_id, attempt)} is the job's current attempt, running or taken back but not yet dispatched
 * again; anything else (an old attempt, a duplicate, a job finished or dispatched again meanwhile)
 * is a no-op, counted and logged.
 */
@Component
class ResultStore {

  private static final Logger log = LoggerFactory.getLogger(ResultStore.class);

  private record Current(
      String id,
      String status,
      int attempt,
      int freeAttempts,
      int maxRetries,
      String queue,
      OffsetDateTime createdAt) {}

  private final DSLContext db;
  private final TransactionTemplate tx;
  private final Clock clock;
  private final RandomGenerator random;
  private final RetryPolicy retryPolicy;
  private final DependencyGraph graph;
  private final JobEvents events;
  private final Outbox outbox;
  private final DispatchLoop dispatch;
  private final MeterRegistry meters;

  ResultStore(
      DSLContext db,
      TransactionTemplate tx,
      Clock clock,
      RandomGenerator random,
      SchedulerProperties properties,
      DependencyGraph graph,
      JobEvents events,
      Outbox outbox,
      DispatchLoop dispatch,
      MeterRegistry meters) {
    this.db = db;
    this.tx = tx;
    this.clock = clock;
    this.random = random;
    this.retryPolicy = new RetryPolicy(properties.retryBackoffBase(), properties.retryBackoffMax());
    this.graph = graph;
    this.events = events;
    this.outbox = outbox;
    this.dispatch = dispatch;
    this.meters = meters;
  }

  void apply(List<JobResult> results) {
    if (results.isEmpty()) {
      return;
    }
    Integer applied = tx.execute(status -> applyInTransaction(results));
    if (applied != null && applied > 0) {
      outbox.committed();
      dispatch.wake();
    }
  }

  private int applyInTransaction(List<JobResult> results) {
    OffsetDateTime now = OffsetDateTime.now(clock);
    String[] ids = results.stream().map(JobResult::jobId).distinct().toArray(String[]::new);
    Map<String, Current> current = new HashMap<>();
    db.resultQuery(
            "select id, status, attempt, free_attempts, max_retries, queue_name, created_at from jobs "
                + "where id = any(?::varchar[]) order by id for update",
            (Object) ids)
        .forEach(
            r ->
                current.put(
                    r.get(0, String.class),
                    new Current(
                        r.get(0, String.class),
                        r.get(1, String.class),
                        r.get(2, Integer.class),
                        r.get(3, Integer.class),
                        r.get(4, Integer.class),
                        r.get(5, String.class),
                        r.get(6, OffsetDateTime.class))));
    List<Query> writes = new ArrayList<>();
    List<OutboxMessage> messages = new ArrayList<>();
    List<String> doneIds = new ArrayList<>();
    List<String> failedIds = new ArrayList<>();
    int applied = 0;
    for (JobResult r : results) {
      Current c = current.get(r.jobId());
      if (c == null || c.attempt() != r.attempt() || !acceptsResult(c.status())) {
        stale(r, c);
        continue;
      }
      AttemptVerdict verdict =
          AttemptVerdict.of(
              r,
              c.attempt() - c.freeAttempts(),
              c.maxRetries(),
              retryPolicy,
              now.toInstant(),
              random);
      if (c.status().equals(JobStatus.PENDING.wire())
          && verdict.kind() == AttemptVerdict.Kind.REQUEUE) {
        stale(r, c); // taken back already; an interruption adds nothing
        continue;
      }
      current.put(
          c.id(),
          new Current(
              c.id(),
              verdict.status().wire(),
              c.attempt(),
              c.freeAttempts(),
              c.maxRetries(),
              c.queue(),
              c.createdAt()));
      applied++;
      OffsetDateTime started = at(r.startedAt());
      OffsetDateTime finished = at(r.finishedAt());
      String reason = withoutNul(verdict.reason());
      writes.add(jobUpdate(r, verdict, started, finished, reason));
      writes.add(
          db.query(
              "update job_attempts set started_at = ?::timestamptz, finished_at = ?::timestamptz, exit_code = ?, outcome = ?, "
                  + "reason = ? where job_id = ? and attempt = ?",
              started,
              finished,
              r.exitCode(),
              r.outcome().name().toLowerCase(java.util.Locale.ROOT),
              withoutNul(r.reason()),
              r.jobId(),
              r.attempt()));
      writes.add(
          db.query(
              "insert into job_outputs (job_id, attempt, output, truncated) values (?, ?, ?, ?) "
                  + "on conflict (job_id) do update set attempt = excluded.attempt, "
                  + "output = excluded.output, truncated = excluded.truncated",
              r.jobId(),
              r.attempt(),
              r.outputTail() == null ? "" : withoutNul(r.outputTail()),
              Boolean.TRUE.equals(r.outputTruncated())));
      messages.add(
          events.of(
              new JobEvent(
                  r.jobId(),
                  verdict.status().wire(),
                  r.attempt(),
                  r.workerId(),
                  r.exitCode(),
                  reason,
                  c.queue(),
                  JobEvents.instant(c.createdAt()),
                  r.startedAt(),
                  r.finishedAt()),
              null));
      if (verdict.kind() == AttemptVerdict.Kind.DONE) {
        doneIds.add(r.jobId());
      } else if (verdict.kind() == AttemptVerdict.Kind.FAILED) {
        failedIds.add(r.jobId());
      }
      meters
          .counter(
              "workron_attempts_finished_total",
              "outcome",
              r.outcome().name().toLowerCase(java.util.Locale.ROOT),
              "verdict",
              verdict.status().wire())
          .increment();
    }
    if (!writes.isEmpty()) {
      db.batch(writes).execute();
    }
    for (DependencyGraph.Moved m : graph.releaseDependentsOf(doneIds)) {
      messages.add(events.simple(m.jobId(), m.status(), 0, null, m.queueName()));
    }
    for (DependencyGraph.Moved m : graph.cancelDownstreamOf(failedIds)) {
      messages.add(events.simple(m.jobId(), m.status(), 0, m.reason(), m.queueName()));
    }
    outbox.addAll(messages);
    return applied;
  }

  private Query jobUpdate(
      JobResult r,
      AttemptVerdict verdict,
      OffsetDateTime started,
      OffsetDateTime finished,
      String reason) {
    String guard = " where id = ? and attempt = ? and status in ('running', 'pending')";
    return switch (verdict.kind()) {
      case DONE ->
          db.query(
              "update jobs set status = 'done', started_at = ?::timestamptz, finished_at = ?::timestamptz, exit_code = ?, "
                  + "failure_reason = null"
                  + guard,
              started,
              finished,
              r.exitCode(),
              r.jobId(),
              r.attempt());
      case FAILED ->
          db.query(
              "update jobs set status = 'failed', started_at = ?::timestamptz, finished_at = ?::timestamptz, exit_code = ?, "
                  + "failure_reason = ?"
                  + guard,
              started,
              finished,
              r.exitCode(),
              reason,
              r.jobId(),
              r.attempt());
      case RETRY ->
          db.query(
              "update jobs set status = 'pending', run_at = ?::timestamptz, started_at = ?::timestamptz, exit_code = ?, "
                  + "failure_reason = ?, worker_id = null, worker_incarnation = null"
                  + guard,
              at(verdict.runAt()),
              started,
              r.exitCode(),
              reason,
              r.jobId(),
              r.attempt());
      case REQUEUE ->
          // attempt numbers only grow (they fence late messages); free_attempts records that this
          // one does not count against max_retries
          db.query(
              "update jobs set status = 'pending', run_at = ?::timestamptz, free_attempts = free_attempts + 1, "
                  + "failure_reason = ?, worker_id = null, worker_incarnation = null"
                  + guard,
              at(verdict.runAt()),
              reason,
              r.jobId(),
              r.attempt());
    };
  }

  /**
   * A result counts for a running attempt, and also for one that liveness took back but that has
   * not been dispatched again (still pending at the same attempt number): the result proves the
   * attempt ran, and it wins over the guess that it was lost. Once the job is dispatched again, the
   * attempt number has moved on and the old result is stale.
   */
  private static boolean acceptsResult(String status) {
    return status.equals(JobStatus.RUNNING.wire()) || status.equals(JobStatus.PENDING.wire());
  }

  private void stale(JobResult r, Current c) {
    meters.counter("workron_stale_messages_total", "kind", "result").increment();
    log.info(
        "ignored stale result job_id={} attempt={} worker_id={}: job is {}",
        r.jobId(),
        r.attempt(),
        r.workerId(),
        c == null ? "unknown" : c.status() + " at attempt " + c.attempt());
  }

  /** PostgreSQL text cannot hold NUL; a worker's text must not be able to wedge the batch. */
  private static String withoutNul(String text) {
    return text == null ? null : text.replace("\u0000", "");
  }

  private static OffsetDateTime at(Instant i) {
    return i == null ? null : i.atOffset(ZoneOffset.UTC);
  }
}
