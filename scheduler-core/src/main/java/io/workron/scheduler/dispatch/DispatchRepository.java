package io.workron.scheduler.dispatch;

import static io.workron.scheduler.db.Tables.JOB_ATTEMPTS;

import io.workron.scheduler.core.DispatchPlanner.WorkerCapacity;
import io.workron.scheduler.lifecycle.JobTransitions;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import org.jooq.DSLContext;
import org.springframework.stereotype.Repository;

/** The SQL of a dispatch round. Every method runs inside the caller's transaction. */
@Repository
public class DispatchRepository {

  record PendingJob(String id, long vramMb, long memoryMb, String queue, String key) {}

  /** Running jobs now, per queue and per (queue, key), of the given queues. */
  record Running(
      java.util.Map<String, Integer> perQueue, java.util.Map<List<String>, Integer> perKey) {}

  /**
   * What the jobs on the workers {@code ?} (an array) use: slots, vram and memory of their running
   * attempts, and of gang tasks reserved on them or ordered stopped and not yet drained. Binds the
   * worker ids twice; columns: worker id, count, vram, memory.
   */
  public static final String USAGE =
      "select worker_id, count(*), coalesce(sum(vram_mb), 0), coalesce(sum(memory_mb), 0) from ("
          + "  select worker_id, vram_mb, memory_mb from jobs "
          + "  where status = 'running' and worker_id = any(?::varchar[]) "
          + "  union all select worker_id, vram_mb, memory_mb from jobs "
          + "  where status in ('reserved', 'preempting') and worker_id = any(?::varchar[])"
          + ") held group by worker_id";

  private final DSLContext db;

  DispatchRepository(DSLContext db) {
    this.db = db;
  }

  /**
   * Locks the rows of live workers that are not drained by an operator (skipping those another
   * replica is filling right now) and reads what their running jobs use. Live: active, and its
   * heartbeats partition not read past its last heartbeat by {@code offlineAfter} (broker time, as
   * the reaper judges).
   */
  List<WorkerCapacity> lockWorkersWithCapacity(java.time.Duration offlineAfter) {
    return lockWorkersWithCapacity(offlineAfter, false);
  }

  /**
   * As {@link #lockWorkersWithCapacity(java.time.Duration)}; {@code forGangs} (the admission loop,
   * which places whole gangs and so must see every worker) also locks the workers held for a gang,
   * and waits for rows another replica is filling instead of skipping them.
   */
  public List<WorkerCapacity> lockWorkersWithCapacity(
      java.time.Duration offlineAfter, boolean forGangs) {
    record Locked(String id, String incarnation, int slots, long vramMb, long memoryMb) {}
    List<Locked> locked =
        db.resultQuery(
                "select w.id, w.incarnation, w.slots, w.vram_mb, w.memory_mb from workers w "
                    + "cross join lateral ("
                    + io.workron.scheduler.liveness.Watermarks.EVIDENCE
                    + ") e "
                    + "where w.status = 'active' and w.cordoned_at is null "
                    // kept free for the gang that has waited longest (gangs.GangAdmission)
                    + (forGangs ? "" : "and w.held_for_gang is null ")
                    + "and (e.watermark is null "
                    + "  or e.watermark <= greatest(w.last_heartbeat_at, e.resumed_at) + ?::interval) "
                    + "order by w.id for update of w"
                    + (forGangs ? "" : " skip locked"),
                offlineAfter.toMillis() + " milliseconds")
            .fetch(
                r ->
                    new Locked(
                        r.get(0, String.class),
                        r.get(1, String.class),
                        r.get(2, Integer.class),
                        r.get(3, Long.class),
                        r.get(4, Long.class)));
    if (locked.isEmpty()) {
      return List.of();
    }
    // A separate statement, so its snapshot is taken after the locks were granted: it sees every
    // dispatch another replica committed to these workers before we could lock them.
    java.util.Map<String, long[]> usage = new java.util.HashMap<>();
    db.resultQuery(
            USAGE,
            locked.stream().map(Locked::id).toArray(String[]::new),
            locked.stream().map(Locked::id).toArray(String[]::new))
        .forEach(
            r ->
                usage.put(
                    r.get(0, String.class),
                    new long[] {r.get(1, Long.class), r.get(2, Long.class), r.get(3, Long.class)}));
    return locked.stream()
        .map(
            w -> {
              long[] u = usage.getOrDefault(w.id(), new long[3]);
              return new WorkerCapacity(
                  w.id(),
                  w.incarnation(),
                  w.slots(),
                  w.vramMb(),
                  w.memoryMb(),
                  (int) u[0],
                  u[1],
                  u[2]);
            })
        .toList();
  }

  /**
   * Claims up to {@code limit} runnable jobs, highest priority first, then oldest, among those that
   * fit one of {@code shapes} (the free {vram, memory} of a worker with a free slot) and are not in
   * {@code alreadyClaimed}. Jobs no worker can take now are passed over, so they never stop the
   * jobs behind them.
   */
  List<PendingJob> claimPending(
      OffsetDateTime now,
      int limit,
      long[][] shapes,
      java.util.Collection<String> alreadyClaimed,
      java.util.Collection<String> closedQueues,
      List<List<String>> fullKeys) {
    Long[] vram = new Long[shapes.length];
    Long[] memory = new Long[shapes.length];
    for (int i = 0; i < shapes.length; i++) {
      vram[i] = shapes[i][0];
      memory[i] = shapes[i][1];
    }
    // the conditions every claimed job meets, on alias j
    String fits =
        "j.status = 'pending' and j.run_at <= ?::timestamptz "
            + "and exists (select 1 from unnest(?::bigint[], ?::bigint[]) as w(vram, memory) "
            + "  where j.vram_mb <= w.vram and j.memory_mb <= w.memory) "
            + "and j.id <> all(?::varchar[]) "
            // keys at their queue's max_running_per_key
            + "and not exists (select 1 from unnest(?::varchar[], ?::varchar[]) as f(q, k) "
            + "  where f.q = j.queue_name and f.k = j.concurrency_key) ";
    String order = "order by priority desc, run_at, id limit ? ";
    List<Object> fitsArgs =
        List.of(
            now,
            vram,
            memory,
            alreadyClaimed.toArray(String[]::new),
            fullKeys.stream().map(k -> k.get(0)).toArray(String[]::new),
            fullKeys.stream().map(k -> k.get(1)).toArray(String[]::new),
            limit);
    String sql;
    List<Object> args = new ArrayList<>();
    if (closedQueues.isEmpty()) {
      // every queue is open: one walk of jobs_pending_idx in claim order
      sql =
          "select id, vram_mb, memory_mb, queue_name, concurrency_key from jobs j where "
              + fits
              + order
              + "for update skip locked";
      args.addAll(fitsArgs);
    } else {
      // Paused queues, and queues at max_running, are passed over without reading their rows:
      // walking the global order and filtering by queue read a closed queue's whole backlog on
      // every claim (100,000 rows, 119 ms). The open queues with pending jobs come from a skip
      // scan of jobs_pending_queue_idx, one descent per queue; each gives its first rows in claim
      // order (0.9 ms), and the best of those are taken.
      //
      // The queue is matched as a range (>= and <=, the same rows as =) and ordered by first, so
      // that only jobs_pending_queue_idx has the order asked for: matched with =, the planner
      // dropped the queue from the order, guessed that most pending rows were in it, and walked
      // jobs_pending_idx filtering by queue, which is the walk this branch exists to avoid.
      sql =
          "with recursive queues(name) as ("
              + "  select min(queue_name) from jobs where status = 'pending' "
              + "  union all "
              + "  select (select min(queue_name) from jobs "
              + "    where status = 'pending' and queue_name > q.name) "
              + "  from queues q where q.name is not null) "
              + "select c.id, c.vram_mb, c.memory_mb, c.queue_name, c.concurrency_key "
              + "from queues q cross join lateral ("
              + "  select id, vram_mb, memory_mb, queue_name, concurrency_key, priority, run_at "
              + "  from jobs j where j.queue_name >= q.name and j.queue_name <= q.name and "
              + fits
              + "order by queue_name, priority desc, run_at, id limit ? "
              + "  for update skip locked) c "
              + "where q.name is not null and q.name <> all(?::varchar[]) "
              + "order by c.priority desc, c.run_at, c.id limit ?";
      args.addAll(fitsArgs);
      args.add(closedQueues.toArray(String[]::new));
      args.add(limit);
    }
    return db.resultQuery(sql, args.toArray())
        .fetch(
            r ->
                new PendingJob(
                    r.get(0, String.class),
                    r.get(1, Long.class),
                    r.get(2, Long.class),
                    r.get(3, String.class),
                    r.get(4, String.class)));
  }

  /** What runs now in {@code queues}, per queue and per (queue, key). */
  Running running(java.util.Collection<String> queues) {
    java.util.Map<String, Integer> perQueue = new java.util.HashMap<>();
    java.util.Map<List<String>, Integer> perKey = new java.util.HashMap<>();
    if (queues.isEmpty()) {
      return new Running(perQueue, perKey);
    }
    db.resultQuery(
            "select queue_name, concurrency_key, count(*) from jobs "
                + "where status = 'running' and queue_name = any(?::varchar[]) "
                + "group by queue_name, concurrency_key",
            (Object) queues.toArray(String[]::new))
        .forEach(
            r -> {
              String queue = r.get(0, String.class);
              String key = r.get(1, String.class);
              int n = r.get(2, Integer.class);
              perQueue.merge(queue, n, Integer::sum);
              if (key != null) {
                perKey.put(List.of(queue, key), n);
              }
            });
    return new Running(perQueue, perKey);
  }

  /** The saved checkpoint (base64) of each of {@code started} that has one. */
  java.util.Map<String, String> checkpoints(List<JobTransitions.Moved> started) {
    java.util.Map<String, String> saved = new java.util.HashMap<>();
    // most jobs never saved one: the table is read only for those that did
    String[] ids =
        started.stream()
            .filter(JobTransitions.Moved::hasCheckpoint)
            .map(JobTransitions.Moved::jobId)
            .toArray(String[]::new);
    if (ids.length == 0) {
      return saved;
    }
    db.resultQuery(
            "select job_id, encode(data, 'base64') from checkpoints where job_id = any(?::varchar[])",
            (Object) ids)
        // PostgreSQL breaks base64 into lines of 76 characters
        .forEach(r -> saved.put(r.get(0, String.class), r.get(1, String.class).replace("\n", "")));
    return saved;
  }

  /** Opens the attempt rows of jobs just claimed. */
  void openAttempts(List<JobTransitions.Moved> started, OffsetDateTime now) {
    if (started.isEmpty()) {
      return;
    }
    var insert =
        db.insertInto(
            JOB_ATTEMPTS,
            JOB_ATTEMPTS.JOB_ID,
            JOB_ATTEMPTS.ATTEMPT,
            JOB_ATTEMPTS.WORKER_ID,
            JOB_ATTEMPTS.INCARNATION,
            JOB_ATTEMPTS.DISPATCHED_AT);
    for (JobTransitions.Moved s : started) {
      insert = insert.values(s.jobId(), s.attempt(), s.workerId(), s.incarnation(), now);
    }
    insert.onConflictDoNothing().execute();
  }
}
