package io.workron.scheduler.cancel;

import static io.workron.scheduler.db.Tables.JOBS;
import static io.workron.scheduler.db.Tables.PENDING_CANCELS;

import io.micrometer.core.instrument.MeterRegistry;
import io.workron.scheduler.core.JobStatus;
import io.workron.scheduler.core.Transition;
import io.workron.scheduler.dag.DependencyGraph;
import io.workron.scheduler.dispatch.StopOrders;
import io.workron.scheduler.lifecycle.JobTransitions;
import io.workron.schemas.StopCause;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jooq.DSLContext;
import org.jooq.Record;
import org.springframework.stereotype.Component;

/**
 * Cancels jobs, asked over REST ({@code POST /jobs/{id}/cancel}) or by another service ({@code
 * job.cancel.v1}). Runs inside the caller's transaction.
 *
 * <ul>
 *   <li>A {@code pending} or {@code blocked} job is cancelled at once ({@link Transition#CANCEL}).
 *   <li>A {@code running} job is marked {@code cancel_requested_at} and its attempt is ordered
 *       stopped (cause {@code cancelled}); it becomes cancelled ({@link Transition#CANCEL_RUNNING})
 *       when its result reports anything but success (results.ResultStore), or when the attempt is
 *       taken back (liveness.Requeuer). An attempt that succeeds first makes the job done: done
 *       wins over a late cancel.
 *   <li>A job already finished is left as it is.
 *   <li>Jobs downstream of a job cancelled here are cancelled, their reason naming it.
 * </ul>
 */
@Component
public class Cancellations {

  /**
   * {@code pg_advisory_xact_lock} key that orders kept cancels against ingestion: every ingest
   * transaction holds it shared; a cancel that may keep a request for an id not stored yet holds it
   * exclusively, before it looks for the jobs. So either the job's insert committed first (and the
   * cancel finds the job), or the kept cancel did (and the insert's {@link #applyKept} finds it).
   */
  public static final long KEEP_LOCK_ID = 7;

  /** Recorded on a job cancelled without a reason given. */
  public static final String DEFAULT_REASON = "cancelled by request";

  /** What a cancel did to one job. */
  public enum Result {
    /** It was pending or blocked and is cancelled now. */
    CANCELLED,
    /** It was cancelled already (by an earlier request, or because an upstream job failed). */
    ALREADY_CANCELLED,
    /** Its running attempt is ordered stopped; it becomes cancelled when the stop takes effect. */
    STOPPING,
    /** It is done or failed: nothing to cancel. */
    FINISHED,
    /** No such job is stored. */
    UNKNOWN
  }

  /** One request: the job, and why (null for {@link #DEFAULT_REASON}). */
  public record Request(String jobId, String reason) {
    String reasonOrDefault() {
      return reason == null || reason.isBlank() ? DEFAULT_REASON : reason;
    }
  }

  private final DSLContext db;
  private final JobTransitions transitions;
  private final StopOrders stops;
  private final DependencyGraph graph;
  private final MeterRegistry meters;

  Cancellations(
      DSLContext db,
      JobTransitions transitions,
      StopOrders stops,
      DependencyGraph graph,
      MeterRegistry meters) {
    this.db = db;
    this.transitions = transitions;
    this.stops = stops;
    this.graph = graph;
    this.meters = meters;
  }

  /**
   * Applies each request; with {@code keepUnknown}, a request for an id not stored yet is kept and
   * applied when the job's submission arrives ({@link #applyKept}). Returns what happened to each
   * requested id.
   */
  public Map<String, Result> cancel(
      Collection<Request> requests, boolean keepUnknown, OffsetDateTime now) {
    Map<String, Request> byId = new LinkedHashMap<>();
    for (Request r : requests) {
      byId.putIfAbsent(r.jobId(), r);
    }
    if (keepUnknown) {
      lockForKeeping();
    }
    // a gang stops as a whole: cancelling it (by its id) or any of its tasks cancels every task
    Map<String, String> gangOf = new HashMap<>();
    String[] requested = byId.keySet().toArray(String[]::new);
    // by primary key, then by the gang index: the gangs of the jobs asked for, and ids asked for
    // that are gangs (an id that is a job is the job, whatever gang shares it)
    java.util.Set<String> gangs = new java.util.TreeSet<>();
    java.util.Set<String> jobs = new java.util.HashSet<>();
    db.resultQuery("select id, gang_id from jobs where id = any(?::varchar[])", (Object) requested)
        .forEach(
            r -> {
              jobs.add(r.get(0, String.class));
              if (r.get(1, String.class) != null) {
                gangs.add(r.get(1, String.class));
              }
            });
    String[] notJobs =
        byId.keySet().stream().filter(id -> !jobs.contains(id)).toArray(String[]::new);
    if (notJobs.length > 0) {
      gangs.addAll(
          db.resultQuery("select id from gangs where id = any(?::varchar[])", (Object) notJobs)
              .fetch(r -> r.get(0, String.class)));
    }
    if (!gangs.isEmpty()) {
      db.resultQuery(
              "select id, gang_id from jobs where gang_id = any(?::varchar[])",
              (Object) gangs.toArray(String[]::new))
          .forEach(r -> gangOf.put(r.get(0, String.class), r.get(1, String.class)));
    }
    Map<String, Request> asked = new LinkedHashMap<>(byId);
    if (!gangOf.isEmpty()) {
      Map<String, Request> perGang = new HashMap<>();
      byId.forEach(
          (id, req) -> {
            String gang = gangOf.containsKey(id) ? gangOf.get(id) : id;
            perGang.putIfAbsent(gang, req);
          });
      gangOf.forEach(
          (task, gang) -> {
            Request req = perGang.get(gang);
            if (req != null) {
              byId.putIfAbsent(task, new Request(task, req.reason()));
            }
          });
      gangOf.values().forEach(byId::remove); // a gang id is not a job
    }
    Map<String, Record> rows = new HashMap<>();
    // rows locked in id order, as everywhere, so concurrent transactions cannot deadlock
    db.select(
            JOBS.ID,
            JOBS.STATUS,
            JOBS.ATTEMPT,
            JOBS.WORKER_ID,
            JOBS.WORKER_INCARNATION,
            JOBS.CANCEL_REQUESTED_AT)
        .from(JOBS)
        .where(JOBS.ID.in(byId.keySet()))
        .orderBy(JOBS.ID)
        .forUpdate()
        .forEach(r -> rows.put(r.get(JOBS.ID), r));
    Map<String, Result> results = new LinkedHashMap<>();
    List<JobTransitions.Move> notStarted = new ArrayList<>();
    List<StopOrders.Order> orders = new ArrayList<>();
    List<String> stopping = new ArrayList<>();
    List<Request> kept = new ArrayList<>();
    for (Request req : byId.values()) {
      Record row = rows.get(req.jobId());
      if (row == null) {
        results.put(req.jobId(), Result.UNKNOWN);
        if (keepUnknown) {
          kept.add(req);
        }
        continue;
      }
      JobStatus status = JobStatus.fromWire(row.get(JOBS.STATUS));
      switch (status) {
        case PENDING, BLOCKED, PREEMPTED -> {
          notStarted.add(JobTransitions.Move.of(req.jobId()).because(req.reasonOrDefault()));
          results.put(req.jobId(), Result.CANCELLED);
        }
        case RESERVED -> {
          // dispatched, not yet started: cancelled now, and ordered stopped in case it starts
          notStarted.add(JobTransitions.Move.of(req.jobId()).because(req.reasonOrDefault()));
          orders.add(
              new StopOrders.Order(
                  req.jobId(),
                  row.get(JOBS.ATTEMPT),
                  row.get(JOBS.WORKER_ID),
                  row.get(JOBS.WORKER_INCARNATION)));
          results.put(req.jobId(), Result.CANCELLED);
        }
        case PREEMPTING -> {
          // already ordered stopped by a drain round: cancelled when the stop is acknowledged
          if (row.get(JOBS.CANCEL_REQUESTED_AT) == null) {
            stopping.add(req.jobId());
            db.update(JOBS)
                .set(JOBS.CANCEL_REQUESTED_AT, now)
                .set(JOBS.CANCEL_REASON, withoutNul(req.reasonOrDefault()))
                .where(JOBS.ID.eq(req.jobId()))
                .execute();
          }
          results.put(req.jobId(), Result.STOPPING);
        }
        case RUNNING -> {
          if (row.get(JOBS.CANCEL_REQUESTED_AT) == null) {
            stopping.add(req.jobId());
            orders.add(
                new StopOrders.Order(
                    req.jobId(),
                    row.get(JOBS.ATTEMPT),
                    row.get(JOBS.WORKER_ID),
                    row.get(JOBS.WORKER_INCARNATION)));
            db.update(JOBS)
                .set(JOBS.CANCEL_REQUESTED_AT, now)
                .set(JOBS.CANCEL_REASON, withoutNul(req.reasonOrDefault()))
                .where(JOBS.ID.eq(req.jobId()))
                .execute();
          }
          results.put(req.jobId(), Result.STOPPING);
        }
        case CANCELLED -> results.put(req.jobId(), Result.ALREADY_CANCELLED);
        default -> results.put(req.jobId(), Result.FINISHED);
      }
    }
    for (String gang : new java.util.HashSet<>(gangOf.values())) {
      if (asked.containsKey(gang)) {
        results.put(gang, gangResult(gang, gangOf, results));
      }
    }
    keep(kept, now);
    stops.send(orders, StopCause.CANCELLED, "cancelled", now);
    List<String> cancelled = transitions.apply(Transition.CANCEL, notStarted, now).movedIds();
    graph.cancelDownstreamOf(cancelled);
    meters
        .counter("workron_jobs_cancelled_total", "when", "not_started")
        .increment(cancelled.size());
    meters.counter("workron_cancels_stopping_total").increment(stopping.size());
    return results;
  }

  /** What a cancel did to a gang as a whole: stopping while any task is, else its tasks' result. */
  private static Result gangResult(
      String gang, Map<String, String> gangOf, Map<String, Result> results) {
    Result r = Result.FINISHED;
    for (Map.Entry<String, String> e : gangOf.entrySet()) {
      if (!e.getValue().equals(gang)) {
        continue;
      }
      Result task = results.get(e.getKey());
      if (task == Result.STOPPING) {
        return Result.STOPPING;
      }
      if (task == Result.CANCELLED || (task == Result.ALREADY_CANCELLED && r != Result.CANCELLED)) {
        r = task;
      }
    }
    return r;
  }

  /**
   * Held exclusively by a transaction that may keep cancels, taken before it stores or looks for
   * any job (a transaction that held it shared and then asked for it exclusively could deadlock
   * with another doing the same).
   */
  public void lockForKeeping() {
    db.resultQuery("select pg_advisory_xact_lock(?)", KEEP_LOCK_ID).fetch();
  }

  /** Held shared by ingestion before it stores jobs; see {@link #KEEP_LOCK_ID}. */
  public void lockAgainstKeeping() {
    db.resultQuery("select pg_advisory_xact_lock_shared(?)", KEEP_LOCK_ID).fetch();
  }

  /**
   * Applies the kept cancels of jobs just stored ({@code storedIds}, in the caller's transaction
   * that stored them) and forgets them.
   */
  public void applyKept(Collection<String> storedIds, OffsetDateTime now) {
    if (storedIds.isEmpty()) {
      return;
    }
    List<Request> kept =
        db.deleteFrom(PENDING_CANCELS)
            .where(PENDING_CANCELS.JOB_ID.in(storedIds))
            .returning(PENDING_CANCELS.JOB_ID, PENDING_CANCELS.REASON)
            .fetch(r -> new Request(r.getJobId(), r.getReason()));
    if (!kept.isEmpty()) {
      cancel(kept, false, now);
    }
  }

  /**
   * Forgets kept cancels older than {@code cutoff} whose job never came; returns how many. By then
   * the submissions topic no longer holds a submission they could be waiting for.
   */
  public int forgetKeptBefore(OffsetDateTime cutoff) {
    return db.deleteFrom(PENDING_CANCELS).where(PENDING_CANCELS.REQUESTED_AT.lt(cutoff)).execute();
  }

  private void keep(List<Request> kept, OffsetDateTime now) {
    if (kept.isEmpty()) {
      return;
    }
    var insert =
        db.insertInto(
            PENDING_CANCELS,
            PENDING_CANCELS.JOB_ID,
            PENDING_CANCELS.REASON,
            PENDING_CANCELS.REQUESTED_AT);
    for (Request r : kept) {
      insert = insert.values(r.jobId(), withoutNul(r.reason()), now);
    }
    insert.onConflictDoNothing().execute();
  }

  private static String withoutNul(String text) {
    return text == null ? null : text.replace("\u0000", "");
  }
}
