package io.workron.scheduler.liveness;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.workron.scheduler.config.SchedulerProperties;
import io.workron.scheduler.waiting.WaitingJobs;
import java.time.Clock;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.jooq.DSLContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.core.NestedExceptionUtils;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Notices failures nobody reports: workers that stopped heartbeating (offline, all their attempts
 * re-queued at once), dispatches no worker acknowledged, and attempts whose heartbeat went stale,
 * all judged in broker time against the watermarks of the heartbeats and results partitions. One
 * replica at a time does this, the one holding advisory lock {@value #LOCK_ID} for the tick; {@code
 * workron_reaper_leader} says which.
 */
@Component
public class Reaper implements SmartLifecycle {

  /** {@code pg_try_advisory_xact_lock} key of the reaper (the seed's key). */
  public static final long LOCK_ID = 1;

  private static final Logger log = LoggerFactory.getLogger(Reaper.class);

  /** What one tick did. */
  public record Tick(boolean leader, int workersLost, int requeued, int failed) {}

  private final DSLContext db;
  private final TransactionTemplate tx;
  private final Clock clock;
  private final SchedulerProperties properties;
  private final Requeuer requeuer;
  private final WaitingJobs waiting;
  private final Watermarks watermarks;
  private final ResultPartitions resultPartitions;
  private final io.workron.scheduler.workers.WorkerRetention retention;
  private final io.workron.scheduler.cancel.Cancellations cancellations;
  private final io.workron.scheduler.queues.Queues queues;
  private final io.workron.scheduler.retention.Retention jobRetention;
  private final io.workron.scheduler.overview.Rollups rollups;
  private final AtomicInteger leader = new AtomicInteger();

  private volatile boolean running;
  private Thread thread;

  Reaper(
      DSLContext db,
      TransactionTemplate tx,
      Clock clock,
      SchedulerProperties properties,
      Requeuer requeuer,
      WaitingJobs waiting,
      Watermarks watermarks,
      ResultPartitions resultPartitions,
      io.workron.scheduler.workers.WorkerRetention retention,
      io.workron.scheduler.cancel.Cancellations cancellations,
      io.workron.scheduler.queues.Queues queues,
      io.workron.scheduler.retention.Retention jobRetention,
      io.workron.scheduler.overview.Rollups rollups,
      MeterRegistry meters) {
    this.db = db;
    this.tx = tx;
    this.clock = clock;
    this.properties = properties;
    this.requeuer = requeuer;
    this.waiting = waiting;
    this.watermarks = watermarks;
    this.resultPartitions = resultPartitions;
    this.retention = retention;
    this.cancellations = cancellations;
    this.queues = queues;
    this.jobRetention = jobRetention;
    this.rollups = rollups;
    Gauge.builder("workron_reaper_leader", leader, AtomicInteger::get)
        .description("1 while this replica runs the reaper, 0 otherwise")
        .register(meters);
  }

  /** Runs one reaper tick; public so tests can drive it. */
  public Tick tick() {
    return tx.execute(status -> tickInTransaction());
  }

  private Tick tickInTransaction() {
    Boolean locked =
        db.resultQuery("select pg_try_advisory_xact_lock(?)", LOCK_ID)
            .fetchOne(r -> r.get(0, Boolean.class));
    if (!Boolean.TRUE.equals(locked)) {
      leader.set(0);
      return new Tick(false, 0, 0, 0);
    }
    leader.set(1);
    OffsetDateTime now = OffsetDateTime.now(clock);
    // jobs waiting for what may never come do not depend on how fresh heartbeats are
    WaitingJobs.Outcome waited = waiting.check(now);
    int requeued = 0;
    int failed = waited.failed() + waited.cancelled();

    // Everything below is judged in broker time, from evidence: a worker is lost only once its
    // heartbeats partition has been read past its last heartbeat by worker-offline-after (counted
    // from when the partition came back, after an outage). A consumer that lags, or a broker that
    // is down, stops the watermark and so reaps nothing.
    List<String> lost =
        db.resultQuery(
                "with silent as (select w.id from workers w "
                    + "  cross join lateral ("
                    + Watermarks.EVIDENCE
                    + ") e "
                    + "  where w.status in ('active', 'draining') "
                    + "  and e.watermark > greatest(w.last_heartbeat_at, e.resumed_at) + ?::interval "
                    + "  order by w.id for update of w) "
                    + "update workers w set status = 'offline' from silent "
                    + "where w.id = silent.id returning w.id",
                interval(properties.workerOfflineAfter()))
            .fetch(r -> r.get(0, String.class));
    if (!lost.isEmpty()) {
      List<Requeuer.Held> held =
          db.resultQuery(
                  "select id, attempt from jobs where status = 'running' and worker_id = any(?::varchar[]) "
                      // gang tasks holding the worker: the partial index of each status serves it
                      + "union all select id, attempt from jobs "
                      + "where status in ('reserved', 'preempting') and worker_id = any(?::varchar[])",
                  lost.toArray(String[]::new),
                  lost.toArray(String[]::new))
              .fetch(r -> new Requeuer.Held(r.get(0, String.class), r.get(1, Integer.class)));
      Requeuer.Outcome o = requeuer.requeue(held, Requeuer.Cause.WORKER_LOST, now);
      requeued += o.requeued();
      failed += o.failed();
      log.warn(
          "workers offline (their heartbeats partition was read {} past their last heartbeat): {};"
              + " {} attempts re-queued, {} failed",
          properties.workerOfflineAfter(),
          lost,
          o.requeued(),
          o.failed());
    }

    // A dispatch the worker has not listed although it heartbeated dispatch-ack-timeout after the
    // broker acknowledged it, and no result for it can still be on its way.
    List<Requeuer.Held> unacknowledged =
        withNoResultInFlight(
            "select j.id, j.attempt, j.last_heartbeat_at, w.last_heartbeat_at from jobs j "
                + "join workers w on w.id = j.worker_id and w.incarnation = j.worker_incarnation "
                + "where j.status = 'running' and j.last_heartbeat_at is null "
                + "and j.dispatch_published_at is not null "
                + "and w.last_heartbeat_at >= j.dispatch_published_at + ?::interval",
            properties.dispatchAckTimeout());
    if (!unacknowledged.isEmpty()) {
      Requeuer.Outcome o =
          requeuer.requeueIfStillUnlisted(unacknowledged, Requeuer.Cause.NOT_ACKNOWLEDGED, now);
      requeued += o.requeued();
      failed += o.failed();
      log.warn(
          "{} dispatches not listed by their worker within {} of being published; re-queued",
          o.requeued() + o.failed(),
          properties.dispatchAckTimeout());
    }

    // An attempt its live worker stopped listing job-heartbeat-timeout before its last heartbeat.
    List<Requeuer.Held> stale =
        withNoResultInFlight(
            "select j.id, j.attempt, j.last_heartbeat_at, w.last_heartbeat_at from jobs j "
                + "join workers w on w.id = j.worker_id and w.incarnation = j.worker_incarnation "
                + "where j.status = 'running' "
                + "and j.last_heartbeat_at < w.last_heartbeat_at - ?::interval",
            properties.jobHeartbeatTimeout());
    if (!stale.isEmpty()) {
      Requeuer.Outcome o =
          requeuer.requeueIfStillUnlisted(stale, Requeuer.Cause.HEARTBEAT_TIMEOUT, now);
      requeued += o.requeued();
      failed += o.failed();
      log.warn(
          "{} attempts no longer listed by their worker for {}: {} re-queued, {} failed",
          stale.size(),
          properties.jobHeartbeatTimeout(),
          o.requeued(),
          o.failed());
    }

    // An attempt ordered stopped (its job cancelled) that its live worker still lists
    // stop-confirm-timeout after the order, with no result on its way: the worker ignores stops.
    List<Requeuer.Held> unstopped =
        withNoResultInFlight(
            "select j.id, j.attempt, j.last_heartbeat_at, w.last_heartbeat_at from jobs j "
                + "join workers w on w.id = j.worker_id and w.incarnation = j.worker_incarnation "
                + "where j.status = 'running' and j.cancel_requested_at is not null "
                + "and w.last_heartbeat_at >= j.cancel_requested_at + ?::interval",
            properties.stopConfirmTimeout());
    if (!unstopped.isEmpty()) {
      Requeuer.Outcome o = requeuer.requeue(unstopped, Requeuer.Cause.STOP_NOT_CONFIRMED, now);
      failed += o.failed();
      log.warn(
          "{} attempts ordered stopped still run {} later; their jobs end without them: {}",
          unstopped.size(),
          properties.stopConfirmTimeout(),
          unstopped.stream().map(Requeuer.Held::jobId).toList());
    }
    // An attempt past its job's timeout that its live worker still lists stop-confirm-timeout
    // later, with no result on its way: the worker does not enforce timeouts (too old to know
    // them).
    List<Requeuer.Held> overdue =
        withNoResultInFlight(
            "select j.id, j.attempt, j.last_heartbeat_at, w.last_heartbeat_at from jobs j "
                + "join workers w on w.id = j.worker_id and w.incarnation = j.worker_incarnation "
                + "where j.status = 'running' and j.timeout_seconds is not null "
                // both in broker time: when the dispatch was published, when the worker last beat
                + "and j.dispatch_published_at is not null "
                + "and w.last_heartbeat_at >= j.dispatch_published_at "
                + "  + make_interval(secs => j.timeout_seconds) + ?::interval",
            properties.stopConfirmTimeout());
    if (!overdue.isEmpty()) {
      java.util.Map<String, Integer> limits = new java.util.HashMap<>();
      db.resultQuery(
              "select id, timeout_seconds from jobs where id = any(?::varchar[])",
              (Object) overdue.stream().map(Requeuer.Held::jobId).toArray(String[]::new))
          .forEach(r -> limits.put(r.get(0, String.class), r.get(1, Integer.class)));
      Requeuer.Outcome o =
          requeuer.requeue(
              overdue.stream()
                  .map(
                      h ->
                          h.because(
                              io.workron.schemas.StopCause.timedOutAfter(limits.get(h.jobId()))))
                  .toList(),
              Requeuer.Cause.TIMED_OUT,
              now);
      requeued += o.requeued();
      failed += o.failed();
      log.warn(
          "{} attempts still run {} past their timeout: {} re-queued, {} failed",
          overdue.size(),
          properties.stopConfirmTimeout(),
          o.requeued(),
          o.failed());
    }

    // the queue counts' deltas written since the last tick, folded so that reads stay cheap
    queues.fold();

    int forgotten = cancellations.forgetKeptBefore(now.minus(properties.pendingCancelRetention()));
    if (forgotten > 0) {
      log.info(
          "forgot {} cancels kept longer than {} for jobs that never came",
          forgotten,
          properties.pendingCancelRetention());
    }
    return new Tick(true, lost.size(), requeued, failed);
  }

  /**
   * Attempts found by {@code sql} (id, attempt, when last listed, the worker's last heartbeat) for
   * which no result can still be on its way: the results partition of the job has been read past
   * the worker's last heartbeat. A worker stops listing an attempt only once the broker has its
   * result, so a result not yet applied by then would be ahead of the watermark.
   */
  private List<Requeuer.Held> withNoResultInFlight(String sql, java.time.Duration window) {
    record Candidate(Requeuer.Held held, OffsetDateTime workerHeartbeat) {}
    List<Candidate> candidates =
        db.resultQuery(sql, interval(window))
            .fetch(
                r ->
                    new Candidate(
                        new Requeuer.Held(
                            r.get(0, String.class),
                            r.get(1, Integer.class),
                            r.get(2, OffsetDateTime.class)),
                        r.get(3, OffsetDateTime.class)));
    if (candidates.isEmpty()) {
      return List.of();
    }
    java.util.Map<Integer, OffsetDateTime> results = watermarks.read(Watermarks.Kind.RESULTS);
    List<Requeuer.Held> held = new ArrayList<>();
    for (Candidate c : candidates) {
      OffsetDateTime read = results.get(resultPartitions.of(c.held().jobId()));
      if (read != null && !read.isBefore(c.workerHeartbeat())) {
        held.add(c.held());
      }
    }
    return held;
  }

  private static String interval(java.time.Duration d) {
    return d.toMillis() + " milliseconds";
  }

  @Override
  public void start() {
    running = true;
    thread = new Thread(this::loop, "reaper");
    thread.setDaemon(true);
    thread.start();
  }

  @Override
  public void stop() {
    running = false;
    thread.interrupt();
    try {
      thread.join(10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    leader.set(0);
  }

  @Override
  public boolean isRunning() {
    return running;
  }

  private void loop() {
    while (running) {
      try {
        Thread.sleep(properties.reaperTick().toMillis());
      } catch (InterruptedException e) {
        return;
      }
      try {
        if (tick().leader()) {
          // talks to Kafka, so outside the tick's transaction; only the leader does it
          retention.removeAbsent();
          jobRetention.pruneIfDue();
          rollups.foldIfDue();
        }
      } catch (RuntimeException e) {
        leader.set(0);
        log.warn(
            "reaper tick failed; next tick in {}: {}",
            properties.reaperTick(),
            NestedExceptionUtils.getMostSpecificCause(e).toString());
      }
    }
  }
}
