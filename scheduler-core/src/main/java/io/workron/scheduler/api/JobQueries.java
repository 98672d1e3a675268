package io.workron.scheduler.api;

import static io.workron.scheduler.db.Tables.AUDIT_EVENTS;
import static io.workron.scheduler.db.Tables.JOBS;
import static io.workron.scheduler.db.Tables.JOB_ATTEMPTS;
import static io.workron.scheduler.db.Tables.JOB_DEPENDENCIES;
import static io.workron.scheduler.db.Tables.JOB_OUTPUTS;
import static io.workron.scheduler.db.Tables.WORKERS;

import io.workron.scheduler.db.tables.records.AuditEventsRecord;
import io.workron.scheduler.db.tables.records.JobAttemptsRecord;
import io.workron.scheduler.db.tables.records.JobsRecord;
import io.workron.scheduler.db.tables.records.WorkersRecord;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jooq.Condition;
import org.jooq.DSLContext;
import org.jooq.impl.DSL;
import org.springframework.stereotype.Component;

/**
 * Reads jobs and workers into the public JSON shape (the seed's keys, plus what the seed lacked:
 * exit code, output tail, attempt history).
 */
@Component
class JobQueries {

  /** One page of jobs and the cursor of the next page, if any. */
  record Page(List<Map<String, Object>> jobs, Position next) {}

  private final DSLContext db;
  private final org.springframework.transaction.support.TransactionTemplate snapshot;

  private final java.time.Duration dependencyWaitTimeout;

  JobQueries(
      DSLContext db,
      org.springframework.transaction.PlatformTransactionManager transactions,
      io.workron.scheduler.config.SchedulerProperties properties) {
    this.db = db;
    this.dependencyWaitTimeout = properties.dependencyWaitTimeout();
    this.snapshot = new org.springframework.transaction.support.TransactionTemplate(transactions);
    snapshot.setReadOnly(true);
    snapshot.setIsolationLevel(
        org.springframework.transaction.TransactionDefinition.ISOLATION_REPEATABLE_READ);
  }

  /**
   * The job's output as last reported (while it runs: its recent output; once its attempt ended:
   * that attempt's final tail), "" when none yet; empty when no such job is stored.
   */
  Optional<String> output(String id) {
    return db.select(JOBS.ID, JOB_OUTPUTS.OUTPUT)
        .from(JOBS)
        .leftJoin(JOB_OUTPUTS)
        .on(JOB_OUTPUTS.JOB_ID.eq(JOBS.ID))
        .where(JOBS.ID.eq(id))
        .fetchOptional(r -> r.value2() == null ? "" : r.value2());
  }

  /** The job, its edges, output and history read from one snapshot, so they agree. */
  Optional<Map<String, Object>> job(String id) {
    return Optional.ofNullable(jobs(List.of(id)).get(id));
  }

  /**
   * Several jobs as {@link #job(String)} shows each, read in four statements from one snapshot
   * however many they are; ids not stored are absent from the map.
   */
  Map<String, Map<String, Object>> jobs(java.util.Collection<String> ids) {
    if (ids.isEmpty()) {
      return Map.of();
    }
    return snapshot.execute(status -> readJobs(ids));
  }

  private Map<String, Map<String, Object>> readJobs(java.util.Collection<String> ids) {
    Map<String, Map<String, Object>> views = new LinkedHashMap<>();
    List<JobsRecord> rows = db.selectFrom(JOBS).where(JOBS.ID.in(ids)).fetch();
    if (rows.isEmpty()) {
      return views;
    }
    List<String> found = rows.stream().map(JobsRecord::getId).toList();
    Map<String, List<String>> deps = new java.util.HashMap<>();
    db.select(JOB_DEPENDENCIES.JOB_ID, JOB_DEPENDENCIES.DEPENDS_ON)
        .from(JOB_DEPENDENCIES)
        .where(JOB_DEPENDENCIES.JOB_ID.in(found))
        .orderBy(JOB_DEPENDENCIES.DEPENDS_ON)
        .forEach(r -> deps.computeIfAbsent(r.value1(), k -> new ArrayList<>()).add(r.value2()));
    for (JobsRecord job : rows) {
      views.put(job.getId(), view(job, deps.getOrDefault(job.getId(), List.of())));
    }
    explainBlocked(rows, views);
    db.selectFrom(JOB_OUTPUTS)
        .where(JOB_OUTPUTS.JOB_ID.in(found))
        .forEach(
            o -> {
              Map<String, Object> view = views.get(o.getJobId());
              view.put("output", o.getOutput());
              view.put("output_truncated", o.getTruncated());
            });
    Map<String, List<Map<String, Object>>> histories = new java.util.HashMap<>();
    for (JobAttemptsRecord a :
        db.selectFrom(JOB_ATTEMPTS)
            .where(JOB_ATTEMPTS.JOB_ID.in(found))
            .orderBy(JOB_ATTEMPTS.JOB_ID, JOB_ATTEMPTS.ATTEMPT)
            .fetch()) {
      Map<String, Object> h = new LinkedHashMap<>();
      h.put("attempt", a.getAttempt());
      h.put("worker_id", a.getWorkerId());
      h.put("incarnation", a.getIncarnation());
      put(h, "dispatched_at", a.getDispatchedAt());
      put(h, "started_at", a.getStartedAt());
      put(h, "finished_at", a.getFinishedAt());
      put(h, "exit_code", a.getExitCode());
      put(h, "outcome", a.getOutcome());
      put(h, "reason", a.getReason());
      put(h, "checkpoint_note", a.getCheckpointNote());
      histories.computeIfAbsent(a.getJobId(), k -> new ArrayList<>()).add(h);
    }
    views.forEach((id, view) -> view.put("attempt_history", histories.getOrDefault(id, List.of())));
    audit(rows, views);
    return views;
  }

  /**
   * Each job's audit events, oldest first: changes made to it, or to its gang, through the API,
   * with the name of the token that made them ({@code audit}).
   */
  private void audit(List<JobsRecord> rows, Map<String, Map<String, Object>> views) {
    Map<String, List<String>> jobsOfGang = new java.util.HashMap<>();
    for (JobsRecord job : rows) {
      views.get(job.getId()).put("audit", new ArrayList<Map<String, Object>>());
      if (job.getGangId() != null) {
        jobsOfGang.computeIfAbsent(job.getGangId(), g -> new ArrayList<>()).add(job.getId());
      }
    }
    Condition about = AUDIT_EVENTS.JOB_ID.in(views.keySet());
    if (!jobsOfGang.isEmpty()) {
      about = about.or(AUDIT_EVENTS.GANG_ID.in(jobsOfGang.keySet()));
    }
    for (AuditEventsRecord e :
        db.selectFrom(AUDIT_EVENTS).where(about).orderBy(AUDIT_EVENTS.ID).fetch()) {
      Map<String, Object> event = new LinkedHashMap<>();
      put(event, "at", e.getAt());
      event.put("action", e.getAction());
      event.put("actor", e.getActor());
      put(event, "request_id", e.getRequestId());
      List<String> ids =
          e.getJobId() != null
              ? List.of(e.getJobId())
              : jobsOfGang.getOrDefault(e.getGangId(), List.of());
      for (String id : ids) {
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> list = (List<Map<String, Object>>) views.get(id).get("audit");
        list.add(event);
      }
    }
  }

  /** Which of {@code ids} are stored. */
  java.util.Set<String> existing(java.util.Collection<String> ids) {
    if (ids.isEmpty()) {
      return java.util.Set.of();
    }
    return new java.util.HashSet<>(
        db.select(JOBS.ID).from(JOBS).where(JOBS.ID.in(ids)).fetch(JOBS.ID));
  }

  /**
   * The dependency graph around job {@code id}: its upstream (what it waits for) and downstream
   * (what waits for it), read outward a level at a time until {@code max} jobs; empty for an
   * unknown id. Nodes carry status and command; a dependency never submitted is {@code missing}.
   * {@code truncated} says the graph goes on beyond what is shown.
   */
  Optional<Map<String, Object>> graph(String id, int max) {
    if (!db.fetchExists(JOBS, JOBS.ID.eq(id))) {
      return Optional.empty();
    }
    java.util.Set<String> seen = new java.util.LinkedHashSet<>(List.of(id));
    java.util.Set<List<String>> edges = new java.util.LinkedHashSet<>();
    // upstream from the job's ancestors only, downstream from its descendants only: a shared
    // dependency's other dependents are not this job's graph
    boolean truncated = walk(id, true, max, seen, edges) | walk(id, false, max, seen, edges);
    Map<String, Map<String, Object>> nodes = new LinkedHashMap<>();
    for (String n : seen) {
      Map<String, Object> node = new LinkedHashMap<>();
      node.put("id", n);
      node.put("status", "missing");
      nodes.put(n, node);
    }
    db.select(JOBS.ID, JOBS.STATUS, JOBS.COMMAND)
        .from(JOBS)
        .where(JOBS.ID.eq(DSL.any(seen.toArray(String[]::new))))
        .forEach(
            r -> {
              Map<String, Object> node = nodes.get(r.value1());
              node.put("status", r.value2());
              String command = r.value3();
              node.put(
                  "command",
                  command == null || command.length() <= 200 ? command : command.substring(0, 200));
            });
    List<Map<String, Object>> edgeList = new ArrayList<>();
    for (List<String> e : edges) {
      edgeList.add(Map.of("from", e.get(0), "to", e.get(1)));
    }
    Map<String, Object> graph = new LinkedHashMap<>();
    graph.put("job_id", id);
    graph.put("nodes", new ArrayList<>(nodes.values()));
    graph.put("edges", edgeList);
    graph.put("truncated", truncated);
    return Optional.of(graph);
  }

  /**
   * Adds to {@code seen} and {@code edges} what {@code id} depends on ({@code up}) or what depends
   * on it, a level at a time, until {@code max} jobs are seen; true when the graph goes on.
   */
  private boolean walk(
      String id,
      boolean up,
      int max,
      java.util.Set<String> seen,
      java.util.Set<List<String>> edges) {
    java.util.Set<String> frontier = java.util.Set.of(id);
    boolean truncated = false;
    while (!frontier.isEmpty()) {
      java.util.Set<String> next = new java.util.LinkedHashSet<>();
      String[] ids = frontier.toArray(String[]::new);
      var rows =
          db.select(JOB_DEPENDENCIES.JOB_ID, JOB_DEPENDENCIES.DEPENDS_ON)
              .from(JOB_DEPENDENCIES)
              .where(
                  up
                      ? JOB_DEPENDENCIES.JOB_ID.eq(DSL.any(ids))
                      : JOB_DEPENDENCIES.DEPENDS_ON.eq(DSL.any(ids)))
              .orderBy(JOB_DEPENDENCIES.JOB_ID, JOB_DEPENDENCIES.DEPENDS_ON)
              .limit(max + 1)
              .fetch();
      if (rows.size() > max) {
        truncated = true;
      }
      for (var r : rows) {
        String from = r.value2();
        String to = r.value1();
        String found = up ? from : to;
        if (!seen.contains(found)) {
          if (seen.size() >= max) {
            truncated = true;
            continue;
          }
          seen.add(found);
          next.add(found);
        }
        if (seen.contains(from) && seen.contains(to)) {
          edges.add(List.of(from, to));
        }
      }
      frontier = next;
    }
    return truncated;
  }

  /**
   * What a page of {@link #list} holds: each filter null for none; {@code newestFirst} for newest
   * first (by creation time, then id); {@code from} where the page before ended, exclusive.
   */
  record Filter(
      String status,
      String queue,
      String worker,
      String idPrefix,
      boolean newestFirst,
      Position from) {}

  /** A place in the list's order: a job's creation time and id. */
  record Position(OffsetDateTime createdAt, String id) {}

  Page list(Filter f, int limit) {
    Condition where = DSL.noCondition();
    if (f.status() != null) {
      where = where.and(JOBS.STATUS.eq(f.status()));
    }
    if (f.queue() != null) {
      where = where.and(JOBS.QUEUE_NAME.eq(f.queue()));
    }
    if (f.worker() != null) {
      where = where.and(JOBS.WORKER_ID.eq(f.worker()));
    }
    if (f.idPrefix() != null) {
      // a literal, so that the plan can use the prefix as a range of jobs_id_pattern_idx
      String escaped = f.idPrefix().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_");
      where = where.and(JOBS.ID.like(DSL.inline(escaped + "%"), '\\'));
    }
    if (f.from() != null) {
      var at = DSL.row(JOBS.CREATED_AT, JOBS.ID);
      var cursor = DSL.row(DSL.val(f.from().createdAt()), DSL.val(f.from().id()));
      where = where.and(f.newestFirst() ? at.lt(cursor) : at.gt(cursor));
    }
    List<JobsRecord> rows =
        db.selectFrom(JOBS)
            .where(where)
            .orderBy(
                f.newestFirst()
                    ? List.of(JOBS.CREATED_AT.desc(), JOBS.ID.desc())
                    : List.of(JOBS.CREATED_AT.asc(), JOBS.ID.asc()))
            .limit(limit + 1)
            .fetch();
    boolean more = rows.size() > limit;
    if (more) {
      rows = rows.subList(0, limit);
    }
    Map<String, List<String>> deps = new LinkedHashMap<>();
    if (!rows.isEmpty()) {
      db.select(JOB_DEPENDENCIES.JOB_ID, JOB_DEPENDENCIES.DEPENDS_ON)
          .from(JOB_DEPENDENCIES)
          .where(JOB_DEPENDENCIES.JOB_ID.in(rows.stream().map(JobsRecord::getId).toList()))
          .orderBy(JOB_DEPENDENCIES.DEPENDS_ON)
          .forEach(r -> deps.computeIfAbsent(r.value1(), k -> new ArrayList<>()).add(r.value2()));
    }
    Map<String, Map<String, Object>> views = new LinkedHashMap<>();
    for (JobsRecord r : rows) {
      views.put(r.getId(), view(r, deps.getOrDefault(r.getId(), List.of())));
    }
    explainBlocked(rows, views);
    JobsRecord last = more ? rows.get(rows.size() - 1) : null;
    return new Page(
        new ArrayList<>(views.values()),
        last == null ? null : new Position(last.getCreatedAt(), last.getId()));
  }

  /**
   * A blocked job that waits for an id never submitted says so in {@code wait_reason}, with when it
   * will be cancelled if the id still does not come. One statement for all of {@code rows}.
   */
  private void explainBlocked(List<JobsRecord> rows, Map<String, Map<String, Object>> views) {
    List<String> blocked =
        rows.stream().filter(r -> "blocked".equals(r.getStatus())).map(JobsRecord::getId).toList();
    if (blocked.isEmpty()) {
      return;
    }
    Map<String, List<String>> missing = new java.util.HashMap<>();
    db.resultQuery(
            "select d.job_id, d.depends_on from job_dependencies d "
                + "left join jobs p on p.id = d.depends_on "
                + "where d.job_id = any(?::varchar[]) and p.id is null order by d.depends_on",
            (Object) blocked.toArray(String[]::new))
        .forEach(
            r ->
                missing
                    .computeIfAbsent(r.get(0, String.class), k -> new ArrayList<>())
                    .add(r.get(1, String.class)));
    for (JobsRecord r : rows) {
      List<String> never = missing.get(r.getId());
      if (never != null) {
        views
            .get(r.getId())
            .put(
                "wait_reason",
                "waiting for "
                    + String.join(", ", never)
                    + (never.size() == 1 ? ", which has" : ", which have")
                    + " not been submitted; cancelled at "
                    + r.getCreatedAt().plus(dependencyWaitTimeout).toInstant()
                    + " if still missing");
      }
    }
  }

  /** The job's checkpoint bytes; empty when no such job, an empty array when it has none. */
  Optional<byte[]> checkpoint(String id) {
    return db.select(JOBS.ID, DSL.field("c.data", byte[].class))
        .from(JOBS)
        .leftJoin(DSL.table("checkpoints").as("c"))
        .on(DSL.field("c.job_id", String.class).eq(JOBS.ID))
        .where(JOBS.ID.eq(id))
        .fetchOptional(r -> r.value2() == null ? new byte[0] : r.value2());
  }

  /**
   * The gang's tasks in {@code gang_index} order, each as {@code GET /jobs/{id}} shows it plus
   * {@code checkpoint_bytes} (0 when it has none); empty when no such gang is stored.
   */
  Optional<List<Map<String, Object>>> gang(String id) {
    return snapshot.execute(
        status -> {
          List<String> ids =
              db.resultQuery("select id from jobs where gang_id = ? order by gang_index", id)
                  .fetch(r -> r.get(0, String.class));
          if (ids.isEmpty()) {
            return Optional.<List<Map<String, Object>>>empty();
          }
          Map<String, Map<String, Object>> views = readJobs(ids);
          Map<String, Long> sizes = new java.util.HashMap<>();
          db.resultQuery(
                  "select job_id, length(data) from checkpoints where job_id = any(?::varchar[])",
                  (Object) ids.toArray(String[]::new))
              .forEach(r -> sizes.put(r.get(0, String.class), r.get(1, Long.class)));
          List<Map<String, Object>> tasks = new ArrayList<>(ids.size());
          for (String task : ids) {
            Map<String, Object> v = views.get(task);
            v.put("checkpoint_bytes", sizes.getOrDefault(task, 0L));
            tasks.add(v);
          }
          return Optional.of(tasks);
        });
  }

  /**
   * The gang as a whole: its status (derived from its tasks'), why it waits if it does, and its
   * drain rounds; empty when no such gang is stored.
   */
  Optional<Map<String, Object>> gangSummary(String id) {
    return snapshot.execute(
        status -> {
          var g =
              db.resultQuery(
                      "select size, priority, vram_mb, memory_mb, preemptible, epoch, created_at, "
                          + "admitted_at, admissions, wait_reason, unschedulable_since, finished_at, "
                          + "run_at from gangs where id = ?",
                      id)
                  .fetchOne();
          if (g == null) {
            return Optional.<Map<String, Object>>empty();
          }
          Map<String, Long> counts = new LinkedHashMap<>();
          List<Map<String, Object>> tasks = new ArrayList<>();
          db.resultQuery(
                  "select id, gang_index, status, worker_id, attempt from jobs where gang_id = ? "
                      + "order by gang_index",
                  id)
              .forEach(
                  r -> {
                    counts.merge(r.get(2, String.class), 1L, Long::sum);
                    Map<String, Object> t = new LinkedHashMap<>();
                    t.put("id", r.get(0, String.class));
                    t.put("gang_index", r.get(1, Integer.class));
                    t.put("status", r.get(2, String.class));
                    put(t, "worker_id", r.get(3, String.class));
                    t.put("attempts", r.get(4, Integer.class));
                    tasks.add(t);
                  });
          Map<String, Object> v = new LinkedHashMap<>();
          v.put("gang_id", id);
          v.put("size", g.get(0, Integer.class));
          v.put("status", gangStatus(counts, g.get(0, Integer.class)));
          put(v, "wait_reason", g.get(9, String.class));
          put(v, "unschedulable_since", g.get(10, OffsetDateTime.class));
          v.put("priority", g.get(1, Integer.class));
          if (g.get(2, Long.class) != 0 || g.get(3, Long.class) != 0) {
            Map<String, Object> res = new LinkedHashMap<>();
            res.put("vram_mb", g.get(2, Long.class));
            res.put("memory_mb", g.get(3, Long.class));
            v.put("resources", res);
          }
          v.put("preemptible", g.get(4, Boolean.class));
          v.put("epoch", g.get(5, Integer.class));
          put(v, "created_at", g.get(6, OffsetDateTime.class));
          put(v, "admitted_at", g.get(7, OffsetDateTime.class));
          v.put("admissions", g.get(8, Integer.class));
          put(v, "run_at", g.get(12, OffsetDateTime.class));
          put(v, "finished_at", g.get(11, OffsetDateTime.class));
          v.put("counts", counts);
          v.put("tasks", tasks);
          List<Map<String, Object>> drains = new ArrayList<>();
          db.resultQuery(
                  "select epoch, trigger_job, reason, started_at, ended_at, ordered, acks, forced, "
                      + "outcome from gang_drains where gang_id = ? order by epoch",
                  id)
              .forEach(
                  r -> {
                    Map<String, Object> d = new LinkedHashMap<>();
                    d.put("epoch", r.get(0, Integer.class));
                    put(d, "trigger_job", r.get(1, String.class));
                    d.put("reason", r.get(2, String.class));
                    OffsetDateTime started = r.get(3, OffsetDateTime.class);
                    OffsetDateTime ended = r.get(4, OffsetDateTime.class);
                    put(d, "started_at", started);
                    put(d, "ended_at", ended);
                    if (ended != null) {
                      d.put("duration_ms", java.time.Duration.between(started, ended).toMillis());
                    }
                    d.put("ordered_stopped", r.get(5, Integer.class));
                    d.put("acks", r.get(6, Integer.class));
                    d.put("forced", r.get(7, Integer.class));
                    put(d, "outcome", r.get(8, String.class));
                    drains.add(d);
                  });
          v.put("drains", drains);
          return Optional.of(v);
        });
  }

  /**
   * A gang's own status from its tasks': {@code waiting} (all blocked), {@code reserved}, {@code
   * running}, {@code draining} (a round in progress), {@code done}, {@code failed} or {@code
   * cancelled}.
   */
  static String gangStatus(Map<String, Long> counts, int size) {
    long n = counts.values().stream().mapToLong(Long::longValue).sum();
    if (counts.getOrDefault("done", 0L) == n && n == size) {
      return "done";
    }
    if (counts.containsKey("preempting") || counts.containsKey("preempted")) {
      return "draining";
    }
    if (counts.containsKey("running")) {
      return "running";
    }
    if (counts.containsKey("reserved")) {
      return "reserved";
    }
    if (counts.containsKey("blocked")) {
      return "waiting";
    }
    if (counts.containsKey("failed")) {
      return "failed";
    }
    return counts.containsKey("cancelled") ? "cancelled" : "done";
  }

  List<Map<String, Object>> workers() {
    List<Map<String, Object>> out = new ArrayList<>();
    for (WorkersRecord w : db.selectFrom(WORKERS).orderBy(WORKERS.ID).fetch()) {
      out.add(workerView(w));
    }
    return out;
  }

  /**
   * Sets or clears the operator's drain of a worker and returns the worker as {@code GET /workers}
   * shows it; empty for an unknown id. Draining twice keeps the first time.
   */
  Optional<Map<String, Object>> cordon(String id, boolean drained, OffsetDateTime now) {
    return db.update(WORKERS)
        .set(
            WORKERS.CORDONED_AT,
            drained
                ? DSL.coalesce(WORKERS.CORDONED_AT, DSL.val(now))
                : DSL.castNull(WORKERS.CORDONED_AT))
        .where(WORKERS.ID.eq(id))
        .returning()
        .fetchOptional()
        .map(JobQueries::workerView);
  }

  private static Map<String, Object> workerView(WorkersRecord w) {
    Map<String, Object> v = new LinkedHashMap<>();
    v.put("id", w.getId());
    v.put("incarnation", w.getIncarnation());
    v.put("exec_addr", w.getExecAddr());
    v.put("slots", w.getSlots());
    Map<String, Object> res = new LinkedHashMap<>();
    if (w.getVramMb() != 0) {
      res.put("vram_mb", w.getVramMb());
    }
    if (w.getMemoryMb() != 0) {
      res.put("memory_mb", w.getMemoryMb());
    }
    v.put("resources", res);
    v.put("tags", w.getTags().isEmpty() ? List.of() : Arrays.asList(w.getTags().split(",")));
    v.put("status", w.getStatus());
    // drained by an operator: no new dispatches; running attempts finish
    v.put("drained", w.getCordonedAt() != null);
    put(v, "drained_at", w.getCordonedAt());
    put(v, "last_heartbeat", w.getLastHeartbeatAt());
    // the worker's own clock when it sent that heartbeat: the difference is how late it was
    put(v, "last_heartbeat_sent_at", w.getLastHeartbeatSentAt());
    put(v, "registered_at", w.getRegisteredAt());
    return v;
  }

  private static Map<String, Object> view(JobsRecord j, List<String> deps) {
    Map<String, Object> v = new LinkedHashMap<>();
    v.put("id", j.getId());
    v.put("command", j.getCommand());
    v.put("status", j.getStatus());
    put(v, "created_at", j.getCreatedAt());
    put(v, "started_at", j.getStartedAt());
    put(v, "done_at", j.getFinishedAt());
    put(v, "last_heart_beat", j.getLastHeartbeatAt());
    v.put("max_retries", j.getMaxRetries());
    v.put("attempts", j.getAttempt());
    if (!deps.isEmpty()) {
      v.put("depends_on", deps);
    }
    if (j.getVramMb() != 0 || j.getMemoryMb() != 0) {
      Map<String, Object> res = new LinkedHashMap<>();
      if (j.getVramMb() != 0) {
        res.put("vram_mb", j.getVramMb());
      }
      if (j.getMemoryMb() != 0) {
        res.put("memory_mb", j.getMemoryMb());
      }
      v.put("resources", res);
    }
    put(v, "worker_id", j.getWorkerId());
    if (j.getPriority() != 0) {
      v.put("priority", j.getPriority());
    }
    v.put("queue_name", j.getQueueName());
    put(v, "timeout_seconds", j.getTimeoutSeconds());
    put(v, "concurrency_key", j.getConcurrencyKey());
    put(v, "exit_code", j.getExitCode());
    put(v, "failure_reason", j.getFailureReason());
    put(v, "cancel_requested_at", j.getCancelRequestedAt());
    if ("pending".equals(j.getStatus())
        || ("blocked".equals(j.getStatus()) && j.getGangId() != null)) {
      put(v, "wait_reason", j.getWaitReason());
    }
    if (j.getGangId() != null) {
      v.put("gang_id", j.getGangId());
      v.put("gang_index", j.getGangIndex());
      v.put("preemption_epoch", j.getEpoch());
      put(v, "reserved_at", j.getReservedAt());
      put(v, "drain_started_at", j.getDrainStartedAt());
    }
    if (Boolean.TRUE.equals(j.getPreemptible())) {
      v.put("preemptible", true);
    }
    if ("pending".equals(j.getStatus()) || "blocked".equals(j.getStatus())) {
      // when it may start: submitted to run later, or waiting for its retry
      put(v, "run_at", j.getRunAt());
    }
    return v;
  }

  private static void put(Map<String, Object> v, String key, Object value) {
    if (value instanceof OffsetDateTime t) {
      v.put(key, t.toInstant().toString());
    } else if (value != null) {
      v.put(key, value);
    }
  }
}
