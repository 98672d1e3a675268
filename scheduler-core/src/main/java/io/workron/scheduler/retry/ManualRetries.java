package io.workron.scheduler.retry;

import static io.workron.scheduler.db.Tables.JOBS;
import static io.workron.scheduler.db.Tables.JOB_DEPENDENCIES;

import io.workron.scheduler.core.JobStatus;
import io.workron.scheduler.core.Transition;
import io.workron.scheduler.dag.DependencyGraph;
import io.workron.scheduler.lifecycle.JobTransitions;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import org.jooq.DSLContext;
import org.jooq.Record;
import org.springframework.stereotype.Component;

/**
 * Retry by hand ({@code POST /jobs/{id}/retry}): a {@code failed} or {@code cancelled} job runs
 * again with a fresh attempt budget. Its attempt number keeps growing (it fences late messages) and
 * its attempt history continues. Runs inside the caller's transaction.
 *
 * <p>A job whose dependencies are not all done waits for them ({@code blocked}); one whose
 * dependency failed or was cancelled is refused, naming it: retry that one first (with {@code
 * cascade}). With {@code cascade}, the jobs downstream that were cancelled because of this one wait
 * for it again.
 */
@Component
public class ManualRetries {

  /** What a retry did. */
  public sealed interface Result {}

  /** The job runs again; {@code revived} jobs downstream wait for it again. */
  public record Retried(JobStatus status, List<String> revived) implements Result {}

  /** The job is not failed or cancelled. */
  public record NotFinishedBadly(JobStatus status) implements Result {}

  /** A job it depends on failed or was cancelled; that one must be retried first. */
  public record UpstreamNotRetried(String upstream, JobStatus status) implements Result {}

  /** No such job. */
  public record Unknown() implements Result {}

  /** The job is a task of a gang, which runs all its tasks at once or none: not retried alone. */
  public record GangTask(String gangId) implements Result {}

  private final DSLContext db;
  private final JobTransitions transitions;
  private final DependencyGraph graph;

  ManualRetries(DSLContext db, JobTransitions transitions, DependencyGraph graph) {
    this.db = db;
    this.transitions = transitions;
    this.graph = graph;
  }

  public Result retry(String jobId, boolean cascade, OffsetDateTime now) {
    // upstream jobs first, then this one: the order a result takes (it locks the job it is about,
    // then cancels the jobs downstream), so the two cannot deadlock
    List<String> upstreamIds =
        db.select(JOB_DEPENDENCIES.DEPENDS_ON)
            .from(JOB_DEPENDENCIES)
            .where(JOB_DEPENDENCIES.JOB_ID.eq(jobId))
            .fetch(JOB_DEPENDENCIES.DEPENDS_ON);
    List<? extends Record> upstream =
        upstreamIds.isEmpty()
            ? List.<Record>of()
            : db.select(JOBS.ID, JOBS.STATUS)
                .from(JOBS)
                .where(JOBS.ID.in(upstreamIds))
                .orderBy(JOBS.ID)
                .forShare()
                .fetch();
    Record row =
        db.select(JOBS.ID, JOBS.STATUS, JOBS.GANG_ID)
            .from(JOBS)
            .where(JOBS.ID.eq(jobId))
            .forUpdate()
            .fetchOne();
    if (row == null) {
      return new Unknown();
    }
    if (row.get(JOBS.GANG_ID) != null) {
      return new GangTask(row.get(JOBS.GANG_ID));
    }
    JobStatus status = JobStatus.fromWire(row.get(JOBS.STATUS));
    if (!Transition.RETRY_BY_HAND.from().contains(status)) {
      return new NotFinishedBadly(status);
    }
    boolean allDone = true;
    for (Record u : upstream) {
      JobStatus s = JobStatus.fromWire(u.get(JOBS.STATUS));
      if (s == JobStatus.FAILED || s == JobStatus.CANCELLED) {
        return new UpstreamNotRetried(u.get(JOBS.ID), s);
      }
      allDone &= s == JobStatus.DONE;
    }
    // a job with an upstream not stored yet has no row for it: it waits, as at submission
    allDone &= upstreamIds.size() == upstream.size();
    JobTransitions.Move move = JobTransitions.Move.of(jobId);
    JobTransitions.Applied applied =
        allDone
            ? transitions.apply(Transition.RETRY_BY_HAND, List.of(move), now)
            : transitions.apply(Transition.BLOCK, List.of(move), now);
    if (applied.moved().isEmpty()) {
      // a failed job always had its dependencies done; a cancelled one may not have had
      return new NotFinishedBadly(status);
    }
    List<String> revived = cascade ? reviveDownstreamOf(jobId, now) : List.of();
    return new Retried(applied.moved().get(0).status(), revived);
  }

  /**
   * The jobs cancelled because {@code jobId} failed or was cancelled wait for their dependencies
   * again; one that also waits for another job that failed meanwhile is cancelled again for it.
   */
  private List<String> reviveDownstreamOf(String jobId, OffsetDateTime now) {
    List<String> victims =
        db.select(JOBS.ID)
            .from(JOBS)
            .where(JOBS.CANCELLED_UPSTREAM.eq(jobId))
            .and(JOBS.STATUS.eq(JobStatus.CANCELLED.wire()))
            .orderBy(JOBS.ID)
            .forUpdate()
            .fetch(JOBS.ID);
    if (victims.isEmpty()) {
      return List.of();
    }
    List<String> revived =
        transitions
            .apply(Transition.BLOCK, victims.stream().map(JobTransitions.Move::of).toList(), now)
            .movedIds();
    graph.cancelDownstreamOf(graph.withFailedUpstream(revived));
    return new ArrayList<>(revived);
  }
}
