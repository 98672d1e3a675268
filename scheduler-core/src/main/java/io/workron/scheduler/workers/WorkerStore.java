package io.workron.scheduler.workers;

import static io.workron.scheduler.db.Tables.RETIRED_INCARNATIONS;

import io.micrometer.core.instrument.MeterRegistry;
import io.workron.scheduler.dispatch.DispatchLoop;
import io.workron.scheduler.liveness.Requeuer;
import io.workron.scheduler.outbox.Outbox;
import io.workron.scheduler.outbox.OutboxMessage;
import io.workron.schemas.Ids;
import io.workron.schemas.MessageType;
import io.workron.schemas.Resources;
import io.workron.schemas.Topics;
import io.workron.schemas.WireCodec;
import io.workron.schemas.WorkerControl;
import io.workron.schemas.WorkerHeartbeat;
import java.time.Clock;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import org.jooq.DSLContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Records workers from their heartbeats. A heartbeat from a new incarnation of a known worker means
 * the process restarted: whatever the previous incarnation held goes back to pending at once, (the
 * attempt counts, as for a lost worker), and the new incarnation ignores dispatches meant for the
 * old one.
 */
@Component
class WorkerStore {

  private static final Logger log = LoggerFactory.getLogger(WorkerStore.class);

  private final DSLContext db;
  private final TransactionTemplate tx;
  private final Clock clock;
  private final DispatchLoop dispatch;
  private final Outbox outbox;
  private final MeterRegistry meters;
  private final Requeuer requeuer;
  private final Topics topics;
  private final WireCodec codec;
  private final io.workron.scheduler.lifecycle.JobTransitions transitions;

  WorkerStore(
      DSLContext db,
      TransactionTemplate tx,
      Clock clock,
      DispatchLoop dispatch,
      Outbox outbox,
      MeterRegistry meters,
      Requeuer requeuer,
      Topics topics,
      WireCodec codec,
      io.workron.scheduler.lifecycle.JobTransitions transitions) {
    this.transitions = transitions;
    this.requeuer = requeuer;
    this.topics = topics;
    this.codec = codec;
    this.db = db;
    this.tx = tx;
    this.clock = clock;
    this.dispatch = dispatch;
    this.outbox = outbox;
    this.meters = meters;
  }

  /**
   * A heartbeat as it was read: {@code at} is the broker's timestamp of its record (the topic uses
   * LogAppendTime), the time liveness is judged in; {@code partition} is where it was read.
   */
  record Received(WorkerHeartbeat heartbeat, OffsetDateTime at, int partition) {}

  void record(List<Received> heartbeats) {
    if (heartbeats.isEmpty()) {
      return;
    }
    tx.executeWithoutResult(status -> recordInTransaction(heartbeats));
    // a heartbeat may bring capacity (a new worker, freed slots) no job transition announces
    dispatch.wake();
  }

  private void recordInTransaction(List<Received> heartbeats) {
    OffsetDateTime now = OffsetDateTime.now(clock);
    List<OutboxMessage> messages = new ArrayList<>();
    List<String> liveIds = new ArrayList<>();
    List<Integer> liveAttempts = new ArrayList<>();
    List<OffsetDateTime> liveAt = new ArrayList<>();
    for (Received received : heartbeats) {
      WorkerHeartbeat hb = received.heartbeat();
      OffsetDateTime at = received.at();
      Resources res = hb.resources() == null ? Resources.NONE : hb.resources();
      String status =
          switch (hb.stateOrActive()) {
            case ACTIVE -> "active";
            case STOPPING -> "draining";
            case STOPPED -> "offline";
          };
      record Current(String incarnation, String status) {}
      Current current =
          db.resultQuery(
                  "select incarnation, status from workers where id = ? for update", hb.workerId())
              .fetchOptional(r -> new Current(r.get(0, String.class), r.get(1, String.class)))
              .orElse(null);
      String previous = current == null ? null : current.incarnation();
      if (previous != null && !previous.equals(hb.incarnation())) {
        if (isRetired(hb.workerId(), hb.incarnation())) {
          // replaced by a newer process that announced itself later: a zombie that still talks
          stale(hb, previous);
          messages.add(superseded(hb, previous, now));
          continue;
        }
        if (previous.compareTo(hb.incarnation()) > 0 && !"offline".equals(current.status())) {
          // sorts before the live incarnation (UUIDv7, the processes' clocks): most likely an
          // older process; ignored, not told, until the current one is gone, so a restart on a
          // machine whose clock is behind takes over once its predecessor is offline
          stale(hb, previous);
          continue;
        }
        db.execute(
            "insert into retired_incarnations (worker_id, incarnation, retired_at) "
                + "values (?, ?, ?::timestamptz) on conflict do nothing",
            hb.workerId(),
            previous,
            now);
      }
      db.execute(
          "insert into workers (id, incarnation, slots, vram_mb, memory_mb, tags, exec_addr, status, "
              + "registered_at, last_heartbeat_at, heartbeat_partition, last_heartbeat_sent_at) "
              + "values (?, ?, ?, ?, ?, ?, ?, ?, ?::timestamptz, ?::timestamptz, ?, ?::timestamptz) "
              + "on conflict (id) do update set incarnation = excluded.incarnation, "
              + "slots = excluded.slots, vram_mb = excluded.vram_mb, memory_mb = excluded.memory_mb, "
              + "tags = excluded.tags, exec_addr = excluded.exec_addr, status = excluded.status, "
              + "last_heartbeat_at = excluded.last_heartbeat_at, "
              + "heartbeat_partition = excluded.heartbeat_partition, "
              + "last_heartbeat_sent_at = excluded.last_heartbeat_sent_at",
          hb.workerId(),
          hb.incarnation(),
          hb.slots(),
          res.vramMb(),
          res.memoryMb(),
          hb.tags() == null ? "" : String.join(",", hb.tags()),
          hb.execAddr() == null ? "" : hb.execAddr(),
          status,
          now,
          at,
          received.partition(),
          hb.sentAt() == null ? null : hb.sentAt().atOffset(java.time.ZoneOffset.UTC));
      if (previous == null) {
        log.atInfo()
            .addKeyValue("worker_id", hb.workerId())
            .log(
                "worker registered worker_id={} incarnation={} slots={}",
                hb.workerId(),
                hb.incarnation(),
                hb.slots());
      } else if (!previous.equals(hb.incarnation())) {
        log.atInfo()
            .addKeyValue("worker_id", hb.workerId())
            .log(
                "worker restarted worker_id={} incarnation={} previous={}",
                hb.workerId(),
                hb.incarnation(),
                previous);
        requeueHeldBy(hb.workerId(), hb.incarnation(), false, Requeuer.Cause.WORKER_RESTARTED, now);
      }
      if (hb.stateOrActive() == WorkerHeartbeat.State.STOPPED) {
        log.atInfo()
            .addKeyValue("worker_id", hb.workerId())
            .log("worker stopped worker_id={} incarnation={}", hb.workerId(), hb.incarnation());
        requeueHeldBy(hb.workerId(), hb.incarnation(), true, Requeuer.Cause.WORKER_STOPPED, now);
      }
      if (hb.running() != null) {
        for (WorkerHeartbeat.RunningAttempt a : hb.running()) {
          liveIds.add(a.jobId());
          liveAttempts.add(a.attempt());
          liveAt.add(at);
        }
      }
    }
    if (!liveIds.isEmpty()) {
      db.resultQuery(
              "select id from jobs where id = any(?::varchar[]) order by id for update",
              (Object) liveIds.stream().distinct().sorted().toArray(String[]::new))
          .fetch();
      int fresh = refreshListed(liveIds, liveAttempts, liveAt);
      if (fresh < liveIds.size() && startReserved(liveIds, liveAttempts, now) > 0) {
        fresh = refreshListed(liveIds, liveAttempts, liveAt);
      }
      if (fresh < liveIds.size()) {
        // a worker still lists attempts the scheduler took back or that already finished
        meters
            .counter("workron_stale_messages_total", "kind", "heartbeat")
            .increment(liveIds.size() - fresh);
        log.debug("{} listed attempts are no longer current", liveIds.size() - fresh);
      }
    }
    outbox.addAll(messages);
  }

  /** Records when the listed running attempts were last listed; returns how many are current. */
  private int refreshListed(List<String> ids, List<Integer> attempts, List<OffsetDateTime> at) {
    return db.execute(
        "update jobs j set last_heartbeat_at = v.at "
            + "from unnest(?::varchar[], ?::int[], ?::timestamptz[]) as v(id, attempt, at) "
            + "where j.id = v.id and j.attempt = v.attempt and j.status = 'running'",
        ids.toArray(String[]::new),
        attempts.toArray(Integer[]::new),
        at.toArray(OffsetDateTime[]::new));
  }

  /** Gang tasks reserved on their worker that it now lists: they run. Returns how many started. */
  private int startReserved(List<String> ids, List<Integer> attempts, OffsetDateTime now) {
    List<io.workron.scheduler.lifecycle.JobTransitions.Move> starts =
        db.resultQuery(
                "select j.id, j.attempt from jobs j "
                    + "join unnest(?::varchar[], ?::int[]) as v(id, attempt) "
                    + "on j.id = v.id and j.attempt = v.attempt where j.status = 'reserved'",
                ids.toArray(String[]::new),
                attempts.toArray(Integer[]::new))
            .fetch(
                r ->
                    io.workron.scheduler.lifecycle.JobTransitions.Move.at(
                        r.get(0, String.class), r.get(1, Integer.class)));
    return transitions
        .apply(io.workron.scheduler.core.Transition.START, starts, now)
        .moved()
        .size();
  }

  private boolean isRetired(String workerId, String incarnation) {
    return db.fetchExists(
        RETIRED_INCARNATIONS,
        RETIRED_INCARNATIONS
            .WORKER_ID
            .eq(workerId)
            .and(RETIRED_INCARNATIONS.INCARNATION.eq(incarnation)));
  }

  private void stale(WorkerHeartbeat hb, String current) {
    meters.counter("workron_stale_messages_total", "kind", "heartbeat").increment();
    log.atInfo()
        .addKeyValue("worker_id", hb.workerId())
        .log(
            "ignored heartbeat of a replaced incarnation worker_id={} incarnation={} current={}",
            hb.workerId(),
            hb.incarnation(),
            current);
  }

  /**
   * The order that tells an older incarnation still talking that a newer one has taken over its
   * worker id, on the worker's dispatch topic: it stops taking work and stops what it runs.
   */
  private OutboxMessage superseded(WorkerHeartbeat old, String current, OffsetDateTime now) {
    WorkerControl control =
        new WorkerControl(
            old.workerId(),
            old.incarnation(),
            WorkerControl.Action.SUPERSEDED,
            "incarnation " + current + " took over worker id " + old.workerId());
    return new OutboxMessage(
        topics.dispatch(old.workerId()),
        old.workerId(),
        codec.encode(
            WireCodec.envelope(
                MessageType.WORKER_CONTROL,
                Ids.newMessageId("control", clock),
                now.toInstant(),
                control)),
        null);
  }

  /**
   * Takes back the running attempts of one worker: those of {@code incarnation} itself ({@code
   * sameIncarnation}, it stopped) or of any other incarnation (it was replaced by this one).
   */
  private void requeueHeldBy(
      String workerId,
      String incarnation,
      boolean sameIncarnation,
      Requeuer.Cause cause,
      OffsetDateTime now) {
    List<Requeuer.Held> held =
        db.resultQuery(
                "select id, attempt from jobs where status = 'running' and worker_id = ? "
                    + "and (worker_incarnation = ?) = ? "
                    + "union all select id, attempt from jobs "
                    + "where status in ('reserved', 'preempting') and worker_id = ? "
                    + "and (worker_incarnation = ?) = ?",
                workerId,
                incarnation,
                sameIncarnation,
                workerId,
                incarnation,
                sameIncarnation)
            .fetch(r -> new Requeuer.Held(r.get(0, String.class), r.get(1, Integer.class)));
    requeuer.requeue(held, cause, now);
  }
}
