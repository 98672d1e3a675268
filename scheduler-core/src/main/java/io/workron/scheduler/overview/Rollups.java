package io.workron.scheduler.overview;

import java.time.Clock;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jooq.DSLContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * Per-minute figures of the jobs that ended (done, failed, cancelled; submit-to-start and run times
 * at the median and the 95th percentile), folded into {@code job_rollups} once each minute is over:
 * what the dashboard's overview draws, with no metrics store. The reaper's leader folds; folding a
 * minute twice writes the same row, so a change of leader loses or doubles nothing.
 */
@Component
public class Rollups {

  private static final Logger log = LoggerFactory.getLogger(Rollups.class);

  /** How far back a first fold reaches, and how long rows are kept. */
  static final Duration BACKFILL = Duration.ofHours(1);

  static final Duration KEEP = Duration.ofDays(7);

  /** A minute is folded this long after it ended, once its last results are committed. */
  static final Duration SETTLE = Duration.ofSeconds(5);

  /**
   * Each fold also folds again this many minutes before: a result applied late (a worker that
   * reconnected, a backlog after a restart) still counts in the minute it finished.
   */
  static final Duration REFOLD = Duration.ofMinutes(3);

  private final DSLContext db;
  private final Clock clock;
  private OffsetDateTime foldedUntil;

  Rollups(DSLContext db, Clock clock) {
    this.db = db;
    this.clock = clock;
  }

  /** Folds every minute that ended since the last fold; cheap when there is none. */
  public synchronized void foldIfDue() {
    OffsetDateTime now = OffsetDateTime.now(clock).withOffsetSameInstant(ZoneOffset.UTC);
    OffsetDateTime until = now.minus(SETTLE).truncatedTo(ChronoUnit.MINUTES);
    OffsetDateTime from = foldedUntil == null ? until.minus(BACKFILL) : foldedUntil;
    if (!until.isAfter(from)) {
      return;
    }
    try {
      fold(from, until);
      db.execute("delete from job_rollups where minute < ?::timestamptz", now.minus(KEEP));
      foldedUntil = until;
    } catch (RuntimeException e) {
      log.warn("could not fold the job figures from {} to {}: {}", from, until, e.toString());
    }
  }

  /** Folds the minutes in {@code [from, until)} again, whenever they are. */
  public void fold(OffsetDateTime from, OffsetDateTime until) {
    db.execute(
        "insert into job_rollups (minute, done, failed, cancelled, wait_p50_ms, wait_p95_ms,"
            + " run_p50_ms, run_p95_ms) "
            + "select date_trunc('minute', finished_at), "
            + " count(*) filter (where status = 'done'), "
            + " count(*) filter (where status = 'failed'), "
            + " count(*) filter (where status = 'cancelled'), "
            + " percentile_cont(0.5) within group (order by extract(epoch from (started_at -"
            + " greatest(created_at, run_at))) * 1000) filter (where started_at is not null), "
            + " percentile_cont(0.95) within group (order by extract(epoch from (started_at -"
            + " greatest(created_at, run_at))) * 1000) filter (where started_at is not null), "
            + " percentile_cont(0.5) within group (order by extract(epoch from (finished_at -"
            + " started_at)) * 1000) filter (where started_at is not null), "
            + " percentile_cont(0.95) within group (order by extract(epoch from (finished_at -"
            + " started_at)) * 1000) filter (where started_at is not null) "
            + "from jobs where status in ('done', 'failed', 'cancelled') "
            + " and finished_at >= ?::timestamptz and finished_at < ?::timestamptz "
            + "group by 1 "
            + "on conflict (minute) do update set done = excluded.done, failed = excluded.failed,"
            + " cancelled = excluded.cancelled, wait_p50_ms = excluded.wait_p50_ms,"
            + " wait_p95_ms = excluded.wait_p95_ms, run_p50_ms = excluded.run_p50_ms,"
            + " run_p95_ms = excluded.run_p95_ms",
        from,
        until);
  }

  /** The last {@code minutes} folded minutes, oldest first, a row for each (zeros when none). */
  public List<Map<String, Object>> last(int minutes) {
    OffsetDateTime end =
        OffsetDateTime.now(clock)
            .withOffsetSameInstant(ZoneOffset.UTC)
            .minus(SETTLE)
            .truncatedTo(ChronoUnit.MINUTES);
    OffsetDateTime start = end.minusMinutes(minutes);
    Map<OffsetDateTime, Map<String, Object>> found = new LinkedHashMap<>();
    db.resultQuery(
            "select minute, done, failed, cancelled, wait_p50_ms, wait_p95_ms, run_p50_ms,"
                + " run_p95_ms from job_rollups where minute >= ?::timestamptz and minute < ?::timestamptz"
                + " order by minute",
            start,
            end)
        .forEach(
            r -> {
              Map<String, Object> m = new LinkedHashMap<>();
              OffsetDateTime minute =
                  r.get(0, OffsetDateTime.class).withOffsetSameInstant(ZoneOffset.UTC);
              m.put("minute", minute.toString());
              m.put("done", r.get(1, Integer.class));
              m.put("failed", r.get(2, Integer.class));
              m.put("cancelled", r.get(3, Integer.class));
              m.put("wait_p50_ms", r.get(4, Double.class));
              m.put("wait_p95_ms", r.get(5, Double.class));
              m.put("run_p50_ms", r.get(6, Double.class));
              m.put("run_p95_ms", r.get(7, Double.class));
              found.put(minute, m);
            });
    List<Map<String, Object>> rows = new ArrayList<>();
    for (OffsetDateTime m = start; m.isBefore(end); m = m.plusMinutes(1)) {
      Map<String, Object> row = found.get(m);
      if (row == null) {
        row = new LinkedHashMap<>();
        row.put("minute", m.toString());
        row.put("done", 0);
        row.put("failed", 0);
        row.put("cancelled", 0);
        row.put("wait_p50_ms", null);
        row.put("wait_p95_ms", null);
        row.put("run_p50_ms", null);
        row.put("run_p95_ms", null);
      }
      rows.add(row);
    }
    return rows;
  }
}
