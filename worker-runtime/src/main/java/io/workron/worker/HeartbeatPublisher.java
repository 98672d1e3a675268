package io.workron.worker;

import io.workron.schemas.Envelope;
import io.workron.schemas.Ids;
import io.workron.schemas.MessageType;
import io.workron.schemas.Resources;
import io.workron.schemas.Topics;
import io.workron.schemas.WireCodec;
import io.workron.schemas.WorkerHeartbeat;
import io.workron.schemas.WorkerHeartbeat.RunningAttempt;
import io.workron.schemas.WorkerHeartbeat.State;
import io.workron.worker.jobs.JobSlots;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.stereotype.Component;

/**
 * Tells the scheduler this worker is alive, what it offers and which attempts it owns. The first
 * heartbeat registers the incarnation; on shutdown it says "stopping" (no new work, please), and
 * the last one says "stopped" and lists nothing.
 */
@Component
class HeartbeatPublisher implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(HeartbeatPublisher.class);
  private static final long ACK_TIMEOUT_SECONDS = 10;

  private final KafkaTemplate<String, byte[]> kafka;
  private final WireCodec codec;
  private final Topics topics;
  private final WorkerIdentity identity;
  private final WorkerProperties properties;
  private final JobSlots slots;
  private final Clock clock;
  private volatile State state = State.ACTIVE;
  private final ScheduledExecutorService timer =
      Executors.newSingleThreadScheduledExecutor(
          task -> {
            Thread thread = new Thread(task, "workron-heartbeat");
            thread.setDaemon(true);
            return thread;
          });

  HeartbeatPublisher(
      KafkaTemplate<String, byte[]> kafka,
      WireCodec codec,
      Topics topics,
      WorkerIdentity identity,
      WorkerProperties properties,
      JobSlots slots,
      Clock clock) {
    this.kafka = kafka;
    this.codec = codec;
    this.topics = topics;
    this.identity = identity;
    this.properties = properties;
    this.execAddr = execAddrOf();
    this.slots = slots;
    this.clock = clock;
    slots.onGangTaskStarted(this::beatSoon);
  }

  private final java.util.concurrent.atomic.AtomicBoolean beatPending =
      new java.util.concurrent.atomic.AtomicBoolean();

  /**
   * One heartbeat now, besides the schedule: what the worker runs changed in a way scheduler-core
   * waits for. Starts that come together share one beat.
   */
  void beatSoon() {
    if (!beatPending.compareAndSet(false, true)) {
      return;
    }
    try {
      timer.execute(
          () -> {
            beatPending.set(false);
            beat();
          });
    } catch (java.util.concurrent.RejectedExecutionException e) {
      beatPending.set(false); // closing: the last heartbeat is sent by sendFinal
    }
  }

  /** Sends the registration heartbeat and waits for the broker to have it. */
  void register() {
    try {
      send(slots.activeAttempts(), State.ACTIVE).get(ACK_TIMEOUT_SECONDS, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while registering", e);
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException("could not send the registration heartbeat", e);
    }
  }

  /** Heartbeats every {@code heartbeatInterval} from now on. */
  void startBeating() {
    long every = properties.heartbeatInterval().toMillis();
    timer.scheduleAtFixedRate(this::beat, every, every, TimeUnit.MILLISECONDS);
  }

  /**
   * From now on every heartbeat says the worker is stopping, so the scheduler sends it nothing new
   * while it finishes what it holds. Sent at once and waited for.
   */
  void announceStopping() {
    state = State.STOPPING;
    try {
      send(slots.activeAttempts(), State.STOPPING).get(ACK_TIMEOUT_SECONDS, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | TimeoutException | RuntimeException e) {
      log.warn("could not announce the shutdown: {}", e.toString());
    }
  }

  /** Stops the periodic heartbeats and sends the last one: stopped, listing no attempts. */
  void sendFinal() {
    timer.shutdownNow();
    try {
      // a beat still being sent must not overtake the final one
      timer.awaitTermination(ACK_TIMEOUT_SECONDS, TimeUnit.SECONDS);
      send(List.of(), State.STOPPED).get(ACK_TIMEOUT_SECONDS, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | TimeoutException | RuntimeException e) {
      log.warn("could not send the final heartbeat: {}", e.toString());
    }
  }

  @Override
  public void close() {
    timer.shutdownNow();
  }

  private void beat() {
    try {
      send(slots.activeAttempts(), state)
          .whenComplete(
              (sent, failure) -> {
                if (failure != null) {
                  log.warn("heartbeat not delivered: {}", failure.toString());
                }
              });
    } catch (RuntimeException e) {
      // a failed beat must not cancel the schedule; the next one tries again
      log.warn("heartbeat not sent: {}", e.toString());
    }
  }

  /** Where gang peers reach this machine: as configured, else its host name. */
  private final String execAddr;

  private String execAddrOf() {
    if (!properties.execAddr().isEmpty()) {
      return properties.execAddr();
    }
    try {
      return java.net.InetAddress.getLocalHost().getHostName();
    } catch (java.net.UnknownHostException e) {
      return "127.0.0.1";
    }
  }

  private CompletableFuture<?> send(List<RunningAttempt> running, State sentState) {
    WorkerHeartbeat heartbeat =
        new WorkerHeartbeat(
            identity.workerId(),
            identity.incarnation(),
            properties.slots(),
            new Resources(properties.vramMb(), properties.offeredMemoryMb()),
            properties.tags(),
            execAddr,
            running,
            sentState,
            clock.instant());
    Envelope<WorkerHeartbeat> envelope =
        WireCodec.envelope(
            MessageType.WORKER_HEARTBEAT,
            Ids.newMessageId("hb", clock),
            clock.instant(),
            heartbeat);
    return kafka.send(
        new ProducerRecord<>(topics.heartbeats(), identity.workerId(), codec.encode(envelope)));
  }
}
