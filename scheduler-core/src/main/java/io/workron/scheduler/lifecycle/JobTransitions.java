package io.workron.scheduler.lifecycle;

import io.workron.scheduler.core.JobStatus;
import io.workron.scheduler.core.Transition;
import io.workron.scheduler.outbox.JobEvents;
import io.workron.scheduler.outbox.OutboxMessage;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.jooq.DSLContext;
import org.springframework.stereotype.Repository;

/**
 * Applies a {@link Transition} to many jobs in one guarded statement and builds the lifecycle
 * events from the rows it changed. Runs inside the caller's transaction. A job no longer in one of
 * the transition's from-statuses (it moved on meanwhile) is left alone and not returned.
 */
@Repository
public class JobTransitions {

  /** A job that moved, and the event announcing it. */
  public record Moved(
      String jobId, int attempt, JobStatus status, String reason, OutboxMessage event) {}

  private final DSLContext db;
  private final JobEvents events;

  JobTransitions(DSLContext db, JobEvents events) {
    this.db = db;
    this.events = events;
  }

  /** Moves each job in {@code reasons} (job id to the reason recorded with it). */
  public List<Moved> apply(Transition t, Map<String, String> reasons, OffsetDateTime now) {
    if (reasons.isEmpty()) {
      return List.of();
    }
    String[] ids = reasons.keySet().stream().sorted().toArray(String[]::new);
    String[] why = new String[ids.length];
    for (int i = 0; i < ids.length; i++) {
      why[i] = reasons.get(ids[i]);
    }
    String[] from = t.from().stream().map(JobStatus::wire).toArray(String[]::new);
    // rows locked in id order, as everywhere, so concurrent transactions cannot deadlock
    db.resultQuery(
            "select id from jobs where id = any(?::varchar[]) order by id for update", (Object) ids)
        .fetch();
    List<Moved> moved = new ArrayList<>();
    db.resultQuery(
            "update jobs j set status = ?, failure_reason = v.reason, "
                + "finished_at = case when ? then ?::timestamptz else j.finished_at end, "
                + "wait_reason = null, unschedulable_since = null "
                + "from unnest(?::varchar[], ?::text[]) as v(id, reason) "
                + "where j.id = v.id and j.status = any(?::varchar[]) "
                + "returning j.id, j.attempt, j.failure_reason, j.queue_name",
            t.to().wire(),
            t.to().isTerminal(),
            now,
            ids,
            why,
            from)
        .forEach(
            r -> {
              String id = r.get(0, String.class);
              int attempt = r.get(1, Integer.class);
              String reason = r.get(2, String.class);
              moved.add(
                  new Moved(
                      id,
                      attempt,
                      t.to(),
                      reason,
                      events.simple(id, t.to(), attempt, reason, r.get(3, String.class))));
            });
    return moved;
  }
}
