package io.workron.scheduler.outbox;

import static io.workron.scheduler.db.Tables.OUTBOX;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.tracing.Span;
import io.workron.kafka.JobTraces;
import io.workron.scheduler.config.SchedulerProperties;
import io.workron.schemas.Topics;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.jooq.DSLContext;
import org.jooq.impl.DSL;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.kafka.support.SendResult;
import org.springframework.stereotype.Component;
import org.springframework.transaction.event.TransactionalEventListener;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Publishes outbox rows to Kafka and deletes them once the broker has acknowledged them. Each
 * replica relays the rows it wrote, woken right after its own commits; a sweep, run by one replica
 * at a time under advisory lock {@value #SWEEP_LOCK_ID}, relays rows left behind by a replica that
 * died.
 *
 * <p>The owner claims the rows its commits just wrote by primary key ({@link Outbox.Written} names
 * them), so a round never walks the index entries of rows already relayed: while an old snapshot (a
 * session idle in a transaction) keeps vacuum from removing those, they pile up by the ten
 * thousand, and a search of the owner's rows read them all every round (docs/performance.md). A
 * search of its own rows still runs at start and every sweep interval, for rows no event named
 * (written by an earlier process under the same replica id, or by tests directly) and rows a named
 * round could not take (held back by an older row of their key, or a failed send).
 *
 * <ul>
 *   <li>Both claim rows with a lease ({@code leased_by}, {@code leased_until}) in a short
 *       transaction before sending, so the owner and the sweep never publish the same row at the
 *       same time; a relay that dies mid-send leaves a lease that expires.
 *   <li>A row is claimed only when no older row for the same topic and key is left, whoever wrote
 *       it: what one job's messages say reaches its consumers in the order it was committed (a stop
 *       never before its attempt's dispatch).
 *   <li>When some sends of a round fail, the acknowledged rows are deleted and not published again,
 *       except those after a failed one for the same topic and key (dispatch topics: the same
 *       topic), which are sent again behind it so the order holds. Failed rows are released for the
 *       next round.
 * </ul>
 *
 * A row may still be published twice (a crash between ack and delete, a lease outlived by a stuck
 * send); every consumer is fenced against duplicates.
 */
@Component
public class OutboxRelay implements SmartLifecycle {

  /** {@code pg_try_advisory_xact_lock} key of the outbox sweep. */
  public static final long SWEEP_LOCK_ID = 3;

  /** Longest a relay waits for the broker's acknowledgements of one round. */
  static final Duration SEND_TIMEOUT = Duration.ofSeconds(30);

  /** The rows of one round in progress: renewed until the round ends. */
  private record InFlight(String lease, Long[] ids) {}

  private static final Logger log = LoggerFactory.getLogger(OutboxRelay.class);

  /** A claimed row. */
  record Row(
      long id,
      String topic,
      String key,
      byte[] payload,
      String requestId,
      String dispatchJobId,
      Integer dispatchAttempt,
      String traceparent) {}

  private final DSLContext db;
  private final KafkaTemplate<String, byte[]> kafka;
  private final TransactionTemplate tx;
  private final Clock clock;
  private final SchedulerProperties properties;
  private final Topics topics;
  private final Counter published;
  private final JobTraces traces;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition work = lock.newCondition();
  private boolean pending;

  /** Ids of own rows committed and not yet seen relayed, oldest first; guarded by {@link #lock}. */
  private final java.util.TreeSet<Long> committed = new java.util.TreeSet<>();

  /** Rounds waiting for their sends; {@link #renewLoop} keeps their leases. */
  private final Set<InFlight> inFlight = java.util.concurrent.ConcurrentHashMap.newKeySet();

  private volatile boolean running;
  private Thread relayThread;
  private Thread sweepThread;
  private Thread renewThread;

  OutboxRelay(
      DSLContext db,
      KafkaTemplate<String, byte[]> kafka,
      TransactionTemplate tx,
      Clock clock,
      SchedulerProperties properties,
      Topics topics,
      MeterRegistry meters,
      JobTraces traces) {
    this.traces = traces;
    this.db = db;
    this.kafka = kafka;
    this.tx = tx;
    this.clock = clock;
    this.properties = properties;
    this.topics = topics;
    this.published = meters.counter("workron_outbox_published_total");
  }

  /** Rows were committed: publish them now instead of at the next tick. */
  @TransactionalEventListener(fallbackExecution = true)
  void onWritten(Outbox.Written written) {
    lock.lock();
    try {
      committed.addAll(written.ids());
    } finally {
      lock.unlock();
    }
    wake();
  }

  /** Up to a batch of the oldest committed ids not yet relayed. */
  private List<Long> knownBatch() {
    lock.lock();
    try {
      List<Long> ids = new ArrayList<>(Math.min(committed.size(), properties.outboxBatchSize()));
      for (Long id : committed) {
        if (ids.size() == properties.outboxBatchSize()) {
          break;
        }
        ids.add(id);
      }
      return ids;
    } finally {
      lock.unlock();
    }
  }

  private void forget(java.util.Collection<Long> ids) {
    lock.lock();
    try {
      committed.removeAll(ids);
    } finally {
      lock.unlock();
    }
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
    // rounds driven by hand (tests, with the relay disabled) keep their leases too
    renewThread = daemon("outbox-lease", this::renewLoop);
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
    renewThread.interrupt();
    join(renewThread);
    // what this replica committed last is published before it exits
    if (!properties.outboxRelayEnabled()) {
      return;
    }
    try {
      for (int round = 0; round < 100; round++) {
        int n = relayOwnRows();
        if (n == 0) {
          n = relaySearched(); // rows a named round left behind
        }
        if (n == 0) {
          break;
        }
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
    long nextSearch = System.nanoTime(); // at start: rows an earlier process left
    while (running) {
      try {
        int n;
        if (System.nanoTime() - nextSearch >= 0) {
          // due even while commits keep naming rows: what no event named, and what a round left
          n = relaySearched();
          if (n < properties.outboxBatchSize()) {
            nextSearch = System.nanoTime() + properties.outboxSweepInterval().toNanos();
          }
        } else {
          List<Long> known = knownBatch();
          n = known.isEmpty() ? 0 : relayKnown(known);
        }
        if (n == 0) {
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

  /**
   * Keeps the leases of rounds still waiting for the broker, every third of the lease, so that a
   * short lease expires only for a relay that stopped (died, or stalled longer than the lease).
   */
  private void renewLoop() {
    long every = Math.max(1, properties.outboxLease().toMillis() / 3);
    while (running) {
      pause(every);
      if (!running) {
        return;
      }
      try {
        renewLeases();
      } catch (RuntimeException e) {
        log.warn("outbox lease renewal failed: {}", e.toString());
      }
    }
  }

  /** Extends the lease of every round in progress. Package-private so tests can call it. */
  void renewLeases() {
    for (InFlight round : inFlight) {
      db.execute(
          "update outbox set leased_until = ?::timestamptz where id = any(?::bigint[]) "
              + "and leased_by = ?",
          OffsetDateTime.now(clock).plus(properties.outboxLease()),
          round.ids(),
          round.lease());
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

  /**
   * Publishes a batch of this replica's rows, those its commits named or else those a search finds;
   * returns how many were claimed. Public so tests can drive one round.
   */
  public int relayOwnRows() {
    List<Long> known = knownBatch();
    return known.isEmpty() ? relaySearched() : relayKnown(known);
  }

  private int relaySearched() {
    List<Row> rows = tx.execute(status -> claimRows(false));
    publishAndDelete(rows, properties.replicaId());
    return rows.size();
  }

  /** Claims and publishes those of the rows {@code ids} that can go now. */
  private int relayKnown(List<Long> ids) {
    List<Row> rows;
    try {
      rows = tx.execute(status -> claimKnown(ids));
    } finally {
      // Named once: rows not claimed now (an older row of the same topic and key, or the sweep's
      // lease, holds them back; or they are gone) and rows whose send fails are left to the search
      // of own rows, which runs every sweep interval, so that they never clog the head of the set
      forget(ids);
    }
    publishAndDelete(rows, properties.replicaId());
    return rows.size();
  }

  /** Relays old rows of any replica, if this replica holds the sweep lock. Returns how many. */
  public int sweepOnce() {
    List<Row> rows =
        tx.execute(
            status -> {
              Boolean leader =
                  db.resultQuery("select pg_try_advisory_xact_lock(?)", SWEEP_LOCK_ID)
                      .fetchOne(r -> r.get(0, Boolean.class));
              return Boolean.TRUE.equals(leader) ? claimRows(true) : List.<Row>of();
            });
    publishAndDelete(rows, sweepLease());
    if (!rows.isEmpty()) {
      log.info("outbox sweep relayed {} rows left by other replicas", rows.size());
    }
    return rows.size();
  }

  /**
   * Leases up to a batch of rows, oldest first: this replica's own, or (sweep) anyone's older than
   * the sweep age; never a leased one, never one behind an older row of the same topic and key.
   */
  private List<Row> claimRows(boolean sweep) {
    // Two statements, not one with a flag: each has a predicate the planner can match to an index
    // and walk in id order (owner: outbox_owner_idx; sweep: the primary key), stopping at the batch
    // size. A predicate hidden in a CASE made every round read the whole table, dead rows included
    // (12 ms a round in a burn-down).
    String which = sweep ? "c.created_at < ?::timestamptz " : "c.owner = ? ";
    OffsetDateTime now = OffsetDateTime.now(clock);
    Object whichValue = sweep ? now.minus(properties.outboxSweepAge()) : properties.replicaId();
    return claim(which, whichValue, sweep ? sweepLease() : properties.replicaId(), now);
  }

  /** Claims those of {@code ids} that are free and first of their topic and key. */
  private List<Row> claimKnown(List<Long> ids) {
    return claim(
        "c.id = any(?::bigint[]) ",
        ids.toArray(Long[]::new),
        properties.replicaId(),
        OffsetDateTime.now(clock));
  }

  /**
   * Leases up to a batch of rows matching {@code which}, oldest first; never a leased one, never
   * one behind an older row of the same topic and key.
   */
  private List<Row> claim(String which, Object whichValue, String lease, OffsetDateTime now) {
    // Planned for this round, from the table as it is now. A plan PostgreSQL keeps for a prepared
    // statement may have been made while the outbox was empty (after an idle spell, and analyzed
    // so): it read the whole table for every row it looked at, and a burst of 10,000 rows made a
    // round of 35 s to minutes while every dispatch waited. One statement per round, next to a
    // plan of about 0.5 ms. (docs/performance.md, "A relay stalled by a plan of an empty outbox")
    db.execute("set local plan_cache_mode = force_custom_plan");
    List<Row> rows =
        db.resultQuery(
                // the rows are locked once, in the CTE, whatever the plan; the update finds them
                // by primary key (as "o.id in (select ...)" it could rerun the locking select for
                // every row of the table)
                "with c as materialized (select c.id from outbox c "
                    + "  where "
                    + which
                    + "  and (c.leased_until is null or c.leased_until < ?::timestamptz) "
                    // first of its topic and key: found in outbox_topic_key_idx, whose entries
                    // for one key are few; "not exists (... p.id < c.id)" let the planner read
                    // every older row by primary key instead, dead ones included (420 ms a
                    // round while a snapshot was held)
                    + "  and c.id = (select p.id from outbox p "
                    + "    where p.topic = c.topic and p.msg_key = c.msg_key "
                    + "    order by p.topic, p.msg_key, p.id limit 1) "
                    + "  order by c.id limit ? for update skip locked) "
                    + "update outbox o set leased_by = ?, leased_until = ?::timestamptz "
                    + "where o.id = any(array(select id from c)) "
                    + "returning o.id, o.topic, o.msg_key, o.payload, o.request_id, "
                    + "o.dispatch_job_id, o.dispatch_attempt, "
                    // a message about a job continues the job's trace (keyed by its id)
                    + (traces.on()
                        ? "(select j.traceparent from jobs j where j.id = o.msg_key)"
                        : "null::varchar"),
                whichValue,
                now,
                properties.outboxBatchSize(),
                lease,
                now.plus(properties.outboxLease()))
            .fetch(
                r ->
                    new Row(
                        r.get(0, Long.class),
                        r.get(1, String.class),
                        r.get(2, String.class),
                        r.get(3, byte[].class),
                        r.get(4, String.class),
                        r.get(5, String.class),
                        r.get(6, Integer.class),
                        r.get(7, String.class)));
    List<Row> ordered = new ArrayList<>(rows);
    ordered.sort(Comparator.comparingLong(Row::id));
    return ordered;
  }

  /** The sweep leases under a name of its own, so its rows and the owner's are never confused. */
  private String sweepLease() {
    return properties.replicaId() + "/sweep";
  }

  private void publishAndDelete(List<Row> rows, String lease) {
    if (rows.isEmpty()) {
      return;
    }
    InFlight round = new InFlight(lease, rows.stream().map(Row::id).toArray(Long[]::new));
    inFlight.add(round);
    try {
      sendAndDelete(rows, lease);
    } finally {
      inFlight.remove(round);
    }
  }

  private void sendAndDelete(List<Row> rows, String lease) {
    List<CompletableFuture<SendResult<String, byte[]>>> acks = new ArrayList<>(rows.size());
    List<Span> spans = new ArrayList<>();
    try {
      sendAndDelete(rows, lease, acks, spans);
    } finally {
      spans.forEach(Span::end);
    }
  }

  private void sendAndDelete(
      List<Row> rows,
      String lease,
      List<CompletableFuture<SendResult<String, byte[]>>> acks,
      List<Span> spans) {
    for (Row row : rows) {
      ProducerRecord<String, byte[]> record =
          new ProducerRecord<>(row.topic(), row.key(), row.payload());
      if (row.requestId() != null) {
        record
            .headers()
            .add(Topics.REQUEST_ID_HEADER, row.requestId().getBytes(StandardCharsets.UTF_8));
      }
      if (row.traceparent() != null) {
        // the dispatch (or event) is a child of the job's trace; the worker continues it
        Span span =
            traces.start(
                row.dispatchJobId() != null ? "workron.dispatch" : "workron.publish",
                Span.Kind.PRODUCER,
                row.traceparent());
        span.tag("workron.job_id", row.key());
        span.tag("messaging.destination.name", row.topic());
        spans.add(span);
        traces.inject(span, record.headers());
      }
      CompletableFuture<SendResult<String, byte[]>> ack;
      try {
        ack = kafka.send(record);
      } catch (RuntimeException e) {
        ack = CompletableFuture.failedFuture(e);
      }
      acks.add(ack);
    }
    kafka.flush();
    long deadline = System.nanoTime() + SEND_TIMEOUT.toNanos();
    List<Long> done = new ArrayList<>(rows.size());
    List<Long> again = new ArrayList<>();
    List<String> dispatchedIds = new ArrayList<>();
    List<Integer> dispatchedAttempts = new ArrayList<>();
    List<OffsetDateTime> dispatchedAt = new ArrayList<>();
    Set<String> brokenGroups = new HashSet<>();
    Throwable firstFailure = null;
    for (int i = 0; i < rows.size(); i++) {
      Row row = rows.get(i);
      Throwable failure = await(acks.get(i), deadline);
      String group = orderGroup(row);
      if (failure == null && !brokenGroups.contains(group)) {
        done.add(row.id());
        if (row.dispatchJobId() != null) {
          dispatchedIds.add(row.dispatchJobId());
          dispatchedAttempts.add(row.dispatchAttempt());
          dispatchedAt.add(
              java.time.Instant.ofEpochMilli(acks.get(i).join().getRecordMetadata().timestamp())
                  .atOffset(java.time.ZoneOffset.UTC));
        }
      } else {
        // failed, or behind a failed one of the same topic and key: send again, in order
        brokenGroups.add(group);
        again.add(row.id());
        if (failure != null && firstFailure == null) {
          firstFailure = failure;
        }
      }
    }
    if (!dispatchedIds.isEmpty()) {
      // the dispatch-ack clock starts now, at the broker's timestamp of the dispatch
      db.execute(
          "update jobs j set dispatch_published_at = v.at "
              + "from unnest(?::varchar[], ?::int[], ?::timestamptz[]) as v(id, attempt, at) "
              + "where j.id = v.id and j.attempt = v.attempt and j.status = 'running' "
              + "and j.dispatch_published_at is null",
          dispatchedIds.toArray(String[]::new),
          dispatchedAttempts.toArray(Integer[]::new),
          dispatchedAt.toArray(OffsetDateTime[]::new));
    }
    if (!done.isEmpty()) {
      db.deleteFrom(OUTBOX)
          .where(OUTBOX.ID.eq(DSL.any(done.toArray(Long[]::new))))
          .and(OUTBOX.LEASED_BY.eq(lease))
          .execute();
      published.increment(done.size());
    }
    if (!again.isEmpty()) {
      db.update(OUTBOX)
          .setNull(OUTBOX.LEASED_BY)
          .setNull(OUTBOX.LEASED_UNTIL)
          .where(OUTBOX.ID.in(again))
          .and(OUTBOX.LEASED_BY.eq(lease))
          .execute();
      throw new IllegalStateException(
          again.size()
              + " of "
              + rows.size()
              + " outbox rows not published; they stay for the next round",
          firstFailure);
    }
  }

  /**
   * Rows that must reach their consumers in order: one key of a topic, and every row of a dispatch
   * topic (one partition, read by one worker).
   */
  private String orderGroup(Row row) {
    return topics.isDispatch(row.topic()) ? row.topic() : row.topic() + "\u0000" + row.key();
  }

  /** Null when {@code ack} completed in time, else why not. */
  private static Throwable await(CompletableFuture<?> ack, long deadline) {
    try {
      ack.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      return null;
    } catch (ExecutionException e) {
      return e.getCause();
    } catch (TimeoutException e) {
      return e;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return e;
    }
  }

  private static void pause(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
