package io.workron.scheduler.ingest;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.core.NestedExceptionUtils;
import org.springframework.stereotype.Component;

/**
 * Lets a caller wait, without polling, until ingestion has handled every submission before given
 * offsets, whichever replica ingests those partitions. Waiters are held in memory; they are checked
 * against {@code ingest_progress} whenever an ingest transaction commits: this replica's own
 * commits wake them directly, other replicas' reach them through {@code LISTEN} on {@value
 * IngestProgress#CHANNEL}. While that connection is down, waiters are checked once a second
 * instead, so a wait is never longer than its bound nor blind to progress.
 */
@Component
public class IngestWaits implements SmartLifecycle {

  private static final Logger log = LoggerFactory.getLogger(IngestWaits.class);
  private static final Duration RECONNECT_PAUSE = Duration.ofSeconds(1);

  private record Waiter(Map<Integer, Long> offsets, CompletableFuture<Boolean> done) {}

  private final DataSource dataSource;
  private final IngestProgress progress;
  private final Set<Waiter> waiters = ConcurrentHashMap.newKeySet();
  private final Object signal = new Object();
  private boolean signalled;
  private volatile boolean listening;
  private volatile boolean running;
  private Thread checker;
  private Thread listener;

  IngestWaits(DataSource dataSource, IngestProgress progress) {
    this.dataSource = dataSource;
    this.progress = progress;
  }

  /**
   * Completes with true once every record before {@code offsets} (partition to offset) has been
   * ingested, or with false after {@code wait}.
   */
  public CompletableFuture<Boolean> await(Map<Integer, Long> offsets, Duration wait) {
    if (offsets.isEmpty()) {
      return CompletableFuture.completedFuture(true);
    }
    Waiter waiter = new Waiter(Map.copyOf(offsets), new CompletableFuture<>());
    waiters.add(waiter);
    waiter.done().whenComplete((caughtUp, error) -> waiters.remove(waiter));
    waiter.done().completeOnTimeout(false, wait.toMillis(), TimeUnit.MILLISECONDS);
    wake(); // the progress may be there already
    return waiter.done();
  }

  /** An ingest transaction committed: look at the waiters again. */
  void wake() {
    synchronized (signal) {
      signalled = true;
      signal.notifyAll();
    }
  }

  @Override
  public void start() {
    running = true;
    checker = daemon("ingest-waits", this::checkLoop);
    listener = daemon("ingest-listen", this::listenLoop);
  }

  @Override
  public void stop() {
    running = false;
    wake();
    for (Thread t : new Thread[] {checker, listener}) {
      try {
        t.join(5_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    waiters.forEach(w -> w.done().complete(false));
  }

  @Override
  public boolean isRunning() {
    return running;
  }

  private void checkLoop() {
    while (running) {
      synchronized (signal) {
        while (!signalled && running) {
          try {
            signal.wait(listening ? 0 : RECONNECT_PAUSE.toMillis());
          } catch (InterruptedException e) {
            return;
          }
          if (!listening) {
            break;
          }
        }
        signalled = false;
      }
      if (waiters.isEmpty() || !running) {
        continue;
      }
      try {
        Map<Integer, Long> now = progress.read();
        for (Waiter w : waiters) {
          if (IngestProgress.reached(now, w.offsets())) {
            w.done().complete(true);
          }
        }
      } catch (RuntimeException e) {
        log.warn(
            "could not read ingest progress; waiters are checked again on the next commit: {}",
            NestedExceptionUtils.getMostSpecificCause(e).toString());
      }
    }
  }

  private void listenLoop() {
    while (running) {
      try (Connection c = dataSource.getConnection();
          Statement st = c.createStatement()) {
        c.setAutoCommit(true);
        st.execute("LISTEN " + IngestProgress.CHANNEL);
        PGConnection pg = c.unwrap(PGConnection.class);
        listening = true;
        wake(); // commits while we were not listening
        while (running) {
          PGNotification[] notifications = pg.getNotifications(1000);
          if (notifications != null && notifications.length > 0) {
            wake();
          }
        }
      } catch (SQLException | RuntimeException e) {
        if (listening) {
          log.warn(
              "lost the LISTEN connection for ingest commits; checking waiters every {} until it"
                  + " is back: {}",
              RECONNECT_PAUSE,
              NestedExceptionUtils.getMostSpecificCause(e).toString());
        }
        listening = false;
        wake();
        pause();
      }
    }
    listening = false;
  }

  private void pause() {
    try {
      Thread.sleep(RECONNECT_PAUSE.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      running = false;
    }
  }

  private static Thread daemon(String name, Runnable body) {
    Thread t = new Thread(body, name);
    t.setDaemon(true);
    t.start();
    return t;
  }
}
