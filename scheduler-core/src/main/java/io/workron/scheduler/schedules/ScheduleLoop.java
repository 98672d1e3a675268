package io.workron.scheduler.schedules;

import io.workron.scheduler.config.SchedulerProperties;
import java.time.Clock;
import java.time.OffsetDateTime;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.core.NestedExceptionUtils;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/** Fires due schedules every {@code schedule-tick}, on the replica holding the loop's lock. */
@Component
class ScheduleLoop implements SmartLifecycle {

  private static final Logger log = LoggerFactory.getLogger(ScheduleLoop.class);

  private final Schedules schedules;
  private final TransactionTemplate tx;
  private final Clock clock;
  private final SchedulerProperties properties;
  private volatile boolean running;
  private Thread thread;

  ScheduleLoop(
      Schedules schedules, TransactionTemplate tx, Clock clock, SchedulerProperties properties) {
    this.schedules = schedules;
    this.tx = tx;
    this.clock = clock;
    this.properties = properties;
  }

  /** One pass; returns the jobs fired. Public for tests. */
  List<String> tick() {
    return tx.execute(status -> schedules.fireDue(OffsetDateTime.now(clock)));
  }

  @Override
  public void start() {
    running = true;
    thread = new Thread(this::loop, "schedules");
    thread.setDaemon(true);
    thread.start();
  }

  @Override
  public void stop() {
    running = false;
    thread.interrupt();
    try {
      thread.join(10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public boolean isRunning() {
    return running;
  }

  private void loop() {
    while (running) {
      try {
        Thread.sleep(properties.scheduleTick().toMillis());
      } catch (InterruptedException e) {
        return;
      }
      try {
        tick();
      } catch (RuntimeException e) {
        log.warn(
            "schedule tick failed; next in {}: {}",
            properties.scheduleTick(),
            NestedExceptionUtils.getMostSpecificCause(e).toString());
      }
    }
  }
}
