package io.workron.bench;

import io.workron.schemas.WireCodec;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code --pin-horizon 2m}: the MVCC-horizon trap. A session opens a {@code REPEATABLE READ}
 * transaction, reads once and then sits idle for the window, as a forgotten {@code BEGIN} or a long
 * analytics query does: no row that dies after its snapshot can be vacuumed meanwhile. A burn-down
 * runs across the window, sized to outlast it at the clean rate; the pinned rate counts the jobs
 * that finished inside the window. When the window ends the session rolls back, the burn-down
 * finishes, and a second burn-down of {@code --jobs} measures how far the rate came back.
 */
final class HorizonPin {

  private static final Logger log = LoggerFactory.getLogger(HorizonPin.class);

  /** The pinned burn-down holds this many times the jobs the clean rate finishes in the window. */
  private static final double OUTLAST = 1.25;

  /**
   * @param windowSeconds how long the snapshot was held
   * @param doneInWindow of those, how many finished while the snapshot was held
   * @param pinnedJobsPerSecond {@code doneInWindow} over the window (or over the part of it the
   *     burn-down lasted, if it finished first)
   * @param deadTuples dead rows per hot table just before the snapshot was released
   * @param burnDown the pinned burn-down, from its first submission to its last job
   * @param after the burn-down after the window
   */
  record Result(
      double windowSeconds,
      long doneInWindow,
      double pinnedJobsPerSecond,
      Map<String, Long> deadTuples,
      BurnDown.Result burnDown,
      BurnDown.Result after) {}

  private final Target target;
  private final WireCodec codec;
  private final Clock clock;

  HorizonPin(Target target, WireCodec codec, Clock clock) {
    this.target = target;
    this.codec = codec;
    this.clock = clock;
  }

  Result run(BurnDown.Result clean, Duration window, int afterJobs, long deadlineNanos) {
    int n =
        (int)
            Math.max(
                afterJobs, Math.ceil(clean.jobsPerSecond() * window.toMillis() / 1000.0 * OUTLAST));
    JobSet jobs = JobSet.fresh(n, clock);
    Map<String, Long> dead = new LinkedHashMap<>();
    long[] windowMicros = new long[2];
    AtomicReference<Throwable> pinFailed = new AtomicReference<>();
    Connection pin = null;
    try {
      pin = DriverManager.getConnection(target.jdbcUrl(), target.jdbcUser(), target.jdbcPassword());
      pin.setAutoCommit(false);
      pin.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
      try (Statement st = pin.createStatement();
          ResultSet rs =
              st.executeQuery(
                  "select count(*), (select backend_xmin from pg_stat_activity"
                      + " where pid = pg_backend_pid()) from workers")) {
        rs.next();
        if (rs.getString(2) == null) {
          throw new BenchFailure("pin-horizon: the pinning session holds no snapshot");
        }
        log.info("pin-horizon: snapshot held (xmin {}) for {}", rs.getString(2), window);
      }
    } catch (SQLException | RuntimeException e) {
      closeQuietly(pin);
      if (e instanceof BenchFailure f) {
        throw f;
      }
      throw new BenchFailure("pin-horizon: PostgreSQL error: " + e.getMessage(), e);
    }
    Connection held = pin;
    windowMicros[0] = JobSet.micros(clock.instant());
    long releaseAt = System.nanoTime() + window.toNanos();
    Thread releaser =
        new Thread(
            () -> {
              try {
                long left;
                while ((left = releaseAt - System.nanoTime()) > 0) {
                  TimeUnit.NANOSECONDS.sleep(left); // the window itself, not a wait for a result
                }
                dead.putAll(deadTuples(held));
                windowMicros[1] = JobSet.micros(clock.instant());
                held.rollback();
                log.info("pin-horizon: snapshot released; dead rows then: {}", dead);
              } catch (Throwable e) {
                pinFailed.set(e);
              } finally {
                closeQuietly(held);
              }
            },
            "bench-horizon-pin");
    releaser.setDaemon(true);
    releaser.start();
    BurnDown.Result pinned;
    try {
      pinned = new BurnDown(target, codec, clock).run("pinned burn-down", jobs, deadlineNanos);
    } finally {
      // the window runs out even when the burn-down finished first or failed
      BurnDown.join(releaser, deadlineNanos, "pin-horizon");
    }
    if (pinFailed.get() != null) {
      throw new BenchFailure("pin-horizon: the pinning session failed: " + pinFailed.get());
    }
    long done = 0;
    long lastInWindow = windowMicros[0];
    long first = Long.MAX_VALUE;
    for (int i = 0; i < jobs.size(); i++) {
      long f = jobs.finishedAtMicros(i);
      if (jobs.terminal(i) == JobSet.DONE) {
        first = Math.min(first, f);
      }
      if (jobs.terminal(i) == JobSet.DONE && f >= windowMicros[0] && f <= windowMicros[1]) {
        done++;
        lastInWindow = Math.max(lastInWindow, f);
      }
    }
    // if the burn-down ended before the window did, the rate is over the time it took
    long lastFinished = Long.MIN_VALUE;
    for (int i = 0; i < jobs.size(); i++) {
      lastFinished = Math.max(lastFinished, jobs.finishedAtMicros(i));
    }
    long spanMicros =
        lastFinished != JobSet.UNKNOWN && lastFinished < windowMicros[1]
            ? lastInWindow - windowMicros[0]
            : windowMicros[1] - windowMicros[0];
    double rate = spanMicros > 0 ? done / (spanMicros / 1e6) : Double.NaN;
    log.info(
        "pin-horizon: {} of {} jobs finished inside the window, the first {} s into it: {} jobs/s"
            + " (clean {} jobs/s)",
        done,
        pinned.jobs(),
        String.format("%.3f", (first - windowMicros[0]) / 1e6),
        String.format("%.1f", rate),
        String.format("%.1f", clean.jobsPerSecond()));
    BurnDown.Result after =
        new BurnDown(target, codec, clock).run("burn-down after the pin", afterJobs, deadlineNanos);
    return new Result((windowMicros[1] - windowMicros[0]) / 1e6, done, rate, dead, pinned, after);
  }

  private static void closeQuietly(Connection c) {
    if (c == null) {
      return;
    }
    try {
      c.close();
    } catch (SQLException ignored) {
      // the session ends with the connection either way
    }
  }

  private static Map<String, Long> deadTuples(Connection c) throws SQLException {
    Map<String, Long> out = new LinkedHashMap<>();
    try (PreparedStatement st =
        c.prepareStatement(
            "select relname, n_dead_tup from pg_stat_user_tables"
                + " where relname = any(?) order by relname"); ) {
      st.setArray(
          1,
          c.createArrayOf(
              "text", new String[] {"jobs", "outbox", "queue_count_deltas", "job_attempts"}));
      try (ResultSet rs = st.executeQuery()) {
        while (rs.next()) {
          out.put(rs.getString(1), rs.getLong(2));
        }
      }
    }
    return out;
  }
}
