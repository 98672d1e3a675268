package io.workron.scheduler.gangs;

import io.micrometer.core.instrument.MeterRegistry;
import io.workron.scheduler.config.SchedulerProperties;
import io.workron.scheduler.core.DispatchPlanner.WorkerCapacity;
import io.workron.scheduler.core.GangPlanner;
import io.workron.scheduler.core.JobStatus;
import io.workron.scheduler.core.Preemption;
import io.workron.scheduler.core.Transition;
import io.workron.scheduler.core.Unschedulable;
import io.workron.scheduler.dispatch.DispatchLoop;
import io.workron.scheduler.dispatch.DispatchRepository;
import io.workron.scheduler.lifecycle.JobTransitions;
import io.workron.scheduler.lifecycle.JobTransitions.Move;
import io.workron.schemas.GangEvent;
import java.time.Clock;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.jooq.DSLContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.core.NestedExceptionUtils;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The gang admission loop: on one replica at a time (advisory lock {@value #LOCK_ID}), every {@code
 * admission-tick} or sooner when work was queued or capacity freed, it
 *
 * <ol>
 *   <li>marks gangs whose tasks all ended as finished;
 *   <li>forces drain rounds whose acknowledgements are overdue, and rolls back (drains) gangs whose
 *       reservation was not taken up within {@code ready-timeout};
 *   <li>places waiting gangs whole ({@link GangPlanner}): it locks every live worker row, reserves
 *       one distinct worker per task ({@code blocked → reserved}, attempt + 1) and dispatches each
 *       task with its {@code GANG_*} environment, in one transaction. Ordinary dispatch rounds of
 *       any replica lock the same worker rows and count reserved tasks as used, so the two never
 *       over-book a worker.
 * </ol>
 *
 * A gang no registered fleet could ever hold says so in its {@code wait_reason} and fails after
 * {@code unschedulable-timeout}, as a single job does.
 */
@Component
public class GangAdmission implements SmartLifecycle {

  /** {@code pg_try_advisory_xact_lock} key of the admission loop (the seed's). */
  public static final long LOCK_ID = 2;

  private static final Logger log = LoggerFactory.getLogger(GangAdmission.class);

  /** Most waiting gangs one tick considers, in admission order. */
  private static final int MAX_CANDIDATES = 200;

  /** What one tick did. */
  public record Tick(boolean leader, int admitted, int rolledBack, int forced, int failed) {}

  private final DSLContext db;
  private final TransactionTemplate tx;
  private final Clock clock;
  private final SchedulerProperties properties;
  private final GangProperties gangProperties;
  private final DispatchRepository workers;
  private final DispatchLoop dispatch;
  private final JobTransitions transitions;
  private final GangDrains drains;
  private final GangPlanner planner;
  private final Preemptions preemptions;
  private final MeterRegistry meters;
  private final io.workron.scheduler.loops.WakeableLoop loop;

  GangAdmission(
      DSLContext db,
      TransactionTemplate tx,
      Clock clock,
      SchedulerProperties properties,
      GangProperties gangProperties,
      DispatchRepository workers,
      DispatchLoop dispatch,
      JobTransitions transitions,
      GangDrains drains,
      Preemptions preemptions,
      MeterRegistry meters) {
    this.preemptions = preemptions;
    this.db = db;
    this.tx = tx;
    this.clock = clock;
    this.properties = properties;
    this.gangProperties = gangProperties;
    this.workers = workers;
    this.dispatch = dispatch;
    this.transitions = transitions;
    this.drains = drains;
    this.planner = new GangPlanner(gangProperties.holdAfter());
    this.loop =
        new io.workron.scheduler.loops.WakeableLoop(
            "gang-admission",
            () -> {
              tick();
              return false;
            },
            gangProperties.admissionTick(),
            gangProperties.admissionTick(),
            e ->
                log.warn(
                    "gang admission tick failed; next in {}: {}",
                    gangProperties.admissionTick(),
                    NestedExceptionUtils.getMostSpecificCause(e).toString()));
    this.meters = meters;
  }

  /** One tick; public so tests can drive it. */
  public Tick tick() {
    int[] upkeep = tx.execute(status -> upkeep());
    if (upkeep == null) {
      return new Tick(false, 0, 0, 0, 0);
    }
    int[] placed = tx.execute(status -> place());
    if (placed == null) {
      return new Tick(false, 0, upkeep[0], upkeep[1], 0);
    }
    return new Tick(true, placed[0], upkeep[0], upkeep[1], placed[1]);
  }

  private boolean leader() {
    return Boolean.TRUE.equals(
        db.resultQuery("select pg_try_advisory_xact_lock(?)", LOCK_ID)
            .fetchOne(r -> r.get(0, Boolean.class)));
  }

  /**
   * Finished gangs, overdue drains and stale reservations, in a transaction of their own: it locks
   * task rows, and the placement below locks worker rows first (as heartbeats do).
   */
  private int[] upkeep() {
    if (!leader()) {
      return null;
    }
    OffsetDateTime now = OffsetDateTime.now(clock);
    db.execute(
        "update gangs g set finished_at = ?::timestamptz, wait_reason = null "
            + "where g.finished_at is null and not exists (select 1 from jobs j "
            + "  where j.gang_id = g.id and j.status not in ('done', 'failed', 'cancelled'))",
        now);
    // a round whose tasks were all cancelled meanwhile has nothing left to wait for
    db.execute(
        "update gang_drains d set ended_at = ?::timestamptz, outcome = 'cancelled' "
            + "from gangs g where g.id = d.gang_id and d.ended_at is null and g.finished_at is not null",
        now);
    int forced = drains.forceOverdue(gangProperties.drainForceTimeout(), now);
    cancelIncomplete(now);
    List<String> stale =
        db.resultQuery(
                "select distinct gang_id from jobs where status = 'reserved' "
                    + "and reserved_at < ?::timestamptz order by gang_id",
                now.minus(gangProperties.readyTimeout()))
            .fetch(r -> r.get(0, String.class));
    int rolledBack = 0;
    for (String gang : stale) {
      Map<String, GangDrains.Task> tasks = drains.lockTasks(taskIds(gang));
      List<String> notStarted =
          GangDrains.tasksOf(gang, tasks).stream()
              .filter(t -> t.status() == JobStatus.RESERVED)
              .map(t -> t.id() + "@" + t.workerId())
              .toList();
      if (notStarted.isEmpty()) {
        continue;
      }
      String reason =
          "reservation not taken up within "
              + gangProperties.readyTimeout()
              + " (not started: "
              + String.join(", ", notStarted)
              + ")";
      // free at first; once the gang was rolled back max-free-requeues times, the attempts of the
      // tasks that again did not start count, so a worker that never takes its dispatches up
      // cannot keep a gang cycling forever
      int rollbacks =
          db.resultQuery(
                  "select count(*) from gang_drains where gang_id = ? and trigger_job is null "
                      + "and reason like 'reservation not taken up%'",
                  gang)
              .fetchOne(r -> r.get(0, Integer.class));
      List<GangDrains.Trigger> charged =
          rollbacks < properties.maxFreeRequeues()
              ? List.of()
              : GangDrains.tasksOf(gang, tasks).stream()
                  .filter(t -> t.status() == JobStatus.RESERVED)
                  .map(
                      t ->
                          new GangDrains.Trigger(
                              t.id(), t.attempt(), reason, true, null, null, false))
                  .toList();
      if (drains.begin(gang, charged, reason, tasks, now) > 0) {
        rolledBack++;
        meters.counter("workron_gang_reservations_rolled_back_total").increment();
      }
    }
    return new int[] {rolledBack, forced};
  }

  /**
   * A gang some of whose task ids were already taken by other jobs could never run whole: its
   * stored tasks are cancelled, saying why, and it is finished.
   */
  private void cancelIncomplete(OffsetDateTime now) {
    List<String> incomplete =
        db.resultQuery(
                "select g.id from gangs g where g.finished_at is null "
                    + "and (select count(*) from jobs j where j.gang_id = g.id) <> g.size")
            .fetch(r -> r.get(0, String.class));
    for (String gang : incomplete) {
      String why =
          "gang "
              + gang
              + " cannot run: some of its task ids (<gang id>-<index>) were already used by other"
              + " jobs; submit it under another id";
      Map<String, String> reasons = new LinkedHashMap<>();
      taskIds(gang).forEach(id -> reasons.put(id, why));
      transitions.apply(Transition.CANCEL, reasons, now);
      db.execute(
          "update gangs set finished_at = ?::timestamptz, wait_reason = ? where id = ?",
          now,
          why,
          gang);
      log.warn("{}", why);
    }
  }

  private List<String> taskIds(String gang) {
    return db.resultQuery("select id from jobs where gang_id = ?", gang)
        .fetch(r -> r.get(0, String.class));
  }

  /** Places what fits; returns {admitted, failed as unschedulable}. */
  private int[] place() {
    if (!leader()) {
      return null;
    }
    OffsetDateTime now = OffsetDateTime.now(clock);
    record Waiting(
        GangPlanner.Gang gang,
        int priority,
        int epoch,
        String waitReason,
        OffsetDateTime unschedulableSince) {}
    List<Waiting> waiting =
        db.resultQuery(
                "select g.id, g.size, g.vram_mb, g.memory_mb, g.waiting_since, g.priority, g.epoch, "
                    + "g.wait_reason, g.unschedulable_since, g.preempted_for_at is not null, "
                    + "array(select w.id from workers w where w.held_for_gang = g.id) from gangs g "
                    + "where g.finished_at is null and g.run_at <= ?::timestamptz "
                    + "and not exists (select 1 from jobs j where j.gang_id = g.id and j.status <> 'blocked') "
                    // every task stored (an id already taken by another job would leave a hole)
                    + "and (select count(*) from jobs j where j.gang_id = g.id) = g.size "
                    + "order by g.priority desc, g.size desc, g.created_at, g.id limit ?",
                now,
                MAX_CANDIDATES)
            .fetch(
                r ->
                    new Waiting(
                        new GangPlanner.Gang(
                            r.get(0, String.class),
                            r.get(1, Integer.class),
                            r.get(2, Long.class),
                            r.get(3, Long.class),
                            r.get(4, OffsetDateTime.class),
                            Boolean.TRUE.equals(r.get(9, Boolean.class)),
                            Set.of(r.get(10, String[].class))),
                        r.get(5, Integer.class),
                        r.get(6, Integer.class),
                        r.get(7, String.class),
                        r.get(8, OffsetDateTime.class)));
    OffsetDateTime pendingBefore =
        now.minus(
            gangProperties.admissionTick().compareTo(java.time.Duration.ofSeconds(1)) > 0
                ? gangProperties.admissionTick()
                : java.time.Duration.ofSeconds(1));
    if (waiting.isEmpty()) {
      db.execute("update workers set held_for_gang = null where held_for_gang is not null");
      // worker rows are locked only when there is something to place or preempt for
      preemptions
          .demand(null, pendingBefore)
          .ifPresent(
              d ->
                  preemptions.preempt(
                      d,
                      workers.lockWorkersWithCapacity(properties.workerOfflineAfter(), true),
                      now));
      return new int[] {0, 0};
    }
    List<WorkerCapacity> live =
        workers.lockWorkersWithCapacity(properties.workerOfflineAfter(), true);
    List<Unschedulable.Offer> offers =
        db.resultQuery(
                "select vram_mb, memory_mb from workers where status <> 'offline' and slots > 0")
            .fetch(r -> new Unschedulable.Offer(r.get(0, Long.class), r.get(1, Long.class)));
    GangPlanner.Plan plan =
        planner.plan(waiting.stream().map(Waiting::gang).toList(), live, offers, now);
    Map<String, Waiting> byId = new HashMap<>();
    waiting.forEach(w -> byId.put(w.gang().id(), w));
    Map<String, String> execAddr = new HashMap<>();
    db.resultQuery("select id, exec_addr from workers")
        .forEach(r -> execAddr.put(r.get(0, String.class), r.get(1, String.class)));

    int admitted = 0;
    List<String> expired = new ArrayList<>();
    for (GangPlanner.Decision d : plan.decisions()) {
      Waiting w = byId.get(d.gangId());
      if (d.placed()) {
        if (reserve(w.gang(), w.epoch(), d.seats(), execAddr, now)) {
          admitted++;
        }
        continue;
      }
      boolean reasonChanged = !d.waitReason().equals(w.waitReason());
      boolean markChanged = d.unschedulable() != (w.unschedulableSince() != null);
      if (reasonChanged || markChanged) {
        db.execute(
            "update gangs set wait_reason = ?, unschedulable_since = case when ? "
                + "then coalesce(unschedulable_since, ?::timestamptz) end where id = ?",
            d.waitReason(),
            d.unschedulable(),
            now,
            d.gangId());
        db.execute(
            "update jobs set wait_reason = ? where gang_id = ? and status = 'blocked'",
            d.waitReason(),
            d.gangId());
      }
      if (d.unschedulable()
          && w.unschedulableSince() != null
          && w.unschedulableSince().plus(properties.unschedulableTimeout()).isBefore(now)) {
        expired.add(d.gangId());
      }
    }
    int failed = 0;
    for (String gang : expired) {
      Map<String, String> reasons = new LinkedHashMap<>();
      String why =
          "unschedulable for "
              + properties.unschedulableTimeout()
              + ": "
              + byId.get(gang).waitReason();
      taskIds(gang).forEach(id -> reasons.put(id, why));
      List<String> moved =
          transitions.apply(Transition.FAIL_UNSCHEDULABLE, reasons, now).movedIds();
      drains.cancelDownstreamOf(moved);
      failed += moved.size();
      db.execute("update gangs set finished_at = ?::timestamptz where id = ?", now, gang);
      log.warn("gang failed gang_id={}: {}", gang, why);
    }
    hold(plan.heldFor(), plan.heldWorkers());
    // the first gang that could run on the fleet but was not placed may preempt lower-priority work
    Preemption.Demand first = null;
    for (GangPlanner.Decision d : plan.decisions()) {
      if (!d.placed() && !d.unschedulable()) {
        GangPlanner.Gang g = byId.get(d.gangId()).gang();
        first =
            new Preemption.Demand(
                g.id(), byId.get(d.gangId()).priority(), g.size(), g.vramMb(), g.memoryMb());
        break;
      }
    }
    Optional<Preemptions.Demand> demand = preemptions.demand(first, pendingBefore);
    if (demand.isPresent()) {
      // what they use now, this tick's reservations included (the rows are still locked)
      preemptions.preempt(
          demand.get(),
          workers.lockWorkersWithCapacity(properties.workerOfflineAfter(), true),
          now);
    }
    return new int[] {admitted, failed};
  }

  /** Keeps the workers of {@code held} for gang {@code gang}, and releases all others. */
  private void hold(String gang, Set<String> held) {
    String[] ids = held.toArray(String[]::new);
    db.execute(
        "update workers set held_for_gang = null where held_for_gang is not null "
            + "and not (id = any(?::varchar[]))",
        (Object) ids);
    if (gang != null && ids.length > 0) {
      int changed =
          db.execute(
              "update workers set held_for_gang = ? where id = any(?::varchar[]) "
                  + "and held_for_gang is distinct from ?",
              gang,
              ids,
              gang);
      if (changed > 0) {
        log.info(
            "workers held for gang gang_id={} workers={}: it waited longer than {}",
            gang,
            held,
            gangProperties.holdAfter());
      }
    }
  }

  /**
   * Reserves every task of the gang on its seat and dispatches it; false when a task was no longer
   * blocked (cancelled meanwhile), in which case nothing is reserved.
   */
  private boolean reserve(
      GangPlanner.Gang gang,
      int epoch,
      List<GangPlanner.Seat> seats,
      Map<String, String> execAddr,
      OffsetDateTime now) {
    List<Move> moves = new ArrayList<>(seats.size());
    for (GangPlanner.Seat s : seats) {
      moves.add(
          Move.of(io.workron.schemas.JobSubmission.gangTaskId(gang.id(), s.index()))
              .on(s.workerId(), s.incarnation())
              .inEpoch(epoch));
    }
    // a gang one of whose tasks was cancelled since it was read is left as it is, whole
    List<String> notBlocked =
        db
            .resultQuery(
                "select id, status from jobs where gang_id = ? order by id for update", gang.id())
            .fetch(r -> r.get(1, String.class).equals("blocked") ? null : r.get(0, String.class))
            .stream()
            .filter(java.util.Objects::nonNull)
            .toList();
    if (!notBlocked.isEmpty()) {
      log.info("gang {} not admitted: tasks {} are no longer waiting", gang.id(), notBlocked);
      return false;
    }
    JobTransitions.Applied applied = transitions.apply(Transition.RESERVE, moves, now);
    List<String> peers = new ArrayList<>(seats.size());
    List<String> seatWorkers = new ArrayList<>(seats.size());
    for (GangPlanner.Seat s : seats) {
      String addr = execAddr.getOrDefault(s.workerId(), "");
      peers.add(addr.isEmpty() ? s.workerId() : addr);
      seatWorkers.add(s.workerId());
    }
    String host0 = hostOf(peers.get(0));
    String rendezvous = host0 + ":" + gangProperties.rendezvousPort();
    String peerList = String.join(",", peers);
    dispatch.sendDispatches(
        applied.moved(),
        m -> {
          Map<String, String> env = new LinkedHashMap<>();
          env.put("GANG_ID", gang.id());
          env.put("GANG_SIZE", Integer.toString(gang.size()));
          env.put("GANG_INDEX", Integer.toString(m.gangIndex()));
          env.put("GANG_PEERS", peerList);
          env.put("GANG_EPOCH", Integer.toString(epoch));
          env.put("GANG_RENDEZVOUS", rendezvous);
          // the names torch.distributed's env:// initialisation reads
          env.put("MASTER_ADDR", host0);
          env.put("MASTER_PORT", Integer.toString(gangProperties.rendezvousPort()));
          env.put("WORLD_SIZE", Integer.toString(gang.size()));
          env.put("RANK", Integer.toString(m.gangIndex()));
          return env;
        },
        now);
    db.execute(
        "update gangs set admitted_at = ?::timestamptz, admissions = admissions + 1, "
            + "wait_reason = null, unschedulable_since = null, preempted_for_at = null where id = ?",
        now,
        gang.id());
    db.execute("update workers set held_for_gang = null where held_for_gang = ?", gang.id());
    meters.counter("workron_gangs_admitted_total").increment();
    log.info(
        "gang admitted gang_id={} size={} epoch={} workers={} attempts={}",
        gang.id(),
        gang.size(),
        epoch,
        seatWorkers,
        applied.moved().stream().map(JobTransitions.Moved::attempt).toList());
    drains.event(
        new GangEvent(
            gang.id(),
            GangEvent.Kind.ADMITTED,
            epoch,
            gang.size(),
            seatWorkers,
            null,
            null,
            null,
            null,
            null),
        now);
    return true;
  }

  /** The host of {@code host:port} (or of a bare host; {@code [v6]:port} keeps its brackets). */
  static String hostOf(String addr) {
    int colon = addr.lastIndexOf(':');
    if (colon <= 0 || (addr.startsWith("[") && !addr.substring(0, colon).endsWith("]"))) {
      return addr;
    }
    if (addr.indexOf(':') != colon && !addr.startsWith("[")) {
      return addr; // a bare IPv6 address
    }
    return addr.substring(0, colon);
  }

  /**
   * Ticks at once rather than at the next {@code admission-tick}. The loop is not woken by every
   * job moved or stored in this replica, as the dispatch loop is: a placement locks every worker
   * row, and ordinary dispatch rounds, which skip locked rows, would find none.
   */
  public void wake() {
    loop.wake();
  }

  @Override
  public void start() {
    loop.start();
  }

  @Override
  public void stop() {
    loop.stop();
  }

  @Override
  public boolean isRunning() {
    return loop.isRunning();
  }
}
