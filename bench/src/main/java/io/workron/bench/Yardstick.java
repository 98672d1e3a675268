package io.workron.bench;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Phase 3, the yardstick: how fast this PostgreSQL can hand out and complete jobs with nothing but
 * the textbook queue pattern. A table of N pending rows (id, status, payload, created_at) with a
 * partial index on pending rows; T threads each loop: claim up to B rows with {@code FOR UPDATE
 * SKIP LOCKED} in one statement and commit, then mark them done and commit (two transactions per
 * batch, like Workron's claim and its result). Everything lives in schema {@value #SCHEMA}, which
 * is dropped afterwards.
 */
final class Yardstick {

  static final String SCHEMA = "bench_yardstick";
  private static final String TABLE = SCHEMA + ".jobs";
  private static final Logger log = LoggerFactory.getLogger(Yardstick.class);

  record Result(long rows, int threads, int batch, double seconds) {
    double rowsPerSecond() {
      return rows / seconds;
    }
  }

  private final String jdbcUrl;
  private final String user;
  private final String password;

  Yardstick(String jdbcUrl, String user, String password) {
    this.jdbcUrl = jdbcUrl;
    this.user = user;
    this.password = password;
  }

  Result run(int rows, int threads, int batch, long deadlineNanos) {
    try (Connection admin = connect()) {
      admin.setAutoCommit(true);
      try {
        prepare(admin, rows);
        return measure(rows, threads, batch, deadlineNanos, admin);
      } finally {
        try (Statement st = admin.createStatement()) {
          st.execute("DROP SCHEMA IF EXISTS " + SCHEMA + " CASCADE");
        }
      }
    } catch (SQLException e) {
      throw new BenchFailure("yardstick: PostgreSQL error: " + e.getMessage(), e);
    }
  }

  private void prepare(Connection admin, int rows) throws SQLException {
    log.info("yardstick: filling {} with {} pending rows", TABLE, rows);
    try (Statement st = admin.createStatement()) {
      st.execute("DROP SCHEMA IF EXISTS " + SCHEMA + " CASCADE");
      st.execute("CREATE SCHEMA " + SCHEMA);
      st.execute(
          "CREATE TABLE "
              + TABLE
              + " (id VARCHAR(128) PRIMARY KEY, status VARCHAR(16) NOT NULL,"
              + " payload TEXT NOT NULL, created_at TIMESTAMP WITH TIME ZONE NOT NULL)");
    }
    // ids shaped like Workron's (job- and 36 characters), in creation order
    try (PreparedStatement fill =
        admin.prepareStatement(
            "INSERT INTO "
                + TABLE
                + " SELECT 'job-' || lpad(g::text, 36, '0'), 'pending', 'true', now()"
                + " FROM generate_series(1, ?) g")) {
      fill.setInt(1, rows);
      fill.executeUpdate();
    }
    try (Statement st = admin.createStatement()) {
      st.execute("CREATE INDEX jobs_pending_idx ON " + TABLE + " (id) WHERE status = 'pending'");
      st.execute("VACUUM ANALYZE " + TABLE);
    }
  }

  private Result measure(int rows, int threads, int batch, long deadlineNanos, Connection admin)
      throws SQLException {
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    List<Connection> connections = new ArrayList<>();
    try {
      for (int t = 0; t < threads; t++) {
        connections.add(connect());
      }
      CountDownLatch go = new CountDownLatch(1);
      List<Future<Long>> loops = new ArrayList<>();
      for (Connection c : connections) {
        loops.add(pool.submit(() -> loop(c, batch, deadlineNanos, go)));
      }
      long start = System.nanoTime();
      go.countDown();
      long total = 0;
      for (Future<Long> f : loops) {
        long left = Math.max(1, deadlineNanos - System.nanoTime());
        total += f.get(left, TimeUnit.NANOSECONDS);
      }
      double seconds = (System.nanoTime() - start) / 1e9;
      long done = count(admin, "done");
      if (total != rows || done != rows) {
        throw new BenchFailure(
            "yardstick: completed " + total + " rows (" + done + " done) out of " + rows);
      }
      return new Result(rows, threads, batch, seconds);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof BenchFailure bf) {
        throw bf;
      }
      throw new BenchFailure("yardstick: a claim loop failed: " + cause, cause);
    } catch (TimeoutException e) {
      throw new BenchFailure("yardstick: timed out before all rows were claimed and completed", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new BenchFailure("yardstick: interrupted", e);
    } finally {
      pool.shutdownNow();
      for (Connection c : connections) {
        try {
          c.close();
        } catch (SQLException e) {
          log.debug("closing a yardstick connection: {}", e.toString());
        }
      }
    }
  }

  private static long loop(Connection c, int batch, long deadlineNanos, CountDownLatch go)
      throws SQLException, InterruptedException {
    c.setAutoCommit(false);
    long completed = 0;
    try (PreparedStatement claim =
            c.prepareStatement(
                "WITH c AS (SELECT id FROM "
                    + TABLE
                    + " WHERE status = 'pending' ORDER BY id LIMIT ? FOR UPDATE SKIP LOCKED)"
                    + " UPDATE "
                    + TABLE
                    + " t SET status = 'running' FROM c WHERE t.id = c.id RETURNING t.id");
        PreparedStatement finish =
            c.prepareStatement(
                "UPDATE "
                    + TABLE
                    + " SET status = 'done' WHERE id = ANY (?) AND status = 'running'")) {
      claim.setInt(1, batch);
      go.await();
      while (true) {
        if (System.nanoTime() - deadlineNanos > 0) {
          throw new BenchFailure("yardstick: timed out");
        }
        List<String> ids = new ArrayList<>(batch);
        try (ResultSet rs = claim.executeQuery()) {
          while (rs.next()) {
            ids.add(rs.getString(1));
          }
        }
        c.commit();
        if (ids.isEmpty()) {
          // whatever is still pending is locked by another loop, which will complete it
          return completed;
        }
        finish.setArray(1, c.createArrayOf("varchar", ids.toArray()));
        completed += finish.executeUpdate();
        c.commit();
      }
    }
  }

  private static long count(Connection admin, String status) throws SQLException {
    try (PreparedStatement st =
        admin.prepareStatement("SELECT count(*) FROM " + TABLE + " WHERE status = ?")) {
      st.setString(1, status);
      try (ResultSet rs = st.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  private Connection connect() throws SQLException {
    return DriverManager.getConnection(jdbcUrl, user, password);
  }
}
