package io.workron.scheduler.dispatch;

import io.workron.scheduler.core.DispatchPlanner.Placement;
import io.workron.scheduler.core.DispatchPlanner.WorkerCapacity;
import java.time.OffsetDateTime;
import java.util.List;
import org.jooq.DSLContext;
import org.springframework.stereotype.Repository;

/** The SQL of a dispatch round. Every method runs inside the caller's transaction. */
@Repository
class DispatchRepository {

  record PendingJob(String id, long vramMb, long memoryMb) {}

  record Started(
      String jobId,
      int attempt,
      String workerId,
      String incarnation,
      String command,
      String queueName,
      OffsetDateTime createdAt,
      long vramMb,
      long memoryMb) {}

  private final DSLContext db;

  DispatchRepository(DSLContext db) {
    this.db = db;
  }

  /**
   * Locks the rows of live workers (skipping those another replica is filling right now) and reads
   * what their running jobs use. Live: active, and its heartbeats partition not read past its last
   * heartbeat by {@code offlineAfter} (broker time, as the reaper judges).
   */
  List<WorkerCapacity> lockWorkersWithCapacity(java.time.Duration offlineAfter) {
    record Locked(String id, String incarnation, int slots, long vramMb, long memoryMb) {}
    List<Locked> locked =
        db.resultQuery(
                "select w.id, w.incarnation, w.slots, w.vram_mb, w.memory_mb from workers w "
                    + "cross join lateral ("
                    + io.workron.scheduler.liveness.Watermarks.EVIDENCE
                    + ") e "
                    + "where w.status = 'active' "
                    + "and (e.watermark is null "
                    + "  or e.watermark <= greatest(w.last_heartbeat_at, e.resumed_at) + ?::interval) "
                    + "order by w.id for update of w skip locked",
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
            "select worker_id, count(*), coalesce(sum(vram_mb), 0), coalesce(sum(memory_mb), 0) "
                + "from jobs where status = 'running' and worker_id = any(?::varchar[]) "
                + "group by worker_id",
            (Object) locked.stream().map(Locked::id).toArray(String[]::new))
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
      OffsetDateTime now, int limit, long[][] shapes, java.util.Collection<String> alreadyClaimed) {
    Long[] vram = new Long[shapes.length];
    Long[] memory = new Long[shapes.length];
    for (int i = 0; i < shapes.length; i++) {
      vram[i] = shapes[i][0];
      memory[i] = shapes[i][1];
    }
    return db.resultQuery(
            "select id, vram_mb, memory_mb from jobs j "
                + "where status = 'pending' and run_at <= ?::timestamptz "
                + "and exists (select 1 from unnest(?::bigint[], ?::bigint[]) as w(vram, memory) "
                + "  where j.vram_mb <= w.vram and j.memory_mb <= w.memory) "
                + "and j.id <> all(?::varchar[]) "
                + "order by priority desc, run_at, id limit ? for update skip locked",
            now,
            vram,
            memory,
            alreadyClaimed.toArray(String[]::new),
            limit)
        .fetch(
            r ->
                new PendingJob(r.get(0, String.class), r.get(1, Long.class), r.get(2, Long.class)));
  }

  /** Moves placed jobs to running with the next attempt number, and opens their attempt rows. */
  List<Started> markRunning(List<Placement> placements, OffsetDateTime now) {
    String[] ids = new String[placements.size()];
    String[] workers = new String[placements.size()];
    String[] incarnations = new String[placements.size()];
    for (int i = 0; i < placements.size(); i++) {
      ids[i] = placements.get(i).jobId();
      workers[i] = placements.get(i).workerId();
      incarnations[i] = placements.get(i).incarnation();
    }
    List<Started> started =
        db.resultQuery(
                "update jobs j set status = 'running', attempt = j.attempt + 1, "
                    + "  worker_id = v.worker_id, worker_incarnation = v.incarnation, "
                    + "  dispatched_at = ?::timestamptz, started_at = null, last_heartbeat_at = null, "
                    + "  exit_code = null, wait_reason = null, unschedulable_since = null, "
                    + "  dispatch_published_at = null "
                    + "from unnest(?::varchar[], ?::varchar[], ?::varchar[]) "
                    + "  as v(id, worker_id, incarnation) "
                    + "where j.id = v.id and j.status = 'pending' "
                    + "returning j.id, j.attempt, j.worker_id, j.worker_incarnation, j.command, "
                    + "  j.queue_name, j.created_at, j.vram_mb, j.memory_mb",
                now,
                ids,
                workers,
                incarnations)
            .fetch(
                r ->
                    new Started(
                        r.get(0, String.class),
                        r.get(1, Integer.class),
                        r.get(2, String.class),
                        r.get(3, String.class),
                        r.get(4, String.class),
                        r.get(5, String.class),
                        r.get(6, OffsetDateTime.class),
                        r.get(7, Long.class),
                        r.get(8, Long.class)));
    String[] sIds = new String[started.size()];
    Integer[] attempts = new Integer[started.size()];
    String[] sWorkers = new String[started.size()];
    String[] sIncs = new String[started.size()];
    for (int i = 0; i < started.size(); i++) {
      sIds[i] = started.get(i).jobId();
      attempts[i] = started.get(i).attempt();
      sWorkers[i] = started.get(i).workerId();
      sIncs[i] = started.get(i).incarnation();
    }
    db.execute(
        "insert into job_attempts (job_id, attempt, worker_id, incarnation, dispatched_at) "
            + "select v.*, ?::timestamptz from unnest(?::varchar[], ?::int[], ?::varchar[], ?::varchar[]) "
            + "  as v(job_id, attempt, worker_id, incarnation) on conflict do nothing",
        now,
        sIds,
        attempts,
        sWorkers,
        sIncs);
    return started;
  }
}
