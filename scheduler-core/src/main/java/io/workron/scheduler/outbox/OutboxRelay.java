package io.workron.scheduler.outbox;

import static io.workron.scheduler.db.Tables.OUTBOX;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.workron.scheduler.config.SchedulerProperties;
import io.workron.schemas.Topics;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.jooq.DSLContext;
import org.jooq.Record5;
import org.jooq.Result;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Publishes outbox rows to Kafka and deletes them once the broker has acknowledged them. Each
 * replica relays the rows it wrote, woken right after its own commits; a sweep, run by one replica
 * at a time under advisory lock {@value #SWEEP_LOCK_ID}, relays rows left behind by a replica that
 * died. A row may be published twice (crash between ack and delete, or a slow owner overtaken by
 * the sweep); every consumer is fenced against duplicates.
 */
@Component
public class OutboxRelay implements SmartLifecycle {

  /** {@code pg_try_advisory_xact_lock} key of the outbox sweep. */
  public static final long SWEEP_LOCK_ID = 3;

  private static final Logger log = LoggerFactory.getLogger(OutboxRelay.class);

  private final DSLContext db;
  private final KafkaTemplate<String, byte[]> kafka;
  private final TransactionTemplate tx;
  private final Clock clock;
  private final SchedulerProperties properties;
  private final Counter published;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition work = lock.newCondition();
  private boolean pending;
  private volatile boolean running;
  private Thread relayThread;
  private Thread sweepThread;

  OutboxRelay(
      DSLContext db,
      KafkaTemplate<String, byte[]> kafka,
      TransactionTemplate tx,
      Clock clock,
      SchedulerProperties properties,
      MeterRegistry meters) {
    this.db = db;
    this.kafka = kafka;
    this.tx = tx;
    this.clock = clock;
    this.properties = properties;
    this.published = meters.counter("workron_outbox_published_total");
  }

  void wake() {
    lock.lock();
    try {
      pending = true;
      work.signal();
    } finally {
      lock.unlock();
    }
  }

  @Override
  public void start() {
    running = true;
    if (!properties.outboxRelayEnabled()) {
      log.warn("outbox relay disabled on this replica (workron.scheduler.outbox-relay-enabled)");
      relayThread = daemon("outbox-relay-disabled", () -> {});
      sweepThread = daemon("outbox-sweep-disabled", () -> {});
      return;
    }
    relayThread = daemon("outbox-relay", this::relayLoop);
    sweepThread = daemon("outbox-sweep", this::sweepLoop);
  }

  @Override
  public void stop() {
    running = false;
    wake();
    join(relayThread);
    sweepThread.interrupt();
    join(sweepThread);
    // what this replica committed last is published before it exits
    if (!properties.outboxRelayEnabled()) {
      return;
    }
    try {
      for (int round = 0; round < 100 && relayOwnRows() > 0; round++) {
        log.debug("relaying the outbox before shutdown, round {}", round);
      }
    } catch (RuntimeException e) {
      log.warn(
          "outbox not fully relayed at shutdown; the sweep of another replica will: {}",
          e.toString());
    }
  }

  static Thread daemon(String name, Runnable body) {
    Thread t = new Thread(body, name);
    t.setDaemon(true);
    t.start();
    return t;
  }

  private static void join(Thread t) {
    try {
      t.join(10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public boolean isRunning() {
    return running;
  }

  /**
   * Starts first and stops last (lifecycles stop in descending phase order), after the Kafka
   * listeners and the loops that write the outbox, so their last rows go out before exit.
   */
  @Override
  public int getPhase() {
    return Integer.MIN_VALUE + 1000;
  }

  private void relayLoop() {
    while (running) {
      try {
        if (relayOwnRows() == 0) {
          awaitWork();
        }
      } catch (RuntimeException e) {
        log.warn("outbox relay failed, retrying in 1 s: {}", e.toString());
        pause(1000);
      }
    }
  }

  private void awaitWork() {
    lock.lock();
    try {
      if (!pending && running) {
        work.await(1, TimeUnit.SECONDS);
      }
      pending = false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      lock.unlock();
    }
  }

  private void sweepLoop() {
    while (running) {
      pause(properties.outboxSweepInterval().toMillis());
      if (!running) {
        return;
      }
      try {
        sweepOnce();
      } catch (RuntimeException e) {
        log.warn("outbox sweep failed: {}", e.toString());
      }
    }
  }

  /** Publishes a batch of this replica's rows; returns how many. Package-private for tests. */
  int relayOwnRows() {
    Result<Record5<Long, String, String, byte[], String>> rows =
        db.select(OUTBOX.ID, OUTBOX.TOPIC, OUTBOX.MSG_KEY, OUTBOX.PAYLOAD, OUTBOX.REQUEST_ID)
            .from(OUTBOX)
            .where(OUTBOX.OWNER.eq(properties.replicaId()))
            .orderBy(OUTBOX.ID)
            .limit(properties.outboxBatchSize())
            .fetch();
    publishAndDelete(rows);
    return rows.size();
  }

  /** Relays old rows of any replica, if this replica holds the sweep lock. Returns how many. */
  public int sweepOnce() {
    Integer done =
        tx.execute(
            status -> {
              Boolean leader =
                  db.resultQuery("select pg_try_advisory_xact_lock(?)", SWEEP_LOCK_ID)
                      .fetchOne(r -> r.get(0, Boolean.class));
              if (!Boolean.TRUE.equals(leader)) {
                return 0;
              }
              OffsetDateTime cutoff = OffsetDateTime.now(clock).minus(properties.outboxSweepAge());
              Result<Record5<Long, String, String, byte[], String>> rows =
                  db.select(
                          OUTBOX.ID,
                          OUTBOX.TOPIC,
                          OUTBOX.MSG_KEY,
                          OUTBOX.PAYLOAD,
                          OUTBOX.REQUEST_ID)
                      .from(OUTBOX)
                      .where(OUTBOX.CREATED_AT.lt(cutoff))
                      .orderBy(OUTBOX.ID)
                      .limit(properties.outboxBatchSize())
                      .forUpdate()
                      .skipLocked()
                      .fetch();
              publishAndDelete(rows);
              return rows.size();
            });
    if (done != null && done > 0) {
      log.info("outbox sweep relayed {} rows left by other replicas", done);
    }
    return done == null ? 0 : done;
  }

  private void publishAndDelete(Result<Record5<Long, String, String, byte[], String>> rows) {
    if (rows.isEmpty()) {
      return;
    }
    List<CompletableFuture<?>> acks = new ArrayList<>(rows.size());
    List<Long> ids = new ArrayList<>(rows.size());
    for (Record5<Long, String, String, byte[], String> row : rows) {
      ProducerRecord<String, byte[]> record =
          new ProducerRecord<>(row.value2(), row.value3(), row.value4());
      if (row.value5() != null) {
        record
            .headers()
            .add(Topics.REQUEST_ID_HEADER, row.value5().getBytes(StandardCharsets.UTF_8));
      }
      acks.add(kafka.send(record));
      ids.add(row.value1());
    }
    kafka.flush();
    try {
      CompletableFuture.allOf(acks.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while publishing the outbox", e);
    } catch (Exception e) {
      throw new IllegalStateException("outbox publish failed; rows stay for the next round", e);
    }
    db.deleteFrom(OUTBOX).where(OUTBOX.ID.in(ids)).execute();
    published.increment(ids.size());
  }

  private static void pause(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
