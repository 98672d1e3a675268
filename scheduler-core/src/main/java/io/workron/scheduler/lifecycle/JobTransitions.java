package io.workron.scheduler.lifecycle;

import static io.workron.scheduler.db.Tables.JOBS;

import io.workron.scheduler.core.JobStatus;
import io.workron.scheduler.core.Transition;
import io.workron.scheduler.db.tables.records.JobsRecord;
import io.workron.scheduler.outbox.JobEvents;
import io.workron.scheduler.outbox.Outbox;
import io.workron.scheduler.outbox.OutboxMessage;
import io.workron.schemas.JobEvent;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jooq.DSLContext;
import org.jooq.Field;
import org.jooq.Record;
import org.jooq.Record5;
import org.jooq.Row12;
import org.jooq.Table;
import org.jooq.UpdateSetMoreStep;
import org.jooq.impl.DSL;
import org.jooq.impl.SQLDataType;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.stereotype.Repository;

/**
 * The one writer of {@code jobs.status}. Applies each {@link Transition} as two statements: the
 * rows are locked in id order ({@code SELECT … FOR UPDATE}), those in one of the transition's
 * from-statuses (at the attempt and epoch the move names, when fenced) are kept, and one {@code
 * UPDATE jobs … FROM (VALUES …) WHERE id = v.id RETURNING …} moves them. It writes the lifecycle
 * event of every row it changed (built from the returned row, never from an earlier read) to the
 * outbox, and announces the change for after the commit ({@link JobsMoved}). Runs inside the
 * caller's transaction.
 *
 * <p>A job that is not in one of the transition's from-statuses, or is at another attempt than the
 * move names, is left alone and reported as {@link Refusal refused}, with why.
 */
@Repository
public class JobTransitions {

  /**
   * One job to move, with the values the transition writes. Only what a transition uses is read
   * (see {@link JobTransitions}); everything else may stay null.
   *
   * @param attempt the attempt the move is about; required by {@link Transition.Fence#ATTEMPT}
   * @param reason why, kept as the job's {@code failure_reason} (failures, retries, take-backs,
   *     cancellations)
   * @param runAt when a job queued again may run (retry, requeue)
   * @param exitCode and the times below: what the worker reported (finish, fail, retry)
   * @param workerId and incarnation: where a claimed job runs
   * @param free whether a take-back does not count against {@code max_retries}
   * @param upstream the failed or cancelled job upstream a job is cancelled for
   * @param epoch the drain round a gang move belongs to (reserve, preempt, acknowledge)
   */
  public record Move(
      String jobId,
      Integer attempt,
      String reason,
      OffsetDateTime runAt,
      Integer exitCode,
      OffsetDateTime startedAt,
      OffsetDateTime finishedAt,
      String workerId,
      String incarnation,
      boolean free,
      String upstream,
      Integer epoch) {

    public static Move of(String jobId) {
      return new Move(jobId, null, null, null, null, null, null, null, null, false, null, null);
    }

    public static Move at(String jobId, int attempt) {
      return new Move(jobId, attempt, null, null, null, null, null, null, null, false, null, null);
    }

    public Move because(String why) {
      return new Move(
          jobId,
          attempt,
          why,
          runAt,
          exitCode,
          startedAt,
          finishedAt,
          workerId,
          incarnation,
          free,
          upstream,
          epoch);
    }

    public Move runAt(OffsetDateTime at) {
      return new Move(
          jobId,
          attempt,
          reason,
          at,
          exitCode,
          startedAt,
          finishedAt,
          workerId,
          incarnation,
          free,
          upstream,
          epoch);
    }

    public Move ran(Integer exit, OffsetDateTime started, OffsetDateTime finished) {
      return new Move(
          jobId,
          attempt,
          reason,
          runAt,
          exit,
          started,
          finished,
          workerId,
          incarnation,
          free,
          upstream,
          epoch);
    }

    /** The job upstream that this job is cancelled for. */
    public Move after(String upstreamJob) {
      return new Move(
          jobId,
          attempt,
          reason,
          runAt,
          exitCode,
          startedAt,
          finishedAt,
          workerId,
          incarnation,
          free,
          upstreamJob,
          epoch);
    }

    public Move on(String worker, String workerIncarnation) {
      return new Move(
          jobId,
          attempt,
          reason,
          runAt,
          exitCode,
          startedAt,
          finishedAt,
          worker,
          workerIncarnation,
          free,
          upstream,
          epoch);
    }

    public Move free(boolean isFree) {
      return new Move(
          jobId,
          attempt,
          reason,
          runAt,
          exitCode,
          startedAt,
          finishedAt,
          workerId,
          incarnation,
          isFree,
          upstream,
          epoch);
    }

    /** The drain round (gang epoch) the move belongs to or starts. */
    public Move inEpoch(int round) {
      return new Move(
          jobId,
          attempt,
          reason,
          runAt,
          exitCode,
          startedAt,
          finishedAt,
          workerId,
          incarnation,
          free,
          upstream,
          round);
    }
  }

  /** A job that moved, as the statement returned it. */
  public record Moved(
      String jobId,
      int attempt,
      JobStatus status,
      String reason,
      String queueName,
      String workerId,
      String incarnation,
      String command,
      long vramMb,
      long memoryMb,
      Integer exitCode,
      OffsetDateTime createdAt,
      OffsetDateTime dispatchedAt,
      OffsetDateTime startedAt,
      OffsetDateTime finishedAt,
      Integer timeoutSeconds,
      String gangId,
      Integer gangIndex,
      int epoch,
      boolean hasCheckpoint) {}

  /** A move that changed nothing, and why. */
  public record Refusal(String jobId, Why why, String detail) {}

  /** Why a move changed nothing. */
  public enum Why {
    /** No job has that id. */
    UNKNOWN_JOB,
    /** The job is in a status the transition does not start from. */
    WRONG_STATUS,
    /** The job is at another attempt than the move names: the move is about the past. */
    STALE_ATTEMPT,
    /** The job is in another drain round than the move names: the move is about the past. */
    STALE_EPOCH
  }

  /** What {@link #apply} did. */
  public record Applied(List<Moved> moved, List<Refusal> refused) {
    public List<String> movedIds() {
      return moved.stream().map(Moved::jobId).toList();
    }
  }

  /**
   * Published inside the transaction for every statement that moved jobs; listeners act on it after
   * the commit (the dispatch loop looks again when work was queued or a slot freed).
   */
  public record JobsMoved(Transition transition, List<Moved> moved) {
    public int count() {
      return moved.size();
    }
  }

  private final DSLContext db;
  private final JobEvents events;
  private final Outbox outbox;
  private final ApplicationEventPublisher publisher;

  public JobTransitions(
      DSLContext db, JobEvents events, Outbox outbox, ApplicationEventPublisher publisher) {
    this.db = db;
    this.events = events;
    this.outbox = outbox;
    this.publisher = publisher;
  }

  /** Moves each job in {@code reasons} (job id to the reason recorded with it). */
  public Applied apply(Transition t, Map<String, String> reasons, OffsetDateTime now) {
    List<Move> moves = new ArrayList<>(reasons.size());
    reasons.forEach((id, why) -> moves.add(Move.of(id).because(why)));
    return apply(t, moves, now);
  }

  /**
   * Moves each job of {@code moves} that is where {@code t} starts from: one locking statement, one
   * update.
   */
  public Applied apply(Transition t, Collection<Move> moves, OffsetDateTime now) {
    return apply(t, moves, now, false);
  }

  /**
   * As {@link #apply(Transition, Collection, OffsetDateTime)} for jobs whose rows the caller has
   * locked in this transaction and read in a status {@code t} starts from, with no fence to check
   * (the dispatch round's claim): the update alone, without the locking statement, which would only
   * read again what the caller's lock holds still.
   */
  public Applied applyToLocked(Transition t, Collection<Move> moves, OffsetDateTime now) {
    if (t.fence() != Transition.Fence.NONE) {
      throw new IllegalArgumentException(t + " is fenced: its rows must be judged under the lock");
    }
    return apply(t, moves, now, true);
  }

  @SuppressWarnings("unchecked")
  private Applied apply(
      Transition t, Collection<Move> moves, OffsetDateTime now, boolean lockedByCaller) {
    if (moves.isEmpty()) {
      return new Applied(List.of(), List.of());
    }
    Map<String, Move> byId = new LinkedHashMap<>();
    for (Move m : moves) {
      if (t.fence() != Transition.Fence.NONE && m.attempt() == null) {
        throw new IllegalArgumentException(t + " needs the attempt of job " + m.jobId());
      }
      if (t.fence() == Transition.Fence.EPOCH && m.epoch() == null) {
        throw new IllegalArgumentException(t + " needs the epoch of job " + m.jobId());
      }
      byId.putIfAbsent(m.jobId(), m);
    }
    Map<String, Move> requested = new LinkedHashMap<>(byId);
    // Rows locked in id order, as everywhere, so concurrent transactions cannot deadlock. Whether
    // a job is where the transition starts (and at the attempt and epoch it names) is judged here,
    // on the locked rows, which nothing else can change until this transaction ends: the update
    // below then joins on the primary key alone. A status predicate in the update let the planner
    // walk every job of that status when its statistics were stale (a backlog that arrived since
    // the last analyze looks empty), 40-170 ms a statement in a burn-down.
    if (!lockedByCaller) {
      String[] ids = byId.keySet().stream().sorted().toArray(String[]::new);
      Set<String> eligible = new HashSet<>();
      db.select(JOBS.ID, JOBS.STATUS, JOBS.ATTEMPT, JOBS.EPOCH, JOBS.BUDGET_START_ATTEMPT)
          .from(JOBS)
          .where(JOBS.ID.eq(DSL.any(ids)))
          .orderBy(JOBS.ID)
          .forUpdate()
          .forEach(
              r -> {
                if (startsHere(t, byId.get(r.value1()), r)) {
                  eligible.add(r.value1());
                }
              });
      byId.keySet().retainAll(eligible);
    }

    if (byId.isEmpty()) {
      return new Applied(List.of(), refusals(t, requested, List.of()));
    }
    List<
            Row12<
                String,
                Integer,
                String,
                OffsetDateTime,
                Integer,
                OffsetDateTime,
                OffsetDateTime,
                String,
                String,
                Integer,
                String,
                Integer>>
        rows = new ArrayList<>(byId.size());
    for (Move m : byId.values()) {
      rows.add(
          DSL.row(
              DSL.cast(DSL.val(m.jobId()), SQLDataType.VARCHAR),
              DSL.cast(DSL.val(m.attempt()), SQLDataType.INTEGER),
              DSL.cast(DSL.val(withoutNul(m.reason())), SQLDataType.CLOB),
              DSL.cast(DSL.val(m.runAt()), SQLDataType.TIMESTAMPWITHTIMEZONE),
              DSL.cast(DSL.val(m.exitCode()), SQLDataType.INTEGER),
              DSL.cast(DSL.val(m.startedAt()), SQLDataType.TIMESTAMPWITHTIMEZONE),
              DSL.cast(DSL.val(m.finishedAt()), SQLDataType.TIMESTAMPWITHTIMEZONE),
              DSL.cast(DSL.val(m.workerId()), SQLDataType.VARCHAR),
              DSL.cast(DSL.val(m.incarnation()), SQLDataType.VARCHAR),
              DSL.cast(DSL.val(m.free() ? 1 : 0), SQLDataType.INTEGER),
              DSL.cast(DSL.val(m.upstream()), SQLDataType.VARCHAR),
              DSL.cast(DSL.val(m.epoch()), SQLDataType.INTEGER)));
    }
    Table<?> v =
        DSL.values(rows.toArray(Row12[]::new))
            .as(
                "v",
                "id",
                "attempt",
                "reason",
                "run_at",
                "exit_code",
                "started_at",
                "finished_at",
                "worker_id",
                "incarnation",
                "free",
                "upstream",
                "epoch");
    Values values = new Values(v);
    List<Moved> moved =
        changes(t, db.update(JOBS).set(JOBS.STATUS, t.to().wire()), values, now)
            .from(v)
            .where(JOBS.ID.eq(values.id))
            .returning(
                JOBS.ID,
                JOBS.ATTEMPT,
                JOBS.STATUS,
                JOBS.FAILURE_REASON,
                JOBS.QUEUE_NAME,
                JOBS.WORKER_ID,
                JOBS.WORKER_INCARNATION,
                JOBS.COMMAND,
                JOBS.VRAM_MB,
                JOBS.MEMORY_MB,
                JOBS.EXIT_CODE,
                JOBS.CREATED_AT,
                JOBS.DISPATCHED_AT,
                JOBS.STARTED_AT,
                JOBS.FINISHED_AT,
                JOBS.TIMEOUT_SECONDS,
                JOBS.GANG_ID,
                JOBS.GANG_INDEX,
                JOBS.EPOCH,
                JOBS.HAS_CHECKPOINT)
            .fetch(JobTransitions::moved);
    List<Refusal> refused = refusals(t, requested, moved);
    if (!moved.isEmpty()) {
      List<OutboxMessage> announced = new ArrayList<>(moved.size());
      for (Moved m : moved) {
        announced.add(events.of(event(m, byId.get(m.jobId())), null));
      }
      outbox.addAll(announced);
      publisher.publishEvent(new JobsMoved(t, moved));
    }
    return new Applied(moved, refused);
  }

  /**
   * What each transition writes besides the status. The only place that knows which columns a
   * status change touches.
   */
  private static UpdateSetMoreStep<JobsRecord> changes(
      Transition t, UpdateSetMoreStep<JobsRecord> u, Values v, OffsetDateTime now) {
    Field<OffsetDateTime> nowField = DSL.val(now);
    return switch (t) {
      case CLAIM ->
          u.set(JOBS.ATTEMPT, JOBS.ATTEMPT.plus(1))
              .set(JOBS.WORKER_ID, v.workerId)
              .set(JOBS.WORKER_INCARNATION, v.incarnation)
              .set(JOBS.DISPATCHED_AT, nowField)
              .setNull(JOBS.STARTED_AT)
              .setNull(JOBS.LAST_HEARTBEAT_AT)
              .setNull(JOBS.EXIT_CODE)
              .setNull(JOBS.WAIT_REASON)
              .setNull(JOBS.UNSCHEDULABLE_SINCE)
              .setNull(JOBS.DISPATCH_PUBLISHED_AT);
      case FINISH ->
          u.set(JOBS.STARTED_AT, v.startedAt)
              .set(JOBS.FINISHED_AT, DSL.coalesce(v.finishedAt, nowField))
              .set(JOBS.EXIT_CODE, v.exitCode)
              .setNull(JOBS.FAILURE_REASON);
      case FAIL ->
          u.set(JOBS.STARTED_AT, v.startedAt)
              .set(JOBS.FINISHED_AT, DSL.coalesce(v.finishedAt, nowField))
              .set(JOBS.EXIT_CODE, v.exitCode)
              .set(JOBS.FAILURE_REASON, v.reason);
      case RETRY ->
          u.set(JOBS.RUN_AT, DSL.coalesce(v.runAt, nowField))
              .set(JOBS.STARTED_AT, v.startedAt)
              .set(JOBS.EXIT_CODE, v.exitCode)
              .set(JOBS.FAILURE_REASON, v.reason)
              .setNull(JOBS.WORKER_ID)
              .setNull(JOBS.WORKER_INCARNATION);
      case REQUEUE ->
          // attempt numbers only grow (they fence late messages); free_attempts records the
          // attempts that do not count against max_retries
          u.set(JOBS.RUN_AT, DSL.coalesce(v.runAt, nowField))
              .set(JOBS.FREE_ATTEMPTS, JOBS.FREE_ATTEMPTS.plus(v.free))
              .set(JOBS.FAILURE_REASON, v.reason)
              .setNull(JOBS.DRAIN_STARTED_AT)
              .setNull(JOBS.WORKER_ID)
              .setNull(JOBS.WORKER_INCARNATION)
              .setNull(JOBS.DISPATCH_PUBLISHED_AT);
      case GIVE_UP ->
          u.set(JOBS.FINISHED_AT, nowField)
              .set(JOBS.FAILURE_REASON, v.reason)
              .setNull(JOBS.WORKER_ID)
              .setNull(JOBS.WORKER_INCARNATION)
              .setNull(JOBS.DISPATCH_PUBLISHED_AT);
      // a job submitted to run later still waits for its time once its dependencies are done
      case RELEASE -> u.set(JOBS.RUN_AT, DSL.greatest(JOBS.RUN_AT, nowField));
      case CANCEL ->
          u.set(JOBS.FINISHED_AT, nowField)
              .set(JOBS.FAILURE_REASON, v.reason)
              .set(JOBS.CANCEL_REQUESTED_AT, DSL.coalesce(JOBS.CANCEL_REQUESTED_AT, nowField))
              .setNull(JOBS.WAIT_REASON)
              .setNull(JOBS.UNSCHEDULABLE_SINCE);
      case CANCEL_RUNNING ->
          u.set(JOBS.STARTED_AT, DSL.coalesce(v.startedAt, JOBS.STARTED_AT))
              .set(JOBS.FINISHED_AT, DSL.coalesce(v.finishedAt, nowField))
              .set(JOBS.EXIT_CODE, v.exitCode)
              .set(JOBS.FAILURE_REASON, v.reason);
      case CANCEL_UPSTREAM_FAILED ->
          u.set(JOBS.FINISHED_AT, nowField)
              .set(JOBS.FAILURE_REASON, v.reason)
              .set(JOBS.CANCELLED_UPSTREAM, v.upstream)
              .setNull(JOBS.WAIT_REASON)
              .setNull(JOBS.UNSCHEDULABLE_SINCE);
      case RETRY_BY_HAND, BLOCK ->
          // a fresh attempt budget: the attempts so far no longer count (their number keeps
          // growing, it is the fence), and nothing of how the job last ended stays
          u.set(JOBS.RUN_AT, nowField)
              .set(JOBS.BUDGET_START_ATTEMPT, JOBS.ATTEMPT)
              .set(JOBS.FREE_ATTEMPTS, 0)
              .setNull(JOBS.FINISHED_AT)
              .setNull(JOBS.STARTED_AT)
              .setNull(JOBS.EXIT_CODE)
              .setNull(JOBS.FAILURE_REASON)
              .setNull(JOBS.WAIT_REASON)
              .setNull(JOBS.UNSCHEDULABLE_SINCE)
              .setNull(JOBS.CANCEL_REQUESTED_AT)
              .setNull(JOBS.CANCEL_REASON)
              .setNull(JOBS.CANCELLED_UPSTREAM)
              .setNull(JOBS.WORKER_ID)
              .setNull(JOBS.WORKER_INCARNATION)
              .setNull(JOBS.DISPATCH_PUBLISHED_AT)
              .setNull(JOBS.LAST_HEARTBEAT_AT);
      case FAIL_UNSCHEDULABLE, CANCEL_UNMET_DEPENDENCY ->
          u.set(JOBS.FINISHED_AT, nowField)
              .set(JOBS.FAILURE_REASON, v.reason)
              .setNull(JOBS.WAIT_REASON)
              .setNull(JOBS.UNSCHEDULABLE_SINCE);
      case RESERVE ->
          u.set(JOBS.ATTEMPT, JOBS.ATTEMPT.plus(1))
              .set(JOBS.EPOCH, v.epoch)
              .set(JOBS.WORKER_ID, v.workerId)
              .set(JOBS.WORKER_INCARNATION, v.incarnation)
              .set(JOBS.RESERVED_AT, nowField)
              .set(JOBS.DISPATCHED_AT, nowField)
              .setNull(JOBS.STARTED_AT)
              .setNull(JOBS.LAST_HEARTBEAT_AT)
              .setNull(JOBS.EXIT_CODE)
              .setNull(JOBS.FAILURE_REASON)
              .setNull(JOBS.WAIT_REASON)
              .setNull(JOBS.UNSCHEDULABLE_SINCE)
              .setNull(JOBS.DISPATCH_PUBLISHED_AT);
      case START -> u.setNull(JOBS.RESERVED_AT);
      case PREEMPT, DRAIN_AT_ONCE ->
          // a refunded attempt (every sibling of the task that caused the round) does not count
          u.set(JOBS.EPOCH, v.epoch)
              .set(JOBS.DRAIN_STARTED_AT, nowField)
              .set(JOBS.FREE_ATTEMPTS, JOBS.FREE_ATTEMPTS.plus(v.free))
              .set(JOBS.FAILURE_REASON, v.reason)
              .set(JOBS.STARTED_AT, DSL.coalesce(v.startedAt, JOBS.STARTED_AT))
              .set(JOBS.EXIT_CODE, DSL.coalesce(v.exitCode, JOBS.EXIT_CODE));
      case ACK_PREEMPT, FORCE_DRAIN ->
          u.set(JOBS.STARTED_AT, DSL.coalesce(v.startedAt, JOBS.STARTED_AT))
              .set(JOBS.EXIT_CODE, DSL.coalesce(v.exitCode, JOBS.EXIT_CODE));
      case REQUEUE_PREEMPTED ->
          u.set(JOBS.RUN_AT, DSL.coalesce(v.runAt, nowField))
              .setNull(JOBS.WORKER_ID)
              .setNull(JOBS.WORKER_INCARNATION)
              .setNull(JOBS.DRAIN_STARTED_AT)
              .setNull(JOBS.DISPATCH_PUBLISHED_AT)
              .setNull(JOBS.LAST_HEARTBEAT_AT);
      case REQUEUE_GANG ->
          u.set(JOBS.RUN_AT, DSL.coalesce(v.runAt, nowField))
              .setNull(JOBS.WORKER_ID)
              .setNull(JOBS.WORKER_INCARNATION)
              .setNull(JOBS.RESERVED_AT)
              .setNull(JOBS.DRAIN_STARTED_AT)
              .setNull(JOBS.DISPATCH_PUBLISHED_AT)
              .setNull(JOBS.LAST_HEARTBEAT_AT);
      case FAIL_GANG ->
          u.set(JOBS.FINISHED_AT, nowField)
              .set(JOBS.FAILURE_REASON, v.reason)
              .setNull(JOBS.RESERVED_AT)
              .setNull(JOBS.DRAIN_STARTED_AT)
              .setNull(JOBS.WAIT_REASON)
              .setNull(JOBS.UNSCHEDULABLE_SINCE);
    };
  }

  /**
   * Whether the locked row {@code r} (id, status, attempt, epoch, budget start) is where {@code t}
   * starts from, at the attempt and epoch {@code m} names when {@code t} is fenced by them.
   */
  private static boolean startsHere(
      Transition t, Move m, Record5<String, String, Integer, Integer, Integer> r) {
    JobStatus status = JobStatus.fromWire(r.value2());
    if (m == null || !t.from().contains(status)) {
      return false;
    }
    int attempt = r.value3();
    return switch (t.fence()) {
      case NONE -> true;
      // a pending job's attempt may be one taken back, whose late result still counts, unless the
      // job was retried by hand since: that attempt belongs to its past
      case ATTEMPT ->
          attempt == m.attempt() && (status != JobStatus.PENDING || r.value5() < attempt);
      case EPOCH -> attempt == m.attempt() && r.value4() == m.epoch().intValue();
    };
  }

  /** For every move that changed nothing, why: unknown id, wrong status, or stale attempt. */
  private List<Refusal> refusals(Transition t, Map<String, Move> byId, List<Moved> moved) {
    if (moved.size() == byId.size()) {
      return List.of();
    }
    Set<String> movedIds = new HashSet<>();
    moved.forEach(m -> movedIds.add(m.jobId()));
    List<String> unmoved = byId.keySet().stream().filter(id -> !movedIds.contains(id)).toList();
    Map<String, Record> found = new LinkedHashMap<>();
    db.select(JOBS.ID, JOBS.STATUS, JOBS.ATTEMPT, JOBS.EPOCH)
        .from(JOBS)
        .where(JOBS.ID.in(unmoved))
        .forEach(r -> found.put(r.get(JOBS.ID), r));
    List<Refusal> refused = new ArrayList<>(unmoved.size());
    for (String id : unmoved) {
      Record r = found.get(id);
      if (r == null) {
        refused.add(new Refusal(id, Why.UNKNOWN_JOB, "no job " + id));
        continue;
      }
      String status = r.get(JOBS.STATUS);
      int attempt = r.get(JOBS.ATTEMPT);
      if (!t.from().contains(JobStatus.fromWire(status))) {
        refused.add(
            new Refusal(
                id, Why.WRONG_STATUS, t + " does not start from " + status + " (job " + id + ")"));
      } else if (t.fence() == Transition.Fence.EPOCH
          && attempt == byId.get(id).attempt()
          && r.get(JOBS.EPOCH) != byId.get(id).epoch().intValue()) {
        refused.add(
            new Refusal(
                id,
                Why.STALE_EPOCH,
                "job "
                    + id
                    + " is in drain round "
                    + r.get(JOBS.EPOCH)
                    + ", not "
                    + byId.get(id).epoch()));
      } else {
        refused.add(
            new Refusal(
                id,
                Why.STALE_ATTEMPT,
                "job " + id + " is at attempt " + attempt + ", not " + byId.get(id).attempt()));
      }
    }
    return refused;
  }

  private static Moved moved(JobsRecord r) {
    return new Moved(
        r.getId(),
        r.getAttempt(),
        JobStatus.fromWire(r.getStatus()),
        r.getFailureReason(),
        r.getQueueName(),
        r.getWorkerId(),
        r.getWorkerIncarnation(),
        r.getCommand(),
        r.getVramMb(),
        r.getMemoryMb(),
        r.getExitCode(),
        r.getCreatedAt(),
        r.getDispatchedAt(),
        r.getStartedAt(),
        r.getFinishedAt(),
        r.getTimeoutSeconds(),
        r.getGangId(),
        r.getGangIndex(),
        r.getEpoch(),
        Boolean.TRUE.equals(r.getHasCheckpoint()));
  }

  /**
   * The lifecycle event of a row as it is now; what the row no longer holds (the worker a retried
   * attempt ran on, when it ended) comes from the move that changed it.
   */
  private static JobEvent event(Moved m, Move move) {
    boolean running = m.status() == JobStatus.RUNNING;
    // a running attempt's start, as far as scheduler-core knows, is its dispatch
    OffsetDateTime started = running ? m.dispatchedAt() : first(m.startedAt(), move.startedAt());
    return new JobEvent(
        m.jobId(),
        m.status().wire(),
        m.attempt(),
        first(m.workerId(), move.workerId()),
        first(m.exitCode(), move.exitCode()),
        // a new attempt starts without the reason the last one ended with
        running ? null : m.reason(),
        m.queueName(),
        JobEvents.instant(m.createdAt()),
        JobEvents.instant(started),
        JobEvents.instant(first(m.finishedAt(), move.finishedAt())));
  }

  private static <T> T first(T a, T b) {
    return a != null ? a : b;
  }

  /** PostgreSQL text cannot hold NUL; a worker's text must not be able to wedge the batch. */
  private static String withoutNul(String text) {
    return text == null ? null : text.replace("\u0000", "");
  }

  /** The columns of the VALUES table a statement joins on. */
  private static final class Values {
    final Field<String> id;
    final Field<Integer> attempt;
    final Field<String> reason;
    final Field<OffsetDateTime> runAt;
    final Field<Integer> exitCode;
    final Field<OffsetDateTime> startedAt;
    final Field<OffsetDateTime> finishedAt;
    final Field<String> workerId;
    final Field<String> incarnation;
    final Field<Integer> free;
    final Field<String> upstream;
    final Field<Integer> epoch;

    Values(Table<?> v) {
      id = v.field("id", String.class);
      attempt = v.field("attempt", Integer.class);
      reason = v.field("reason", String.class);
      runAt = v.field("run_at", OffsetDateTime.class);
      exitCode = v.field("exit_code", Integer.class);
      startedAt = v.field("started_at", OffsetDateTime.class);
      finishedAt = v.field("finished_at", OffsetDateTime.class);
      workerId = v.field("worker_id", String.class);
      incarnation = v.field("incarnation", String.class);
      free = v.field("free", Integer.class);
      upstream = v.field("upstream", String.class);
      epoch = v.field("epoch", Integer.class);
    }
  }
}
