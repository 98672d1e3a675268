package io.workron.scheduler.waiting;

import io.workron.scheduler.config.SchedulerProperties;
import io.workron.scheduler.core.Transition;
import io.workron.scheduler.core.Unschedulable;
import io.workron.scheduler.dag.DependencyGraph;
import io.workron.scheduler.lifecycle.JobTransitions;
import java.time.OffsetDateTime;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jooq.DSLContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * Jobs waiting for something that may never come. A pending job no registered worker could ever
 * hold gets a {@code wait_reason} naming the resource, and fails after {@code
 * unschedulable-timeout}; a blocked job whose dependency was never submitted is cancelled after
 * {@code dependency-wait-timeout}. Either way its dependents are cancelled too. Runs inside the
 * reaper's transaction, on one replica at a time.
 */
@Component
public class WaitingJobs {

  private static final Logger log = LoggerFactory.getLogger(WaitingJobs.class);

  /** Most jobs looked at per kind and tick; the rest are seen on the next ticks. */
  private static final int BATCH = 5000;

  /** What one check did. */
  public record Outcome(int failed, int cancelled) {}

  private final DSLContext db;
  private final JobTransitions transitions;
  private final DependencyGraph graph;
  private final SchedulerProperties properties;

  WaitingJobs(
      DSLContext db,
      JobTransitions transitions,
      DependencyGraph graph,
      SchedulerProperties properties) {
    this.db = db;
    this.transitions = transitions;
    this.graph = graph;
    this.properties = properties;
  }

  public Outcome check(OffsetDateTime now) {
    int failed = failUnschedulable(now);
    int cancelled = cancelUnmetDependencies(now);
    return new Outcome(failed, cancelled);
  }

  private int failUnschedulable(OffsetDateTime now) {
    List<Unschedulable.Offer> offers =
        db.resultQuery(
                "select vram_mb, memory_mb from workers where status <> 'offline' and slots > 0")
            .fetch(r -> new Unschedulable.Offer(r.get(0, Long.class), r.get(1, Long.class)));
    if (offers.isEmpty()) {
      return 0; // no worker to judge by: nothing is marked or failed
    }
    Long[] vram = offers.stream().map(Unschedulable.Offer::vramMb).toArray(Long[]::new);
    Long[] memory = offers.stream().map(Unschedulable.Offer::memoryMb).toArray(Long[]::new);
    Map<String, String> reasons = new LinkedHashMap<>();
    db.resultQuery(
            "select id, vram_mb, memory_mb from jobs j where status = 'pending' "
                + "and (vram_mb > 0 or memory_mb > 0) "
                + "and not exists (select 1 from unnest(?::bigint[], ?::bigint[]) as w(vram, memory) "
                + "  where j.vram_mb <= w.vram and j.memory_mb <= w.memory) "
                + "and j.unschedulable_since is null order by j.id limit ?",
            vram,
            memory,
            BATCH)
        .forEach(
            r -> {
              Optional<String> why =
                  Unschedulable.explain(r.get(1, Long.class), r.get(2, Long.class), offers);
              why.ifPresent(w -> reasons.put(r.get(0, String.class), w));
            });
    String[] ids = reasons.keySet().toArray(String[]::new);
    // a marked job that some registered worker could hold now is schedulable again
    db.execute(
        "update jobs j set wait_reason = null, unschedulable_since = null "
            + "where j.unschedulable_since is not null and j.status = 'pending' "
            + "and exists (select 1 from unnest(?::bigint[], ?::bigint[]) as w(vram, memory) "
            + "  where j.vram_mb <= w.vram and j.memory_mb <= w.memory)",
        vram,
        memory);
    if (!reasons.isEmpty()) {
      db.execute(
          "update jobs j set wait_reason = v.reason, "
              + "unschedulable_since = coalesce(j.unschedulable_since, ?::timestamptz) "
              + "from unnest(?::varchar[], ?::text[]) as v(id, reason) "
              + "where j.id = v.id and j.status = 'pending'",
          now,
          ids,
          reasons.values().toArray(String[]::new));
    }
    Map<String, String> expired = new LinkedHashMap<>();
    db.resultQuery(
            "select id, wait_reason from jobs where status = 'pending' "
                + "and unschedulable_since < ?::timestamptz order by id limit ?",
            now.minus(properties.unschedulableTimeout()),
            BATCH)
        .forEach(
            r ->
                expired.put(
                    r.get(0, String.class),
                    "unschedulable for "
                        + properties.unschedulableTimeout()
                        + ": "
                        + r.get(1, String.class)));
    List<String> moved = transitions.apply(Transition.FAIL_UNSCHEDULABLE, expired, now).movedIds();
    graph.cancelDownstreamOf(moved);
    if (!moved.isEmpty()) {
      log.warn(
          "{} jobs failed: no registered worker could hold them for {}",
          moved.size(),
          properties.unschedulableTimeout());
    }
    return moved.size();
  }

  private int cancelUnmetDependencies(OffsetDateTime now) {
    Map<String, String> reasons = new LinkedHashMap<>();
    db.resultQuery(
            "select j.id, min(d.depends_on) from jobs j "
                + "join job_dependencies d on d.job_id = j.id "
                + "left join jobs p on p.id = d.depends_on "
                + "where j.status = 'blocked' and j.created_at < ?::timestamptz and p.id is null "
                + "group by j.id order by j.id limit ?",
            now.minus(properties.dependencyWaitTimeout()),
            BATCH)
        .forEach(
            r ->
                reasons.put(
                    r.get(0, String.class),
                    "dependency "
                        + r.get(1, String.class)
                        + " was never submitted (waited "
                        + properties.dependencyWaitTimeout()
                        + ")"));
    List<String> moved =
        transitions.apply(Transition.CANCEL_UNMET_DEPENDENCY, reasons, now).movedIds();
    graph.cancelDownstreamOf(moved);
    if (!moved.isEmpty()) {
      log.warn(
          "{} blocked jobs cancelled: a dependency was never submitted within {}",
          moved.size(),
          properties.dependencyWaitTimeout());
    }
    return moved.size();
  }
}
