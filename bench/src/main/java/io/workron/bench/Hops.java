package io.workron.bench;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.Map;
import org.HdrHistogram.Histogram;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where a latency run's submit→start went, hop by hop, from the times scheduler-core recorded for
 * each job's first attempt: {@code stored} is {@code jobs.created_at} (the start of the ingest
 * transaction that stored it), {@code claimed} is {@code job_attempts.dispatched_at} (the start of
 * the dispatch round that claimed it), {@code started} is the worker's start of the command. All
 * three clocks are this machine's when the stack runs here.
 */
record Hops(Percentiles submitToStored, Percentiles storedToClaimed, Percentiles claimedToStarted) {

  private static final Logger log = LoggerFactory.getLogger(Hops.class);
  private static final long MAX_MICROS = 3_600_000_000L;

  /**
   * Reads the stored and claimed times of the done jobs of {@code jobs}; null when the target's
   * database is not known to the bench or cannot be read.
   */
  static Hops of(Target target, JobSet jobs, long[] submitMicros) {
    if (target.jdbcUrl() == null) {
      return null;
    }
    Map<String, Integer> index = new HashMap<>();
    for (int i = 0; i < jobs.size(); i++) {
      if (jobs.terminal(i) == JobSet.DONE && jobs.startedAtMicros(i) != JobSet.UNKNOWN) {
        index.put(jobs.id(i), i);
      }
    }
    Histogram toStored = new Histogram(MAX_MICROS, 3);
    Histogram toClaimed = new Histogram(MAX_MICROS, 3);
    Histogram toStarted = new Histogram(MAX_MICROS, 3);
    try (Connection c =
            DriverManager.getConnection(
                target.jdbcUrl(), target.jdbcUser(), target.jdbcPassword());
        PreparedStatement s =
            c.prepareStatement(
                "select j.id, (extract(epoch from j.created_at) * 1000000)::bigint, "
                    + "(extract(epoch from a.dispatched_at) * 1000000)::bigint "
                    + "from jobs j join job_attempts a on a.job_id = j.id and a.attempt = 1 "
                    + "where j.id = any(?)")) {
      s.setArray(1, c.createArrayOf("varchar", index.keySet().toArray()));
      try (ResultSet r = s.executeQuery()) {
        while (r.next()) {
          int i = index.get(r.getString(1));
          long stored = r.getLong(2);
          long claimed = r.getLong(3);
          record(toStored, stored - submitMicros[i]);
          record(toClaimed, claimed - stored);
          record(toStarted, jobs.startedAtMicros(i) - claimed);
        }
      }
    } catch (SQLException e) {
      log.warn("the hops of submit→start could not be read: {}", e.toString());
      return null;
    }
    return new Hops(Percentiles.of(toStored), Percentiles.of(toClaimed), Percentiles.of(toStarted));
  }

  private static void record(Histogram h, long micros) {
    h.recordValue(Math.min(Math.max(micros, 0), MAX_MICROS));
  }

  Map<String, Object> json() {
    Map<String, Object> m = new java.util.LinkedHashMap<>();
    m.put("submit_to_stored_ms", submitToStored.toJson());
    m.put("stored_to_claimed_ms", storedToClaimed.toJson());
    m.put("claimed_to_started_ms", claimedToStarted.toJson());
    return m;
  }
}
