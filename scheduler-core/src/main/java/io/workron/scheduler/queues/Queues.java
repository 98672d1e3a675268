package io.workron.scheduler.queues;

import static io.workron.scheduler.db.Tables.QUEUES;

import io.workron.scheduler.config.SchedulerProperties;
import io.workron.scheduler.core.JobStatus;
import io.workron.scheduler.db.tables.records.QueuesRecord;
import java.time.OffsetDateTime;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.jooq.DSLContext;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Queues: their limits ({@code max_running}, {@code max_running_per_key}), pause, and job counts
 * per status. Configuration ({@code workron.scheduler.queues.<name>.*}) decides a queue's limits
 * until {@code PUT /queues/{name}} sets them; from then on the {@code queues} row does. Counts are
 * maintained by triggers on {@code jobs} as append-only deltas, folded by the reaper's leader.
 */
@Component
public class Queues {

  /** What decides what a queue may run now. */
  public record Limits(String name, Integer maxRunning, Integer maxRunningPerKey, boolean paused) {
    public boolean limited() {
      return maxRunning != null || maxRunningPerKey != null;
    }
  }

  private final DSLContext db;
  private final TransactionTemplate tx;
  private final SchedulerProperties properties;

  Queues(DSLContext db, TransactionTemplate tx, SchedulerProperties properties) {
    this.db = db;
    this.tx = tx;
    this.properties = properties;
  }

  /**
   * A row for every configured queue, so that its limits can be locked by the dispatch loop; made
   * when the bean is created, before the dispatch loop and the listeners start.
   */
  @jakarta.annotation.PostConstruct
  void registerConfigured() {
    if (properties.queues().isEmpty()) {
      return;
    }
    tx.executeWithoutResult(
        status -> {
          var insert = db.insertInto(QUEUES, QUEUES.NAME);
          for (String name : properties.queues().keySet()) {
            insert = insert.values(name);
          }
          insert.onConflictDoNothing().execute();
        });
  }

  /** Every queue with a row (configured, or set through the API), with its effective limits. */
  public Map<String, Limits> limits() {
    Map<String, Limits> out = new TreeMap<>();
    for (QueuesRecord r : db.selectFrom(QUEUES).fetch()) {
      out.put(r.getName(), limitsOf(r));
    }
    return out;
  }

  /**
   * The limits of the queues that have any, or are paused, locked for the caller's transaction in
   * name order: two replicas placing jobs of a limited queue take turns, so neither places past the
   * limit on a count the other is about to change.
   */
  public Map<String, Limits> lockConstrained() {
    List<String> configuredLimited =
        properties.queues().entrySet().stream()
            .filter(
                e -> e.getValue().maxRunning() != null || e.getValue().maxRunningPerKey() != null)
            .map(Map.Entry::getKey)
            .toList();
    // read under the lock, so a PUT or pause that commits meanwhile is seen by this round
    Map<String, Limits> out = new LinkedHashMap<>();
    db.selectFrom(QUEUES)
        .where(QUEUES.PAUSED_AT.isNotNull())
        .or(
            QUEUES
                .OVERRIDDEN_AT
                .isNotNull()
                .and(QUEUES.MAX_RUNNING.isNotNull().or(QUEUES.MAX_RUNNING_PER_KEY.isNotNull())))
        .or(QUEUES.OVERRIDDEN_AT.isNull().and(QUEUES.NAME.in(configuredLimited)))
        .orderBy(QUEUES.NAME)
        .forUpdate()
        .fetch()
        .forEach(
            r -> {
              Limits l = limitsOf(r);
              if (l.limited() || l.paused()) {
                out.put(r.getName(), l);
              }
            });
    return out;
  }

  /**
   * Sets a queue's limits (null: none) from now on, over what configuration says; creates the queue
   * row if needed. Returns the queue as {@link #view} shows it.
   */
  public Map<String, Object> setLimits(
      String name, Integer maxRunning, Integer maxRunningPerKey, OffsetDateTime now) {
    db.insertInto(QUEUES)
        .set(QUEUES.NAME, name)
        .set(QUEUES.MAX_RUNNING, maxRunning)
        .set(QUEUES.MAX_RUNNING_PER_KEY, maxRunningPerKey)
        .set(QUEUES.OVERRIDDEN_AT, now)
        .onConflict(QUEUES.NAME)
        .doUpdate()
        .set(QUEUES.MAX_RUNNING, maxRunning)
        .set(QUEUES.MAX_RUNNING_PER_KEY, maxRunningPerKey)
        .set(QUEUES.OVERRIDDEN_AT, now)
        .execute();
    return view(name);
  }

  /** Pauses (no new dispatches; running jobs go on) or resumes a queue; idempotent. */
  public Map<String, Object> pause(String name, boolean paused, OffsetDateTime now) {
    db.insertInto(QUEUES)
        .set(QUEUES.NAME, name)
        .set(QUEUES.PAUSED_AT, paused ? now : null)
        .onConflict(QUEUES.NAME)
        .doUpdate()
        .set(
            QUEUES.PAUSED_AT,
            paused
                ? org.jooq.impl.DSL.coalesce(QUEUES.PAUSED_AT, org.jooq.impl.DSL.val(now))
                : null)
        .execute();
    return view(name);
  }

  /** Every queue that has a row or has ever had a job, with limits and counts per status. */
  public List<Map<String, Object>> list() {
    Map<String, Map<String, Long>> counts = counts();
    Map<String, QueuesRecord> rows = new TreeMap<>();
    db.selectFrom(QUEUES).forEach(r -> rows.put(r.getName(), r));
    java.util.SortedSet<String> names = new java.util.TreeSet<>(rows.keySet());
    names.addAll(counts.keySet());
    return names.stream().map(n -> view(n, rows.get(n), counts.get(n))).toList();
  }

  /** One queue as {@code GET /queues} shows it. */
  public Map<String, Object> view(String name) {
    QueuesRecord row = db.selectFrom(QUEUES).where(QUEUES.NAME.eq(name)).fetchOne();
    return view(name, row, counts().get(name));
  }

  /**
   * Folds the deltas written so far into {@code queue_counts}, in one statement; returns how many
   * deltas it folded. Run by the reaper's leader.
   */
  public int fold() {
    return db.resultQuery(
            "with moved as (delete from queue_count_deltas returning queue_name, status, delta), "
                + "summed as (select queue_name, status, sum(delta) as n from moved "
                + "  group by queue_name, status), "
                + "upserted as (insert into queue_counts (queue_name, status, n) "
                + "  select queue_name, status, n from summed "
                + "  on conflict (queue_name, status) do update set n = queue_counts.n + excluded.n "
                + "  returning 1) "
                + "select (select count(*) from moved), (select count(*) from upserted)")
        .fetchOne(r -> r.get(0, Integer.class));
  }

  /** Per queue, per status: folded counts plus the deltas not folded yet. */
  public Map<String, Map<String, Long>> counts() {
    Map<String, Map<String, Long>> out = new HashMap<>();
    db.resultQuery(
            "select queue_name, status, sum(n) from ("
                + "  select queue_name, status, n from queue_counts "
                + "  union all select queue_name, status, delta from queue_count_deltas"
                + ") c group by queue_name, status")
        .forEach(
            r ->
                out.computeIfAbsent(r.get(0, String.class), k -> new HashMap<>())
                    .put(r.get(1, String.class), r.get(2, Long.class)));
    return out;
  }

  private Map<String, Object> view(String name, QueuesRecord row, Map<String, Long> counts) {
    Limits l = row == null ? configured(name, false) : limitsOf(row);
    Map<String, Object> v = new LinkedHashMap<>();
    v.put("name", name);
    v.put("max_running", l.maxRunning());
    v.put("max_running_per_key", l.maxRunningPerKey());
    v.put("paused", l.paused());
    if (row != null && row.getPausedAt() != null) {
      v.put("paused_at", row.getPausedAt().toInstant().toString());
    }
    Map<String, Long> byStatus = new LinkedHashMap<>();
    for (JobStatus s : JobStatus.values()) {
      long n = counts == null ? 0 : counts.getOrDefault(s.wire(), 0L);
      boolean gangOnly =
          s == JobStatus.RESERVED || s == JobStatus.PREEMPTING || s == JobStatus.PREEMPTED;
      if (n != 0 || !gangOnly) {
        byStatus.put(s.wire(), n);
      }
    }
    v.put("counts", byStatus);
    return v;
  }

  private Limits limitsOf(QueuesRecord r) {
    boolean paused = r.getPausedAt() != null;
    if (r.getOverriddenAt() != null) {
      return new Limits(r.getName(), r.getMaxRunning(), r.getMaxRunningPerKey(), paused);
    }
    return configured(r.getName(), paused);
  }

  private Limits configured(String name, boolean paused) {
    SchedulerProperties.Queue q = properties.queues().get(name);
    return new Limits(
        name, q == null ? null : q.maxRunning(), q == null ? null : q.maxRunningPerKey(), paused);
  }
}
