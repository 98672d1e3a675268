package io.workron.worker;

import io.workron.worker.execution.ProcessLedger;
import io.workron.worker.jobs.DispatchConsumer;
import io.workron.worker.jobs.JobSlots;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.availability.AvailabilityChangeEvent;
import org.springframework.boot.availability.ReadinessState;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.context.SmartLifecycle;
import org.springframework.context.event.EventListener;
import org.springframework.stereotype.Component;

/**
 * The order a worker starts and stops in. Start: create topics, register (first heartbeat), then
 * consume dispatches. Stop: stop consuming, let running commands finish within {@code
 * shutdownDeadline}, stop the rest (SIGTERM, {@code stopGrace}, SIGKILL) and report them
 * interrupted, then send a last heartbeat that lists nothing.
 */
@Component
class WorkerLifecycle implements SmartLifecycle {

  /**
   * Starts after the web server (so health answers while registering) and stops before its graceful
   * shutdown (so actuator stays reachable while jobs drain). Spring stops higher phases first.
   */
  static final int PHASE = SmartLifecycle.DEFAULT_PHASE - 512;

  /** How long interrupted jobs get to deliver their results after their commands ended. */
  private static final Duration REPORT_WINDOW = Duration.ofSeconds(10);

  private static final Logger log = LoggerFactory.getLogger(WorkerLifecycle.class);

  private final WorkerIdentity identity;
  private final WorkerProperties properties;
  private final TopicSetup topicSetup;
  private final HeartbeatPublisher heartbeats;
  private final DispatchConsumer dispatches;
  private final JobSlots slots;
  private final ProcessLedger ledger;
  private final ApplicationEventPublisher events;
  private final java.util.concurrent.atomic.AtomicBoolean superseded =
      new java.util.concurrent.atomic.AtomicBoolean();
  private volatile boolean running;

  WorkerLifecycle(
      WorkerIdentity identity,
      WorkerProperties properties,
      TopicSetup topicSetup,
      HeartbeatPublisher heartbeats,
      DispatchConsumer dispatches,
      JobSlots slots,
      ProcessLedger ledger,
      ApplicationEventPublisher events) {
    this.events = events;
    this.identity = identity;
    this.properties = properties;
    this.topicSetup = topicSetup;
    this.heartbeats = heartbeats;
    this.dispatches = dispatches;
    this.slots = slots;
    this.ledger = ledger;
  }

  @Override
  public void start() {
    // whatever a crashed run of this worker left running goes before anything new starts
    int leftovers = ledger.stopLeftovers(properties.stopGrace());
    if (leftovers > 0) {
      log.warn("stopped {} process groups a previous run of this worker left behind", leftovers);
    }
    topicSetup.createMissingTopics(dispatches.topic());
    heartbeats.register();
    heartbeats.startBeating();
    dispatches.start();
    running = true;
    log.info(
        "worker started id={} incarnation={} slots={} dispatch_topic={}",
        identity.workerId(),
        identity.incarnation(),
        properties.slots(),
        dispatches.topic());
  }

  @Override
  public void stop() {
    running = false;
    heartbeats.announceStopping();
    dispatches.stop();
    log.info(
        "worker stopping id={}: no new dispatches; waiting up to {} for {} running jobs",
        identity.workerId(),
        properties.shutdownDeadline(),
        slots.runningCount());
    try {
      if (!slots.drain(properties.shutdownDeadline())) {
        log.info(
            "stopping {} jobs still running after {} (grace {})",
            slots.runningCount(),
            properties.shutdownDeadline(),
            properties.stopGrace());
        if (!slots.interruptAll(properties.stopGrace(), REPORT_WINDOW)) {
          log.warn("some results were not delivered before shutdown; see the errors above");
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      slots.close();
      heartbeats.sendFinal();
      log.info("worker stopped id={} incarnation={}", identity.workerId(), identity.incarnation());
    }
  }

  /**
   * Another process now owns this worker id: stop taking dispatches, stop what runs (its attempts
   * were already taken back), stop heartbeating, and report not ready. Done on a thread of its own,
   * as the order arrives on the dispatch consumer's thread, which stopping the consumer waits for.
   */
  @EventListener
  void onSuperseded(Superseded event) {
    if (!superseded.compareAndSet(false, true)) {
      return;
    }
    Thread stopper =
        new Thread(
            () -> {
              log.error(
                  "worker id={} incarnation={} was superseded ({}): it takes no more work and"
                      + " stops its commands; stop this process",
                  identity.workerId(),
                  identity.incarnation(),
                  event.reason());
              AvailabilityChangeEvent.publish(events, this, ReadinessState.REFUSING_TRAFFIC);
              heartbeats.close();
              dispatches.stop();
              try {
                slots.drain(java.time.Duration.ZERO);
                slots.interruptAll(properties.stopGrace(), REPORT_WINDOW);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            },
            "workron-superseded");
    stopper.setDaemon(true);
    stopper.start();
  }

  /** Whether a newer incarnation has taken over this worker id. */
  public boolean isSuperseded() {
    return superseded.get();
  }

  @Override
  public boolean isRunning() {
    return running;
  }

  @Override
  public int getPhase() {
    return PHASE;
  }
}
