package io.workron.scheduler.gangs;

import io.micrometer.core.instrument.MeterRegistry;
import io.workron.scheduler.core.DispatchPlanner.WorkerCapacity;
import io.workron.scheduler.core.Preemption;
import io.workron.scheduler.core.Transition;
import io.workron.scheduler.dispatch.StopOrders;
import io.workron.scheduler.lifecycle.JobTransitions;
import io.workron.scheduler.lifecycle.JobTransitions.Move;
import io.workron.scheduler.queues.Queues;
import io.workron.schemas.StopCause;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jooq.DSLContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * Priority preemption, one round at a time, as a step of the admission loop (under its lock, in its
 * placement transaction, after the worker rows are locked). When the highest-priority work that
 * cannot be placed (the first waiting gang that could run on the fleet, or a pending job that
 * waited a tick) outranks running preemptible work, the fewest lowest-priority victims are chosen
 * ({@link Preemption}) and drained with the control channel's preempt orders: a gang victim as a
 * drain round of its own, a job victim {@code running → preempting → preempted → pending}. Every
 * victim's attempt is refunded, and it resumes from its checkpoint when it runs again.
 *
 * <p>Against thrashing: nothing is preempted while an earlier round still drains, and a victim must
 * have run {@code min-run-time}. Non-preemptible work is never a candidate.
 */
@Component
class Preemptions {

  private static final Logger log = LoggerFactory.getLogger(Preemptions.class);

  /** A demand and where it comes from. */
  record Demand(Preemption.Demand demand, boolean gang) {}

  private final DSLContext db;
  private final JobTransitions transitions;
  private final StopOrders stops;
  private final GangDrains drains;
  private final Queues queues;
  private final MeterRegistry meters;
  private final Preemption preemption;

  Preemptions(
      DSLContext db,
      JobTransitions transitions,
      StopOrders stops,
      GangDrains drains,
      Queues queues,
      MeterRegistry meters,
      GangProperties properties) {
    this.db = db;
    this.transitions = transitions;
    this.stops = stops;
    this.drains = drains;
    this.queues = queues;
    this.meters = meters;
    this.preemption = new Preemption(properties.minRunTime());
  }

  /**
   * What to preempt for, if anything: the higher of {@code waitingGang} (the first gang admission
   * could not place, may be null) and the highest-priority pending job that waited since {@code
   * pendingBefore}, when it outranks running preemptible work and no round still drains. Cheap: no
   * worker row is locked.
   */
  Optional<Demand> demand(Preemption.Demand waitingGang, OffsetDateTime pendingBefore) {
    Integer lowest =
        db.resultQuery("select min(priority) from jobs where status = 'running' and preemptible")
            .fetchOne(r -> r.get(0, Integer.class));
    if (lowest == null) {
      return Optional.empty();
    }
    if (db.fetchExists(db.selectOne().from("jobs").where("status = 'preempting'"))) {
      return Optional.empty(); // a round still drains: what it frees is not known yet
    }
    return Optional.ofNullable(highest(waitingGang, lowest, pendingBefore));
  }

  /**
   * Preempts for {@code demand} the fewest lowest-priority victims on {@code live} (the live
   * workers, locked, with what they use now). Returns the victims' ids.
   */
  List<String> preempt(Demand demand, List<WorkerCapacity> live, OffsetDateTime now) {
    if (!demand.gang()) {
      // ordinary dispatch cannot use a worker held for a gang: it is no room for a job
      java.util.Set<String> held =
          new java.util.HashSet<>(
              db.resultQuery("select id from workers where held_for_gang is not null")
                  .fetch(r -> r.get(0, String.class)));
      live = live.stream().filter(w -> !held.contains(w.id())).toList();
    }
    if (live.isEmpty()) {
      return List.of();
    }
    List<Preemption.Running> running =
        db.resultQuery(
                "select j.id, j.gang_id, j.worker_id, j.priority, j.vram_mb, j.memory_mb, "
                    + "coalesce(g.admitted_at, j.dispatched_at) from jobs j "
                    + "left join gangs g on g.id = j.gang_id "
                    + "where j.status = 'running' and j.preemptible and j.priority < ?",
                demand.demand().priority())
            .fetch(
                r ->
                    new Preemption.Running(
                        r.get(0, String.class),
                        r.get(1, String.class),
                        r.get(2, String.class),
                        r.get(3, Integer.class),
                        r.get(4, Long.class),
                        r.get(5, Long.class),
                        true,
                        r.get(6, OffsetDateTime.class)));
    Optional<Preemption.Plan> plan = preemption.plan(demand.demand(), live, running, now);
    if (plan.isEmpty()) {
      return List.of();
    }
    String id = demand.demand().id();
    String reason = "preempted by " + id + " (priority " + demand.demand().priority() + ")";
    List<String> victims = new ArrayList<>(plan.get().victims());
    java.util.Set<String> gangVictims = new java.util.HashSet<>();
    running.forEach(
        r -> {
          if (r.gangId() != null) {
            gangVictims.add(r.gangId());
          }
        });
    // every victim's rows at once, in id order, before any is moved: no other order of taking
    // them could deadlock with a result or a take-back locking the same rows
    List<String> rows = new ArrayList<>();
    List<String> jobs = new ArrayList<>();
    for (String v : victims) {
      if (gangVictims.contains(v)) {
        db.resultQuery("select id from jobs where gang_id = ?", v)
            .forEach(r -> rows.add(r.get(0, String.class)));
      } else {
        rows.add(v);
        jobs.add(v);
      }
    }
    Map<String, GangDrains.Task> locked = drains.lockTasks(rows);
    db.resultQuery(
            "select id from jobs where id = any(?::varchar[]) order by id for update",
            (Object) rows.toArray(String[]::new))
        .fetch();
    for (String v : victims) {
      if (gangVictims.contains(v)) {
        drains.begin(v, List.of(), reason, locked, now);
        meters.counter("workron_preemptions_total", "victim", "gang").increment();
      }
    }
    preemptJobs(jobs, reason, now);
    if (demand.gang()) {
      // what the victims free is kept for the gang, not taken by ordinary jobs meanwhile
      db.execute("update gangs set preempted_for_at = ?::timestamptz where id = ?", now, id);
      db.execute(
          "update workers set held_for_gang = ? where id = any(?::varchar[])",
          id,
          plan.get().workers().toArray(String[]::new));
    }
    log.info(
        "preempting for {} (priority {}): victims {} on workers {}",
        id,
        demand.demand().priority(),
        victims,
        plan.get().workers());
    return victims;
  }

  /** The demand to preempt for: the higher-priority of the gang and the first pending job. */
  private Demand highest(Preemption.Demand gang, int lowest, OffsetDateTime pendingBefore) {
    List<String> constrained = new ArrayList<>();
    queues
        .limits()
        .forEach(
            (name, l) -> {
              if (l.limited() || l.paused()) {
                constrained.add(name);
              }
            });
    // a job held back by its queue's limits or its concurrency key is not short of capacity
    Preemption.Demand job =
        db.resultQuery(
                "select id, priority, vram_mb, memory_mb from jobs where status = 'pending' "
                    + "and priority > ? and run_at <= ?::timestamptz and gang_id is null "
                    + "and concurrency_key is null and queue_name <> all(?::varchar[]) "
                    + "and unschedulable_since is null "
                    + "order by priority desc, run_at, id limit 1",
                lowest,
                pendingBefore,
                constrained.toArray(String[]::new))
            .fetchOptional(
                r ->
                    new Preemption.Demand(
                        r.get(0, String.class),
                        r.get(1, Integer.class),
                        1,
                        r.get(2, Long.class),
                        r.get(3, Long.class)))
            .orElse(null);
    if (gang != null
        && gang.priority() > lowest
        && (job == null || gang.priority() >= job.priority())) {
      return new Demand(gang, true);
    }
    return job == null ? null : new Demand(job, false);
  }

  /**
   * Moves each running job victim to {@code preempting} in a new epoch, its attempt refunded, and
   * orders its worker to stop it; it is re-queued when the stop is acknowledged.
   */
  private void preemptJobs(List<String> ids, String reason, OffsetDateTime now) {
    if (ids.isEmpty()) {
      return;
    }
    record Row(String id, int attempt, int epoch, String worker, String incarnation) {}
    List<Row> rows =
        db.resultQuery(
                "select id, attempt, epoch, worker_id, worker_incarnation from jobs "
                    + "where id = any(?::varchar[]) and status = 'running' order by id for update",
                (Object) ids.toArray(String[]::new))
            .fetch(
                r ->
                    new Row(
                        r.get(0, String.class),
                        r.get(1, Integer.class),
                        r.get(2, Integer.class),
                        r.get(3, String.class),
                        r.get(4, String.class)));
    List<Move> moves = new ArrayList<>();
    for (Row r : rows) {
      moves.add(Move.at(r.id(), r.attempt()).because(reason).free(true).inEpoch(r.epoch() + 1));
    }
    List<JobTransitions.Moved> moved = transitions.apply(Transition.PREEMPT, moves, now).moved();
    Map<String, Row> byId = new java.util.HashMap<>();
    rows.forEach(r -> byId.put(r.id(), r));
    for (JobTransitions.Moved m : moved) {
      Row r = byId.get(m.jobId());
      stops.send(
          List.of(new StopOrders.Order(r.id(), r.attempt(), r.worker(), r.incarnation())),
          StopCause.PREEMPTED,
          reason,
          m.epoch(),
          now);
    }
    meters.counter("workron_preemptions_total", "victim", "job").increment(moved.size());
  }
}
