package io.workron.scheduler.gangs;

import io.micrometer.core.instrument.MeterRegistry;
import io.workron.scheduler.config.SchedulerProperties;
import io.workron.scheduler.core.AttemptVerdict;
import io.workron.scheduler.core.JobStatus;
import io.workron.scheduler.core.RetryPolicy;
import io.workron.scheduler.core.Transition;
import io.workron.scheduler.dispatch.StopOrders;
import io.workron.scheduler.lifecycle.JobTransitions;
import io.workron.scheduler.lifecycle.JobTransitions.Move;
import io.workron.scheduler.outbox.Outbox;
import io.workron.scheduler.outbox.OutboxMessage;
import io.workron.schemas.GangEvent;
import io.workron.schemas.MessageType;
import io.workron.schemas.StopCause;
import io.workron.schemas.Topics;
import io.workron.schemas.WireCodec;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.random.RandomGenerator;
import org.jooq.DSLContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * Coordinated drains of gangs. When a task of a running gang fails, times out or loses its worker
 * (or the gang's reservation is not taken up in time, or higher-priority work preempts it), a drain
 * round begins: the gang's epoch grows by one, every sibling still running is moved to {@code
 * preempting} and ordered stopped with that epoch, and the task that caused it, as well as tasks
 * whose worker is lost, count as drained at once. The round ends as soon as every ordered sibling
 * has acknowledged (its result for that attempt came back) or was forced after {@code
 * drain-force-timeout}: the gang then waits for admission again, or fails when a task has used its
 * last attempt or already ended. Siblings get their attempt refunded; the task that caused the
 * round keeps its failure, so repeated failures of one task converge to {@code failed}.
 *
 * <p>Runs inside the caller's transaction. Every caller locks the task rows of the whole gang first
 * ({@link #lockTasks}, in id order) and the gang row after them, so concurrent rounds, results and
 * take-backs of one gang cannot deadlock.
 */
@Component
public class GangDrains {

  private static final Logger log = LoggerFactory.getLogger(GangDrains.class);

  /** A gang task's row as locked. */
  public record Task(
      String id,
      String gangId,
      int index,
      JobStatus status,
      int attempt,
      int epoch,
      int counted,
      int maxRetries,
      String workerId,
      String incarnation,
      boolean workerLost,
      OffsetDateTime drainStartedAt,
      boolean cancelRequested) {}

  /**
   * The attempt that caused a round: it {@code ended} (a result) or was taken back (it may still
   * run, so it is ordered stopped too), and {@code counts} against {@code max_retries} unless it
   * was not the job's doing.
   */
  public record Trigger(
      String jobId,
      int attempt,
      String reason,
      boolean counts,
      Integer exitCode,
      OffsetDateTime startedAt,
      boolean ended) {}

  private final DSLContext db;
  private final JobTransitions transitions;
  private final StopOrders stops;
  private final Outbox outbox;
  private final WireCodec codec;
  private final Topics topics;
  private final MeterRegistry meters;
  private final RetryPolicy retryPolicy;
  private final RandomGenerator random;
  private final Duration settleDelay;
  private final io.workron.scheduler.dag.DependencyGraph graph;

  GangDrains(
      DSLContext db,
      JobTransitions transitions,
      StopOrders stops,
      Outbox outbox,
      WireCodec codec,
      Topics topics,
      MeterRegistry meters,
      SchedulerProperties properties,
      RandomGenerator random,
      io.workron.scheduler.dag.DependencyGraph graph) {
    this.graph = graph;
    this.db = db;
    this.transitions = transitions;
    this.stops = stops;
    this.outbox = outbox;
    this.codec = codec;
    this.topics = topics;
    this.meters = meters;
    this.retryPolicy = new RetryPolicy(properties.retryBackoffBase(), properties.retryBackoffMax());
    this.random = random;
    this.settleDelay = properties.requeueDelay();
    // on the scrape from the start, so that rates and alerts see a series before the first drain
    meters.counter("workron_gang_drain_stops_total");
    meters.counter("workron_gangs_preempted_total");
    meters.counter("workron_gang_preemptions_force_drained_total");
    meters.timer("workron_gang_preemption_drain_seconds");
  }

  /**
   * Locks, in id order, the rows of {@code jobIds} and of every task of their gangs, in one
   * statement, when any of them is a gang task; returns the gang tasks among them by id. When none
   * is, nothing is locked here (the caller locks its own rows as it always did).
   */
  public Map<String, Task> lockTasks(Collection<String> jobIds) {
    Map<String, Task> tasks = new LinkedHashMap<>();
    if (jobIds.isEmpty()) {
      return tasks;
    }
    String[] ids = jobIds.stream().distinct().sorted().toArray(String[]::new);
    // by primary key: most batches hold no gang task, and then nothing more is read here
    String[] gangs =
        db.resultQuery(
                "select distinct gang_id from jobs where id = any(?::varchar[]) and gang_id is not null",
                (Object) ids)
            .fetch(r -> r.get(0, String.class))
            .toArray(String[]::new);
    if (gangs.length == 0) {
      return tasks;
    }
    java.util.TreeSet<String> all = new java.util.TreeSet<>(java.util.Arrays.asList(ids));
    db.resultQuery("select id from jobs where gang_id = any(?::varchar[])", (Object) gangs)
        .forEach(r -> all.add(r.get(0, String.class)));
    db.resultQuery(
            "select j.id, j.gang_id, j.gang_index, j.status, j.attempt, j.epoch, "
                + "j.attempt - j.budget_start_attempt - j.free_attempts, j.max_retries, "
                + "j.worker_id, j.worker_incarnation, "
                + "(w.id is null or w.status = 'offline' or w.incarnation <> j.worker_incarnation), "
                + "j.drain_started_at, j.cancel_requested_at is not null "
                + "from jobs j left join workers w on w.id = j.worker_id "
                + "where j.id = any(?::varchar[]) order by j.id for update of j",
            (Object) all.toArray(String[]::new))
        .forEach(
            r -> {
              String gang = r.get(1, String.class);
              if (gang != null) {
                Task t =
                    new Task(
                        r.get(0, String.class),
                        gang,
                        r.get(2, Integer.class),
                        JobStatus.fromWire(r.get(3, String.class)),
                        r.get(4, Integer.class),
                        r.get(5, Integer.class),
                        r.get(6, Integer.class),
                        r.get(7, Integer.class),
                        r.get(8, String.class),
                        r.get(9, String.class),
                        Boolean.TRUE.equals(r.get(10, Boolean.class)),
                        r.get(11, OffsetDateTime.class),
                        Boolean.TRUE.equals(r.get(12, Boolean.class)));
                tasks.put(t.id(), t);
              }
            });
    return tasks;
  }

  /** The tasks of {@code gangId} among {@code locked}, in index order. */
  static List<Task> tasksOf(String gangId, Map<String, Task> locked) {
    return locked.values().stream()
        .filter(t -> t.gangId().equals(gangId))
        .sorted(java.util.Comparator.comparingInt(Task::index))
        .toList();
  }

  /**
   * Begins a drain round of {@code gangId} (its tasks locked in {@code locked}). {@code triggers}
   * are the attempts that caused it (empty: the gang as a whole is stopped, every attempt
   * refunded). A trigger that is no longer its task's current running or reserved attempt is stale
   * and changes nothing. Returns the new epoch, or 0 when no round began (nothing ran).
   */
  public int begin(
      String gangId,
      List<Trigger> triggers,
      String reason,
      Map<String, Task> locked,
      OffsetDateTime now) {
    List<Task> tasks = tasksOf(gangId, locked);
    Map<String, Trigger> byJob = new LinkedHashMap<>();
    for (Trigger t : triggers) {
      Task task = locked.get(t.jobId());
      if (task != null && task.attempt() == t.attempt() && holdsAttempt(task.status())) {
        byJob.putIfAbsent(t.jobId(), t);
      }
    }
    if (!triggers.isEmpty() && byJob.isEmpty()) {
      return 0;
    }
    if (tasks.stream().noneMatch(t -> holdsAttempt(t.status()))) {
      return 0;
    }
    int epoch =
        db.resultQuery("update gangs set epoch = epoch + 1 where id = ? returning epoch", gangId)
            .fetchOne(r -> r.get(0, Integer.class));
    List<Move> atOnce = new ArrayList<>();
    List<Move> ordered = new ArrayList<>();
    List<StopOrders.Order> orders = new ArrayList<>();
    List<String> drainedAtOnce = new ArrayList<>();
    for (Task t : tasks) {
      if (!holdsAttempt(t.status())) {
        continue;
      }
      Trigger trigger = byJob.get(t.id());
      if (trigger != null) {
        atOnce.add(
            Move.at(t.id(), t.attempt())
                .because(trigger.reason())
                .ran(trigger.exitCode(), trigger.startedAt(), null)
                .free(!trigger.counts())
                .inEpoch(epoch));
        drainedAtOnce.add(t.id() + " (" + trigger.reason() + ")");
        if (!trigger.ended()) {
          // taken back, not reported: it may still run where it was
          orders.add(new StopOrders.Order(t.id(), t.attempt(), t.workerId(), t.incarnation()));
        }
      } else if (t.workerLost()) {
        atOnce.add(
            Move.at(t.id(), t.attempt())
                .because("drained at once: its worker " + t.workerId() + " is lost")
                .free(true)
                .inEpoch(epoch));
        drainedAtOnce.add(t.id() + " (worker " + t.workerId() + " lost)");
      } else if (t.status() == JobStatus.RESERVED) {
        // its worker never listed it: nothing to wait for, but it may still start, so it is
        // ordered stopped as well
        atOnce.add(
            Move.at(t.id(), t.attempt())
                .because("drained at once: reserved, not started")
                .free(true)
                .inEpoch(epoch));
        orders.add(new StopOrders.Order(t.id(), t.attempt(), t.workerId(), t.incarnation()));
        drainedAtOnce.add(t.id() + " (reserved, not started)");
      } else {
        ordered.add(
            Move.at(t.id(), t.attempt())
                .because("drain round " + epoch + ": " + reason)
                .free(true)
                .inEpoch(epoch));
        orders.add(new StopOrders.Order(t.id(), t.attempt(), t.workerId(), t.incarnation()));
      }
    }
    List<JobTransitions.Moved> drained =
        transitions.apply(Transition.DRAIN_AT_ONCE, atOnce, now).moved();
    // the history of attempts nobody will report (their caller records the triggers')
    closeAttempts(
        drained.stream().filter(m -> !byJob.containsKey(m.jobId())).toList(), "drained", now);
    int preempting = transitions.apply(Transition.PREEMPT, ordered, now).moved().size();
    meters.counter("workron_gang_drain_stops_total").increment(orders.size());
    stops.send(orders, StopCause.PREEMPTED, "drain round " + epoch + ": " + reason, epoch, now);
    String triggerJob = byJob.isEmpty() ? null : byJob.keySet().iterator().next();
    db.execute(
        "insert into gang_drains (gang_id, epoch, trigger_job, reason, started_at, ordered) "
            + "values (?, ?, ?, ?, ?::timestamptz, ?)",
        gangId,
        epoch,
        triggerJob,
        reason,
        now,
        preempting);
    meters.counter("workron_gangs_preempted_total").increment();
    log.info(
        "gang drain started gang_id={} epoch={} trigger={} reason=\"{}\" ordered_stopped={} drained_at_once={}",
        gangId,
        epoch,
        triggerJob,
        reason,
        orders.stream().map(o -> o.jobId() + "@" + o.workerId()).toList(),
        drainedAtOnce);
    event(
        new GangEvent(
            gangId,
            GangEvent.Kind.DRAIN_STARTED,
            epoch,
            tasks.size(),
            null,
            triggerJob,
            reason,
            null,
            null,
            null),
        now);
    completeIfDrained(gangId, now);
    return epoch;
  }

  /**
   * Applies the acknowledgements of tasks in a drain round: each {@code (job, attempt, epoch)}
   * whose job is still preempting in that round is drained; anything else is stale. Returns the job
   * ids acknowledged.
   */
  public List<String> acknowledge(List<Move> acks, OffsetDateTime now) {
    JobTransitions.Applied a = transitions.apply(Transition.ACK_PREEMPT, acks, now);
    Map<String, Integer> perGang = new LinkedHashMap<>();
    for (JobTransitions.Moved m : a.moved()) {
      perGang.merge(m.gangId(), 1, Integer::sum);
      log.atInfo()
          .addKeyValue("job_id", m.jobId())
          .addKeyValue("attempt", m.attempt())
          .addKeyValue("worker_id", m.workerId())
          .log(
              "gang drain ack gang_id={} epoch={} job_id={} attempt={} worker_id={}",
              m.gangId(),
              m.epoch(),
              m.jobId(),
              m.attempt(),
              m.workerId());
    }
    for (JobTransitions.Refusal r : a.refused()) {
      meters.counter("workron_stale_messages_total", "kind", "preempt_ack").increment();
      log.info("ignored stale drain acknowledgement: {}", r.detail());
    }
    perGang.forEach(
        (gang, n) -> {
          db.execute(
              "update gang_drains set acks = acks + ? where gang_id = ? "
                  + "and epoch = (select epoch from gangs where id = ?)",
              n,
              gang,
              gang);
          completeIfDrained(gang, now);
        });
    return a.movedIds();
  }

  /**
   * Applies the acknowledgements of single jobs preempted for higher-priority work (as {@link
   * #acknowledge}, fenced by attempt and epoch) and puts them back in the queue. Returns the job
   * ids.
   */
  public List<String> requeuePreempted(List<Move> acks, OffsetDateTime now) {
    if (acks.isEmpty()) {
      return List.of();
    }
    JobTransitions.Applied a = transitions.apply(Transition.ACK_PREEMPT, acks, now);
    for (JobTransitions.Refusal r : a.refused()) {
      meters.counter("workron_stale_messages_total", "kind", "preempt_ack").increment();
      log.info("ignored stale preemption acknowledgement: {}", r.detail());
    }
    List<String> ids = a.movedIds();
    transitions.apply(Transition.REQUEUE_PREEMPTED, ids.stream().map(Move::of).toList(), now);
    for (JobTransitions.Moved m : a.moved()) {
      log.atInfo()
          .addKeyValue("job_id", m.jobId())
          .addKeyValue("attempt", m.attempt())
          .addKeyValue("worker_id", m.workerId())
          .log(
              "preempted job drained job_id={} attempt={} epoch={} worker_id={}; queued again",
              m.jobId(),
              m.attempt(),
              m.epoch(),
              m.workerId());
    }
    return ids;
  }

  /**
   * Drains without acknowledgement the preempting tasks of {@code locked} whose worker is lost, or
   * (with {@code overdueBefore}) whose round began before it; returns how many.
   */
  public int force(Collection<Task> candidates, String why, OffsetDateTime now) {
    List<Move> forced = new ArrayList<>();
    for (Task t : candidates) {
      if (t.status() == JobStatus.PREEMPTING) {
        forced.add(Move.at(t.id(), t.attempt()).because(why));
      }
    }
    List<JobTransitions.Moved> moved =
        transitions.apply(Transition.FORCE_DRAIN, forced, now).moved();
    Map<String, Integer> perGang = new LinkedHashMap<>();
    for (JobTransitions.Moved m : moved) {
      perGang.merge(m.gangId(), 1, Integer::sum);
      log.atWarn()
          .addKeyValue("job_id", m.jobId())
          .addKeyValue("attempt", m.attempt())
          .addKeyValue("worker_id", m.workerId())
          .log(
              "gang drain forced gang_id={} epoch={} job_id={} worker_id={}: {}",
              m.gangId(),
              m.epoch(),
              m.jobId(),
              m.workerId(),
              why);
    }
    closeAttempts(moved, "drain_forced", now);
    meters.counter("workron_gang_preemptions_force_drained_total").increment(moved.size());
    perGang.forEach(
        (gang, n) -> {
          db.execute(
              "update gang_drains set forced = forced + ? where gang_id = ? "
                  + "and epoch = (select epoch from gangs where id = ?)",
              n,
              gang,
              gang);
          completeIfDrained(gang, now);
        });
    return moved.size();
  }

  /**
   * Preempting tasks whose round began more than {@code timeout} ago, whatever their worker:
   * drained without their acknowledgement. Returns how many.
   */
  public int forceOverdue(Duration timeout, OffsetDateTime now) {
    List<String> overdue =
        db.resultQuery(
                "select id from jobs where status = 'preempting' and drain_started_at < ?::timestamptz",
                now.minus(timeout))
            .fetch(r -> r.get(0, String.class));
    if (overdue.isEmpty()) {
      return 0;
    }
    Map<String, Task> locked = lockTasks(overdue);
    // single jobs preempted for priority: drained without their acknowledgement, queued again
    List<Move> singles =
        overdue.stream()
            .filter(id -> !locked.containsKey(id))
            .map(
                id ->
                    db.resultQuery(
                            "select attempt from jobs where id = ? and status = 'preempting' "
                                + "and drain_started_at < ?::timestamptz",
                            id,
                            now.minus(timeout))
                        .fetchOptional(
                            r ->
                                Move.at(id, r.get(0, Integer.class))
                                    .because("no acknowledgement within " + timeout)))
            .flatMap(java.util.Optional::stream)
            .toList();
    List<String> forcedSingles = transitions.apply(Transition.FORCE_DRAIN, singles, now).movedIds();
    transitions.apply(
        Transition.REQUEUE_PREEMPTED, forcedSingles.stream().map(Move::of).toList(), now);
    List<Task> still =
        locked.values().stream()
            .filter(t -> t.status() == JobStatus.PREEMPTING)
            .filter(
                t -> t.drainStartedAt() != null && t.drainStartedAt().isBefore(now.minus(timeout)))
            .toList();
    return forcedSingles.size() + force(still, "no acknowledgement within " + timeout, now);
  }

  /**
   * Ends the current round of {@code gangId} if no task is still running, reserved or preempting:
   * the drained tasks wait for admission again, or all fail when one used its last attempt or a
   * task already ended (a gang restarts all of its tasks or none).
   */
  void completeIfDrained(String gangId, OffsetDateTime now) {
    record Row(
        String id,
        JobStatus status,
        int counted,
        int maxRetries,
        String reason,
        Integer gangEpoch) {}
    List<Row> rows =
        db.resultQuery(
                "select j.id, j.status, j.attempt - j.budget_start_attempt - j.free_attempts, "
                    + "j.max_retries, j.failure_reason, g.epoch from jobs j join gangs g on g.id = j.gang_id "
                    + "where j.gang_id = ? order by j.gang_index",
                gangId)
            .fetch(
                r ->
                    new Row(
                        r.get(0, String.class),
                        JobStatus.fromWire(r.get(1, String.class)),
                        r.get(2, Integer.class),
                        r.get(3, Integer.class),
                        r.get(4, String.class),
                        r.get(5, Integer.class)));
    if (rows.isEmpty()
        || rows.stream()
            .anyMatch(r -> holdsAttempt(r.status()) || r.status() == JobStatus.PREEMPTING)
        || rows.stream().noneMatch(r -> r.status() == JobStatus.PREEMPTED)) {
      return;
    }
    int epoch = rows.get(0).gangEpoch();
    String failure = null;
    int mostCounted = 0;
    for (Row r : rows) {
      mostCounted = Math.max(mostCounted, r.counted());
      if (r.status().isTerminal()) {
        failure =
            "task "
                + r.id()
                + " already "
                + r.status().wire()
                + ": a gang restarts all its tasks or none";
        break;
      }
      if (AttemptVerdict.attemptsUsedUp(r.counted(), r.maxRetries())) {
        failure =
            "task "
                + r.id()
                + " used its last attempt ("
                + r.counted()
                + " of "
                + r.maxRetries()
                + ")"
                + (r.reason() == null ? "" : ": " + r.reason());
        break;
      }
    }
    List<Move> moves = new ArrayList<>();
    for (Row r : rows) {
      if (r.status() == JobStatus.PREEMPTED || r.status() == JobStatus.BLOCKED) {
        moves.add(Move.of(r.id()).because(failure == null ? null : "gang failed: " + failure));
      }
    }
    String outcome;
    OffsetDateTime runAt = now;
    if (failure != null) {
      // jobs that depend on one of its tasks will not run either
      graph.cancelDownstreamOf(transitions.apply(Transition.FAIL_GANG, moves, now).movedIds());
      outcome = "failed";
    } else {
      // after a failure, the gang backs off like a retried job; a round nobody caused waits only
      // for late results to settle
      Duration delay = mostCounted > 0 ? retryPolicy.delayAfter(mostCounted, random) : settleDelay;
      runAt = now.plus(delay);
      OffsetDateTime at = runAt;
      transitions.apply(
          Transition.REQUEUE_GANG, moves.stream().map(m -> m.runAt(at)).toList(), now);
      outcome = "blocked";
    }
    record Drain(OffsetDateTime startedAt, String trigger, String reason, int acks) {}
    Drain d =
        db.resultQuery(
                "update gang_drains set ended_at = ?::timestamptz, outcome = ? "
                    + "where gang_id = ? and epoch = ? and ended_at is null "
                    + "returning started_at, trigger_job, reason, acks",
                now,
                outcome,
                gangId,
                epoch)
            .fetchOptional(
                r ->
                    new Drain(
                        r.get(0, OffsetDateTime.class),
                        r.get(1, String.class),
                        r.get(2, String.class),
                        r.get(3, Integer.class)))
            .orElse(null);
    db.execute(
        "update gangs set run_at = ?::timestamptz, waiting_since = ?::timestamptz, "
            + "wait_reason = ?, finished_at = case when ? then ?::timestamptz end where id = ?",
        runAt,
        now,
        failure == null ? "waiting to run again after drain round " + epoch : null,
        failure != null,
        now,
        gangId);
    long drainMs = d == null ? 0 : Math.max(0, Duration.between(d.startedAt(), now).toMillis());
    meters.counter("workron_gang_preemptions_completed_total", "outcome", outcome).increment();
    meters.timer("workron_gang_preemption_drain_seconds").record(Duration.ofMillis(drainMs));
    log.info(
        "gang drain ended gang_id={} epoch={} outcome={} acks={} duration_ms={}{}",
        gangId,
        epoch,
        outcome,
        d == null ? 0 : d.acks(),
        drainMs,
        failure == null ? "" : " reason=\"" + failure + "\"");
    event(
        new GangEvent(
            gangId,
            GangEvent.Kind.DRAIN_ENDED,
            epoch,
            rows.size(),
            null,
            d == null ? null : d.trigger(),
            failure != null ? failure : d == null ? null : d.reason(),
            outcome,
            d == null ? null : d.acks(),
            drainMs),
        now);
  }

  /** Ends the history rows of attempts that ended without a result, with why. */
  private void closeAttempts(List<JobTransitions.Moved> moved, String outcome, OffsetDateTime now) {
    if (moved.isEmpty()) {
      return;
    }
    db.execute(
        "update job_attempts a set finished_at = ?::timestamptz, outcome = ?, reason = v.reason "
            + "from unnest(?::varchar[], ?::int[], ?::text[]) as v(job_id, attempt, reason) "
            + "where a.job_id = v.job_id and a.attempt = v.attempt and a.finished_at is null",
        now,
        outcome,
        moved.stream().map(JobTransitions.Moved::jobId).toArray(String[]::new),
        moved.stream().map(JobTransitions.Moved::attempt).toArray(Integer[]::new),
        moved.stream().map(JobTransitions.Moved::reason).toArray(String[]::new));
  }

  /** Writes a {@code gang.event.v1} to the outbox. */
  void event(GangEvent e, OffsetDateTime now) {
    String id =
        "gang-event-"
            + e.gangId()
            + "-"
            + e.epoch()
            + "-"
            + e.event().name().toLowerCase(java.util.Locale.ROOT);
    outbox.addAll(
        List.of(
            new OutboxMessage(
                topics.jobEvents(),
                e.gangId(),
                codec.encode(WireCodec.envelope(MessageType.GANG_EVENT, id, now.toInstant(), e)),
                null)));
  }

  /** Cancels what depends on these jobs (failed gang tasks), naming them. */
  void cancelDownstreamOf(List<String> failed) {
    graph.cancelDownstreamOf(failed);
  }

  /** A task in one of these statuses holds an attempt on a worker that a round must end. */
  static boolean holdsAttempt(JobStatus s) {
    return s == JobStatus.RUNNING || s == JobStatus.RESERVED;
  }
}
