package io.workron.bench;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code --preload-finished N --preload-backlog M}: before any measured phase, fills the stack's
 * own tables the way a long-lived installation has them, so every phase runs against large tables.
 *
 * <ul>
 *   <li>N finished jobs (one in twenty failed), each with one attempt and an output tail, finished
 *       within the last hour (inside any retention period, so the pruner leaves them alone);
 *   <li>M pending jobs in queue {@value #BACKLOG_QUEUE}, which is paused first: a backlog that
 *       every claim has to pass over, older than (so ordered before) every job the bench submits.
 * </ul>
 *
 * Rows are written in chunks of {@value #CHUNK}, each its own transaction; then the three tables
 * are vacuumed and analyzed, as autovacuum would have done long ago in such an installation.
 */
final class Preload {

  static final String BACKLOG_QUEUE = "bench-backlog";
  static final String ID_PREFIX = "bench-preload-";
  private static final int CHUNK = 100_000;
  private static final Logger log = LoggerFactory.getLogger(Preload.class);

  /**
   * @param backlogPendingAtEnd backlog jobs still pending after the last phase (-1: not read)
   */
  record Result(long finished, long backlog, double seconds, long backlogPendingAtEnd) {

    Result withBacklogPendingAtEnd(long n) {
      return new Result(finished, backlog, seconds, n);
    }
  }

  private final String jdbcUrl;
  private final String user;
  private final String password;

  Preload(String jdbcUrl, String user, String password) {
    this.jdbcUrl = jdbcUrl;
    this.user = user;
    this.password = password;
  }

  Result run(long finished, long backlog) {
    long t0 = System.nanoTime();
    try (Connection c = DriverManager.getConnection(jdbcUrl, user, password)) {
      c.setAutoCommit(false);
      if (backlog > 0) {
        // paused before its jobs exist, so no worker ever runs one
        try (PreparedStatement pause =
            c.prepareStatement(
                "insert into queues (name, paused_at) values (?, now()) "
                    + "on conflict (name) do update set paused_at = now()")) {
          pause.setString(1, BACKLOG_QUEUE);
          pause.executeUpdate();
        }
        c.commit();
      }
      for (long from = 0; from < finished; from += CHUNK) {
        long to = Math.min(finished, from + CHUNK);
        insertFinished(c, from, to, finished);
        c.commit();
        log.info("preload: {} of {} finished jobs", to, finished);
      }
      for (long from = 0; from < backlog; from += CHUNK) {
        long to = Math.min(backlog, from + CHUNK);
        insertBacklog(c, from, to, backlog);
        c.commit();
        log.info("preload: {} of {} backlog jobs", to, backlog);
      }
      c.setAutoCommit(true);
      try (Statement st = c.createStatement()) {
        log.info("preload: vacuum analyze");
        st.execute("vacuum (analyze) jobs, job_attempts, job_outputs");
      }
    } catch (SQLException e) {
      throw new BenchFailure("preload: PostgreSQL error: " + e.getMessage(), e);
    }
    Result r = new Result(finished, backlog, (System.nanoTime() - t0) / 1e9, -1);
    log.info(
        "preload: {} finished and {} backlog jobs in {} s",
        finished,
        backlog,
        String.format("%.1f", r.seconds()));
    return r;
  }

  /** How many backlog jobs are still pending: all of them, unless a paused queue ran some. */
  long backlogStillPending() {
    try (Connection c = DriverManager.getConnection(jdbcUrl, user, password);
        PreparedStatement st =
            c.prepareStatement(
                "select count(*) from jobs where queue_name = ? and status = 'pending'")) {
      st.setString(1, BACKLOG_QUEUE);
      try (java.sql.ResultSet rs = st.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    } catch (SQLException e) {
      throw new BenchFailure("preload: PostgreSQL error: " + e.getMessage(), e);
    }
  }

  /** Jobs {@code from} (inclusive) to {@code to} (exclusive), spread over the last hour. */
  private static void insertFinished(Connection c, long from, long to, long total)
      throws SQLException {
    // g runs over the chunk; t is when the job finished (all within the last hour), its attempt
    // 50 ms long
    String series =
        "from (select g, now() - interval '1 hour' + (g::float8 / "
            + total
            + ") * interval '59 minutes' as t from generate_series(?::bigint, ?::bigint) g) s";
    try (PreparedStatement jobs =
            c.prepareStatement(
                "insert into jobs (id, command, status, priority, queue_name, max_retries, attempt,"
                    + " worker_id, worker_incarnation, created_at, run_at, dispatched_at,"
                    + " started_at, finished_at, exit_code, failure_reason) "
                    + "select '"
                    + ID_PREFIX
                    + "f-' || g, 'echo preloaded ' || g,"
                    + " case when g % 20 = 0 then 'failed' else 'done' end, 0, 'default', 0, 1,"
                    + " 'bench-preload-worker', 'preload', t - interval '60 milliseconds',"
                    + " t - interval '60 milliseconds', t - interval '55 milliseconds',"
                    + " t - interval '50 milliseconds', t,"
                    + " case when g % 20 = 0 then 1 else 0 end,"
                    + " case when g % 20 = 0 then 'exit code 1' end "
                    + series);
        PreparedStatement attempts =
            c.prepareStatement(
                "insert into job_attempts (job_id, attempt, worker_id, incarnation,"
                    + " dispatched_at, started_at, finished_at, exit_code, outcome, reason) "
                    + "select '"
                    + ID_PREFIX
                    + "f-' || g, 1, 'bench-preload-worker', 'preload',"
                    + " t - interval '55 milliseconds', t - interval '50 milliseconds', t,"
                    + " case when g % 20 = 0 then 1 else 0 end,"
                    + " case when g % 20 = 0 then 'failed' else 'succeeded' end,"
                    + " case when g % 20 = 0 then 'exit code 1' end "
                    + series);
        PreparedStatement outputs =
            c.prepareStatement(
                "insert into job_outputs (job_id, attempt, output, truncated) "
                    + "select '"
                    + ID_PREFIX
                    + "f-' || g, 1, 'preloaded ' || g || chr(10), false "
                    + series)) {
      for (PreparedStatement st : new PreparedStatement[] {jobs, attempts, outputs}) {
        st.setLong(1, from);
        st.setLong(2, to - 1);
        st.executeUpdate();
      }
    }
  }

  private static void insertBacklog(Connection c, long from, long to, long total)
      throws SQLException {
    try (PreparedStatement st =
        c.prepareStatement(
            "insert into jobs (id, command, status, priority, queue_name, created_at, run_at) "
                + "select '"
                + ID_PREFIX
                + "b-' || g, 'echo backlog ' || g, 'pending', 0, ?,"
                + " now() - interval '1 hour' + (g::float8 / "
                + total
                + ") * interval '59 minutes',"
                + " now() - interval '1 hour' + (g::float8 / "
                + total
                + ") * interval '59 minutes' "
                + "from generate_series(?::bigint, ?::bigint) g")) {
      st.setString(1, BACKLOG_QUEUE);
      st.setLong(2, from);
      st.setLong(3, to - 1);
      st.executeUpdate();
    }
  }
}
