package io.workron.scheduler.outbox;

import static io.workron.scheduler.db.Tables.OUTBOX;

import io.workron.scheduler.config.SchedulerProperties;
import java.time.Clock;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import org.jooq.DSLContext;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionSynchronization;
import org.springframework.transaction.support.TransactionSynchronizationManager;

/**
 * Writes messages into the {@code outbox} table inside the caller's transaction. Nothing is sent to
 * Kafka from inside a database transaction; the {@link OutboxRelay} does that after commit, woken
 * by the {@link Written} event each write publishes.
 *
 * <p>Inside a transaction the messages of every call are kept until it commits and then written in
 * one statement, in the order they were added, just before the commit: a dispatch round's lifecycle
 * events and dispatches, or a poll's events and the dispatches and stops they cause, are one insert
 * instead of one per caller. A transaction that rolls back writes none of them.
 */
@Component
public class Outbox {

  /**
   * Published inside the transaction that wrote rows; after its commit the relay wakes and claims
   * exactly these rows, by primary key, instead of searching the table for them.
   */
  public record Written(List<Long> ids) {}

  private final DSLContext db;
  private final Clock clock;
  private final String owner;
  private final ApplicationEventPublisher publisher;

  @Autowired
  Outbox(
      DSLContext db,
      Clock clock,
      SchedulerProperties properties,
      ApplicationEventPublisher publisher) {
    this(db, clock, properties.replicaId(), publisher);
  }

  /** An outbox whose rows belong to replica {@code owner}. */
  public Outbox(DSLContext db, Clock clock, String owner, ApplicationEventPublisher publisher) {
    this.db = db;
    this.clock = clock;
    this.owner = owner;
    this.publisher = publisher;
  }

  /**
   * Adds messages; call inside the transaction that causes them. They are written when it commits
   * (with the other messages it added, in one statement), or at once when no transaction is active.
   */
  public void addAll(List<OutboxMessage> messages) {
    if (messages.isEmpty()) {
      return;
    }
    if (TransactionSynchronizationManager.isSynchronizationActive()
        && TransactionSynchronizationManager.isActualTransactionActive()) {
      pendingOfThisTransaction().messages.addAll(messages);
    } else {
      insert(messages);
    }
  }

  private Pending pendingOfThisTransaction() {
    // the synchronizations of a suspended transaction are not listed: each transaction has its own
    for (TransactionSynchronization s : TransactionSynchronizationManager.getSynchronizations()) {
      if (s instanceof Pending p && p.outbox() == this) {
        return p;
      }
    }
    Pending p = new Pending();
    TransactionSynchronizationManager.registerSynchronization(p);
    return p;
  }

  /** The messages a transaction added, written just before it commits. */
  private final class Pending implements TransactionSynchronization {
    private final List<OutboxMessage> messages = new ArrayList<>();

    Outbox outbox() {
      return Outbox.this;
    }

    @Override
    public void beforeCommit(boolean readOnly) {
      if (!messages.isEmpty()) {
        List<OutboxMessage> all = List.copyOf(messages);
        messages.clear();
        insert(all);
      }
    }
  }

  private void insert(List<OutboxMessage> messages) {
    OffsetDateTime now = OffsetDateTime.now(clock).withOffsetSameInstant(ZoneOffset.UTC);
    var insert =
        db.insertInto(
            OUTBOX,
            OUTBOX.TOPIC,
            OUTBOX.MSG_KEY,
            OUTBOX.PAYLOAD,
            OUTBOX.REQUEST_ID,
            OUTBOX.OWNER,
            OUTBOX.CREATED_AT,
            OUTBOX.DISPATCH_JOB_ID,
            OUTBOX.DISPATCH_ATTEMPT);
    for (OutboxMessage m : messages) {
      insert =
          insert.values(
              m.topic(),
              m.key(),
              m.payload(),
              m.requestId(),
              owner,
              now,
              m.dispatchJobId(),
              m.dispatchAttempt());
    }
    List<Long> ids = insert.returningResult(OUTBOX.ID).fetch(r -> r.value1());
    publisher.publishEvent(new Written(ids));
  }
}
