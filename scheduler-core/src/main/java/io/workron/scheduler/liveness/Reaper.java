package io.workron.scheduler.liveness;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.workron.scheduler.config.SchedulerProperties;
import io.workron.scheduler.dispatch.DispatchLoop;
import io.workron.scheduler.outbox.Outbox;
import io.workron.scheduler.outbox.OutboxMessage;
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
 * re-queued at once), dispatches no worker acknowledged, and attempts whose heartbeat went stale.
 * One replica at a time does this, the one holding advisory lock {@value #LOCK_ID} for the tick;
 * {@code workron_reaper_leader} says which.
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
  private final Outbox outbox;
  private final DispatchLoop dispatch;
  private final WaitingJobs waiting;
  private final AtomicInteger leader = new AtomicInteger();

  /**
   * Since when this replica has held the reaper lock without interruption; null when it does not.
   */
  private volatile OffsetDateTime leadingSince;

  private volatile boolean running;
  private Thread thread;

  Reaper(
      DSLContext db,
      TransactionTemplate tx,
      Clock clock,
      SchedulerProperties properties,
      Requeuer requeuer,
      Outbox outbox,
      DispatchLoop dispatch,
      WaitingJobs waiting,
      MeterRegistry meters) {
    this.db = db;
    this.tx = tx;
    this.clock = clock;
    this.properties = properties;
    this.requeuer = requeuer;
    this.outbox = outbox;
    this.dispatch = dispatch;
    this.waiting = waiting;
    Gauge.builder("workron_reaper_leader", leader, AtomicInteger::get)
        .description("1 while this replica runs the reaper, 0 otherwise")
        .register(meters);
  }

  /** Runs one reaper tick; public so tests can drive it. */
  public Tick tick() {
    Tick t = tx.execute(status -> tickInTransaction());
    if (t != null && (t.requeued() > 0 || t.failed() > 0)) {
      outbox.committed();
      dispatch.wake();
    }
    return t;
  }

  private Tick tickInTransaction() {
    Boolean locked =
        db.resultQuery("select pg_try_advisory_xact_lock(?)", LOCK_ID)
            .fetchOne(r -> r.get(0, Boolean.class));
    if (!Boolean.TRUE.equals(locked)) {
      leader.set(0);
      leadingSince = null;
      return new Tick(false, 0, 0, 0);
    }
    leader.set(1);
    OffsetDateTime now = OffsetDateTime.now(clock);
    // jobs waiting for what may never come do not depend on how fresh heartbeats are
    WaitingJobs.Outcome waited = waiting.check(now);
    List<OutboxMessage> messages = new ArrayList<>(waited.messages());
    int requeued = 0;
    int failed = waited.failed() + waited.cancelled();
    if (leadingSince == null) {
      leadingSince = now;
    }
    if (now.isBefore(leadingSince.plus(properties.workerOfflineAfter()))) {
      // Heartbeats may not have been read for a while (this replica just started, took over, or
      // lost the database): judge liveness only after a full offline window of fresh heartbeats.
      outbox.addAll(messages);
      return new Tick(true, 0, 0, failed);
    }

    List<String> lost =
        db.resultQuery(
                "update workers set status = 'offline' where status in ('active', 'draining') "
                    + "and last_heartbeat_at < ?::timestamptz returning id",
                now.minus(properties.workerOfflineAfter()))
            .fetch(r -> r.get(0, String.class));
    if (!lost.isEmpty()) {
      List<Requeuer.Held> held =
          db.resultQuery(
                  "select id, attempt from jobs where status = 'running' and worker_id = any(?::varchar[])",
                  (Object) lost.toArray(String[]::new))
              .fetch(r -> new Requeuer.Held(r.get(0, String.class), r.get(1, Integer.class)));
      Requeuer.Outcome o = requeuer.requeue(held, Requeuer.Cause.WORKER_LOST, now);
      messages.addAll(o.messages());
      requeued += o.requeued();
      failed += o.failed();
      log.warn(
          "workers offline (no heartbeat for {}): {}; {} attempts re-queued, {} failed",
          properties.workerOfflineAfter(),
          lost,
          o.requeued(),
          o.failed());
    }

    List<Requeuer.Held> unacknowledged =
        db.resultQuery(
                "select id, attempt from jobs where status = 'running' "
                    + "and last_heartbeat_at is null and dispatched_at < ?::timestamptz",
                now.minus(properties.dispatchAckTimeout()))
            .fetch(r -> new Requeuer.Held(r.get(0, String.class), r.get(1, Integer.class)));
    if (!unacknowledged.isEmpty()) {
      Requeuer.Outcome o =
          requeuer.requeue(
              unacknowledged,
              Requeuer.Cause.NOT_ACKNOWLEDGED,
              now,
              new Requeuer.Guard(now.minus(properties.dispatchAckTimeout()), null));
      messages.addAll(o.messages());
      requeued += o.requeued();
      log.warn(
          "{} dispatches not acknowledged within {}; re-queued without using a retry",
          o.requeued(),
          properties.dispatchAckTimeout());
    }

    List<Requeuer.Held> stale =
        db.resultQuery(
                "select id, attempt from jobs where status = 'running' "
                    + "and last_heartbeat_at < ?::timestamptz",
                now.minus(properties.jobHeartbeatTimeout()))
            .fetch(r -> new Requeuer.Held(r.get(0, String.class), r.get(1, Integer.class)));
    if (!stale.isEmpty()) {
      Requeuer.Outcome o =
          requeuer.requeue(
              stale,
              Requeuer.Cause.HEARTBEAT_TIMEOUT,
              now,
              new Requeuer.Guard(null, now.minus(properties.jobHeartbeatTimeout())));
      messages.addAll(o.messages());
      requeued += o.requeued();
      failed += o.failed();
      log.warn(
          "{} attempts without heartbeat for {}: {} re-queued, {} failed",
          stale.size(),
          properties.jobHeartbeatTimeout(),
          o.requeued(),
          o.failed());
    }
    outbox.addAll(messages);
    return new Tick(true, lost.size(), requeued, failed);
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
        tick();
      } catch (RuntimeException e) {
        leader.set(0);
        leadingSince = null;
        log.warn(
            "reaper tick failed; next tick in {}: {}",
            properties.reaperTick(),
            NestedExceptionUtils.getMostSpecificCause(e).toString());
      }
    }
  }
}
