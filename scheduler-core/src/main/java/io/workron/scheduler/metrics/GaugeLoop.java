package io.workron.scheduler.metrics;

import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A daemon thread that refreshes a set of gauges every {@code every}. A failed refresh (the
 * database or the broker away) is logged at debug and the gauges keep their last figures: readiness
 * is what says the dependency is down.
 */
final class GaugeLoop {

  /** One refresh; may throw. */
  interface Refresh {
    void run() throws Exception;
  }

  private static final Logger log = LoggerFactory.getLogger(GaugeLoop.class);

  private final String name;
  private final Duration every;
  private final Refresh refresh;
  private volatile boolean running;
  private Thread thread;

  GaugeLoop(String name, Duration every, Refresh refresh) {
    this.name = name;
    this.every = every;
    this.refresh = refresh;
  }

  synchronized void start() {
    running = true;
    thread = new Thread(this::loop, name);
    thread.setDaemon(true);
    thread.start();
  }

  private void loop() {
    while (running) {
      try {
        refresh.run();
      } catch (InterruptedException e) {
        return;
      } catch (Exception e) {
        log.debug("{} not refreshed: {}", name, e.toString());
      }
      try {
        Thread.sleep(every.toMillis());
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  synchronized void stop() {
    running = false;
    if (thread != null) {
      thread.interrupt();
    }
  }

  boolean isRunning() {
    return running;
  }
}
