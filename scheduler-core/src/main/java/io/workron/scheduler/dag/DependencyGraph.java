package io.workron.scheduler.dag;

import static io.workron.scheduler.db.Tables.JOB_DEPENDENCIES;

import io.workron.scheduler.core.JobStatus;
import io.workron.scheduler.core.Transition;
import io.workron.scheduler.lifecycle.JobTransitions;
import java.time.Clock;
import java.time.OffsetDateTime;
import java.util.Collection;
import java.util.List;
import org.jooq.DSLContext;
import org.springframework.stereotype.Component;

/**
 * DAG bookkeeping on the {@code job_dependencies} edge table. Runs inside the caller's transaction.
 * Unlike the seed, a job whose upstream failed does not stay blocked forever: it is cancelled, and
 * so is everything downstream of it.
 */
@Component
public class DependencyGraph {

  private final DSLContext db;
  private final Clock clock;
  private final JobTransitions transitions;

  DependencyGraph(DSLContext db, Clock clock, JobTransitions transitions) {
    this.db = db;
    this.clock = clock;
    this.transitions = transitions;
  }

  /** {@code pg_advisory_xact_lock} key held while new dependency edges are written. */
  public static final long EDGE_WRITERS_LOCK_ID = 4;

  /** Serialises the transactions that add edges; held until the caller's transaction ends. */
  public void lockEdgeWriters() {
    db.resultQuery("select pg_advisory_xact_lock(?)", EDGE_WRITERS_LOCK_ID).fetch();
  }

  /** Those of {@code ids} that some stored job waits for. */
  public List<String> awaited(Collection<String> ids) {
    if (ids.isEmpty()) {
      return List.of();
    }
    return db.resultQuery(
            "select distinct depends_on from job_dependencies where depends_on = any(?::varchar[])",
            (Object) ids.toArray(String[]::new))
        .fetch(r -> r.get(0, String.class));
  }

  /** Records that each job waits for the listed ids. */
  public void addEdges(List<String> jobIds, List<String> dependsOn) {
    if (jobIds.isEmpty()) {
      return;
    }
    db.execute(
        "insert into job_dependencies (job_id, depends_on) "
            + "select * from unnest(?::varchar[], ?::varchar[]) on conflict do nothing",
        jobIds.toArray(String[]::new),
        dependsOn.toArray(String[]::new));
  }

  /**
   * Blocked jobs among {@code candidates} whose every dependency is done become pending.
   *
   * <p>The candidates are locked first and checked in a second statement. Two transactions that
   * each finish one upstream of the same job (a fan-in) then serialise on that job, and the second
   * one's check, taking a fresh snapshot after the first committed, sees both upstreams done.
   */
  public List<JobTransitions.Moved> releaseReady(Collection<String> candidates) {
    if (candidates.isEmpty()) {
      return List.of();
    }
    lockInOrder(candidates);
    List<String> ready =
        db.resultQuery(
                "select j.id from jobs j where j.id = any(?::varchar[]) and j.status = ? "
                    + "and not exists (select 1 from job_dependencies d "
                    + "  left join jobs p on p.id = d.depends_on "
                    + "  where d.job_id = j.id and (p.status is null or p.status <> ?))",
                candidates.toArray(String[]::new),
                JobStatus.BLOCKED.wire(),
                JobStatus.DONE.wire())
            .fetch(r -> r.get(0, String.class));
    return transitions
        .apply(Transition.RELEASE, ready.stream().map(JobTransitions.Move::of).toList(), now())
        .moved();
  }

  /** Blocked jobs that wait directly on any of {@code doneIds} and are now ready. */
  public List<JobTransitions.Moved> releaseDependentsOf(Collection<String> doneIds) {
    if (doneIds.isEmpty()) {
      return List.of();
    }
    List<String> dependents =
        db.resultQuery(
                "select distinct job_id from job_dependencies where depends_on = any(?::varchar[])",
                (Object) doneIds.toArray(String[]::new))
            .fetch(r -> r.get(0, String.class));
    return releaseReady(dependents);
  }

  /**
   * Cancels every non-terminal, not-yet-started job downstream of {@code failedIds}, transitively,
   * naming the failed upstream job in the reason.
   */
  public List<JobTransitions.Moved> cancelDownstreamOf(Collection<String> failedIds) {
    if (failedIds.isEmpty()) {
      return List.of();
    }
    // Every job downstream, with the first failed upstream it is reached from. Read again once the
    // rows are locked: a submission that added an edge below them while we waited for the locks
    // has committed by then, and its new job must be cancelled too.
    java.util.Set<String> locked = new java.util.HashSet<>();
    List<JobTransitions.Move> cancels = downstreamOf(failedIds);
    while (!cancels.isEmpty()) {
      List<String> ids = cancels.stream().map(JobTransitions.Move::jobId).toList();
      if (locked.containsAll(ids)) {
        break;
      }
      lockInOrder(ids);
      locked.addAll(ids);
      cancels = downstreamOf(failedIds);
    }
    return transitions.apply(Transition.CANCEL_UPSTREAM_FAILED, cancels, now()).moved();
  }

  private List<JobTransitions.Move> downstreamOf(Collection<String> failedIds) {
    return db.resultQuery(
            "with recursive down(id, root) as ("
                + "  select d.job_id, d.depends_on from job_dependencies d "
                + "   where d.depends_on = any(?::varchar[]) "
                + "  union "
                + "  select d.job_id, down.root from job_dependencies d "
                + "   join down on d.depends_on = down.id"
                + "), first(id, root) as (select id, min(root) from down group by id) "
                + "select first.id, first.root, r.status from first "
                + "left join jobs r on r.id = first.root order by first.id",
            (Object) failedIds.toArray(String[]::new))
        .fetch(
            r ->
                JobTransitions.Move.of(r.get(0, String.class))
                    .because(upstreamReason(r.get(1, String.class), r.get(2, String.class)))
                    .after(r.get(1, String.class)));
  }

  /** Why a job downstream of {@code root} never runs, naming it and what became of it. */
  static String upstreamReason(String root, String rootStatus) {
    if (JobStatus.CANCELLED.wire().equals(rootStatus)) {
      return "upstream job " + root + " was cancelled";
    }
    if (JobStatus.FAILED.wire().equals(rootStatus)) {
      return "upstream job " + root + " failed";
    }
    return "upstream job " + root + " did not succeed";
  }

  /** New jobs among {@code candidates} that wait on a job that already failed or was cancelled. */
  public List<String> withFailedUpstream(Collection<String> candidates) {
    if (candidates.isEmpty()) {
      return List.of();
    }
    return db.resultQuery(
            "select distinct d.depends_on from job_dependencies d join jobs p on p.id = d.depends_on "
                + "where d.job_id = any(?::varchar[]) and p.status = any(?::varchar[])",
            candidates.toArray(String[]::new),
            new String[] {JobStatus.FAILED.wire(), JobStatus.CANCELLED.wire()})
        .fetch(r -> r.get(0, String.class));
  }

  /**
   * Locks upstream jobs with a share lock before a new job's readiness is checked, so a result
   * being applied to one of them either commits first (and the check sees it) or waits for this
   * transaction (and then sees the new job's edges).
   */
  public void lockUpstreams(Collection<String> upstreamIds) {
    if (upstreamIds.isEmpty()) {
      return;
    }
    db.resultQuery(
            "select id from jobs where id = any(?::varchar[]) order by id for share",
            (Object) upstreamIds.stream().distinct().toArray(String[]::new))
        .fetch();
  }

  /**
   * The cycle a new job {@code jobId} waiting for {@code dependsOn} would close, as the path {@code
   * jobId -> dependency -> ... -> jobId}; empty when there is none. A cycle needs a stored job that
   * (transitively) waits for {@code jobId}, so when nothing waits for it this costs one index
   * lookup.
   */
  public List<String> cycleThrough(String jobId, Collection<String> dependsOn) {
    if (dependsOn.isEmpty()) {
      return List.of();
    }
    if (dependsOn.contains(jobId)) {
      return List.of(jobId, jobId);
    }
    boolean awaited = db.fetchExists(JOB_DEPENDENCIES, JOB_DEPENDENCIES.DEPENDS_ON.eq(jobId));
    if (!awaited) {
      return List.of();
    }
    // every (job, the job that waits for it) pair upstream of the dependencies, then a path back
    java.util.Map<String, String> via = new java.util.HashMap<>();
    List<String[]> pairs =
        db.resultQuery(
                "with recursive up(id, via) as ("
                    + "  select d, null::varchar from unnest(?::varchar[]) as d "
                    + "  union "
                    + "  select e.depends_on, e.job_id from job_dependencies e join up on e.job_id = up.id"
                    + "  where up.id <> ?"
                    + ") select id, via from up",
                dependsOn.toArray(String[]::new),
                jobId)
            .fetch(r -> new String[] {r.get(0, String.class), r.get(1, String.class)});
    // the dependencies themselves start the path; any other job is reached from the first job
    // that led to it
    for (String[] p : pairs) {
      if (p[1] == null) {
        via.put(p[0], null);
      }
    }
    for (String[] p : pairs) {
      if (p[1] != null && !via.containsKey(p[0])) {
        via.put(p[0], p[1]);
      }
    }
    if (!via.containsKey(jobId)) {
      return List.of();
    }
    java.util.LinkedList<String> path = new java.util.LinkedList<>();
    for (String at = jobId; at != null && path.size() <= via.size(); at = via.get(at)) {
      path.addFirst(at);
    }
    path.addFirst(jobId);
    return List.copyOf(path);
  }

  private void lockInOrder(Collection<String> ids) {
    db.resultQuery(
            "select id from jobs where id = any(?::varchar[]) order by id for update",
            (Object) ids.stream().distinct().toArray(String[]::new))
        .fetch();
  }

  private OffsetDateTime now() {
    return OffsetDateTime.now(clock);
  }
}
