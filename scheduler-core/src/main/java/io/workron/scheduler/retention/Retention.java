package io.workron.scheduler.retention;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.workron.scheduler.cancel.Cancellations;
import io.workron.scheduler.config.SchedulerProperties;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import org.jooq.DSLContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Deletes finished jobs (done, failed, cancelled) older than {@code retention}, with their
 * attempts, output and edges, in batches of {@code retention-batch-size}, one short transaction
 * each, under advisory lock {@value #LOCK_ID}. Running and waiting work is never touched: only rows
 * whose status is final are read, and they are locked with {@code SKIP LOCKED}. Each deleted id is
 * kept in {@code pruned_jobs} for {@code pruned-id-retention}, so ingestion never stores it again.
 */
@Component
public class Retention {

  /** {@code pg_try_advisory_xact_lock} key of a retention batch. */
  public static final long LOCK_ID = 6;

  /** Most batches one pass deletes, so that a large backlog is worked off over several passes. */
  static final int MAX_BATCHES_PER_PASS = 200;

  private static final Logger log = LoggerFactory.getLogger(Retention.class);

  /** What a pass did. */
  public record Pass(int deleted, int batches, int idsForgotten, Duration took) {}

  private final DSLContext db;
  private final TransactionTemplate tx;
  private final Clock clock;
  private final SchedulerProperties properties;
  private final Counter pruned;
  private volatile Instant lastRun;

  Retention(
      DSLContext db,
      TransactionTemplate tx,
      Clock clock,
      SchedulerProperties properties,
      MeterRegistry meters) {
    this.db = db;
    this.tx = tx;
    this.clock = clock;
    this.properties = properties;
    this.pruned = meters.counter("workron_jobs_pruned_total");
  }

  /** Runs a pass if the last one was {@code retention-interval} ago or more. */
  public Pass pruneIfDue() {
    Instant now = clock.instant();
    if (lastRun != null && now.isBefore(lastRun.plus(properties.retentionInterval()))) {
      return new Pass(0, 0, 0, Duration.ZERO);
    }
    lastRun = now;
    return prune();
  }

  /** One pass: batches until none is full, or another replica holds the lock. */
  public Pass prune() {
    long started = System.nanoTime();
    OffsetDateTime now = OffsetDateTime.now(clock);
    OffsetDateTime cutoff = now.minus(properties.retention());
    int deleted = 0;
    int batches = 0;
    while (batches < MAX_BATCHES_PER_PASS) {
      Integer n = tx.execute(status -> batch(cutoff, now));
      if (n == null || n < 0) {
        break; // another replica is pruning
      }
      batches++;
      deleted += n;
      if (n < properties.retentionBatchSize()) {
        break;
      }
    }
    OffsetDateTime forgetBefore = now.minus(properties.prunedIdRetention());
    Integer forgotten =
        tx.execute(
            status ->
                db.execute(
                    "delete from pruned_jobs where pruned_at < ?::timestamptz", forgetBefore));
    pruned.increment(deleted);
    Duration took = Duration.ofNanos(System.nanoTime() - started);
    if (deleted > 0) {
      log.info(
          "retention: deleted {} jobs finished before {} in {} batches, {} ms",
          deleted,
          cutoff,
          batches,
          took.toMillis());
    }
    return new Pass(deleted, batches, forgotten == null ? 0 : forgotten, took);
  }

  /** Deletes one batch; returns how many jobs, or -1 when another replica holds the lock. */
  private int batch(OffsetDateTime cutoff, OffsetDateTime now) {
    Boolean locked =
        db.resultQuery("select pg_try_advisory_xact_lock(?)", LOCK_ID)
            .fetchOne(r -> r.get(0, Boolean.class));
    if (!Boolean.TRUE.equals(locked)) {
      return -1;
    }
    // ingestion waits for this batch (and this batch for ingestion in flight), so a redelivered
    // submission of a job deleted here either finds it still stored or finds its pruned id
    db.resultQuery("select pg_advisory_xact_lock(?)", Cancellations.KEEP_LOCK_ID).fetch();
    return db.resultQuery(
            "with doomed as (select id from jobs "
                + "  where status in ('done', 'failed', 'cancelled') and finished_at < ?::timestamptz "
                // a gang's tasks go only once the whole gang ended (a done task still counts for
                // its running siblings: a gang restarts all its tasks or none)
                + "  and (gang_id is null or gang_id in (select id from gangs where finished_at is not null)) "
                + "  order by finished_at limit ? for update skip locked), "
                + "a as (delete from job_attempts where job_id in (select id from doomed)), "
                + "o as (delete from job_outputs where job_id in (select id from doomed)), "
                + "c as (delete from checkpoints where job_id in (select id from doomed)), "
                // a gang whose tasks all ended long ago goes with its drain history
                + "g as (delete from gangs where finished_at < ?::timestamptz returning id), "
                + "d as (delete from gang_drains where gang_id in (select id from g)), "
                + "e as (delete from job_dependencies where job_id in (select id from doomed)), "
                + "v as (delete from audit_events where job_id in (select id from doomed) "
                + "  or gang_id in (select id from g) "
                // changes to queues, schedules and workers go at the same age as jobs
                + "  or (job_id is null and gang_id is null and at < ?::timestamptz)), "
                + "p as (insert into pruned_jobs (id, pruned_at) select id, ?::timestamptz "
                + "  from doomed on conflict (id) do nothing), "
                + "j as (delete from jobs where id in (select id from doomed) returning id) "
                + "select count(*) from j",
            cutoff,
            properties.retentionBatchSize(),
            cutoff,
            cutoff,
            now)
        .fetchOne(r -> r.get(0, Integer.class));
  }
}
