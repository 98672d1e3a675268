package io.workron.scheduler.outbox;

import static io.workron.scheduler.db.Tables.OUTBOX;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.workron.testsupport.TestInfrastructure;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.flywaydb.core.Flyway;
import org.jooq.DSLContext;
import org.jooq.SQLDialect;
import org.jooq.impl.DSL;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.postgresql.ds.PGSimpleDataSource;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.jdbc.datasource.TransactionAwareDataSourceProxy;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * What a transaction adds to the outbox reaches the table, and the relay, only with its commit:
 * every message, in the order added, named once; a rollback leaves nothing behind.
 */
class OutboxIT {

  private static DSLContext db;
  private static DSLContext otherSession;
  private static TransactionTemplate tx;
  private static Outbox outbox;
  private static final List<Object> published = new ArrayList<>();

  @BeforeAll
  static void migrate() {
    TestInfrastructure infra = TestInfrastructure.get();
    PGSimpleDataSource ds = new PGSimpleDataSource();
    ds.setUrl(infra.newDatabase());
    ds.setUser(infra.username());
    ds.setPassword(infra.password());
    Flyway.configure().dataSource(ds).locations("classpath:db/migration").load().migrate();
    db = DSL.using(new TransactionAwareDataSourceProxy(ds), SQLDialect.POSTGRES);
    otherSession = DSL.using(ds, SQLDialect.POSTGRES);
    tx = new TransactionTemplate(new DataSourceTransactionManager(ds));
    outbox = new Outbox(db, Clock.systemUTC(), "outbox-it", published::add);
  }

  @BeforeEach
  void forgetPublished() {
    published.clear();
  }

  private static OutboxMessage message(String topic, String key, String text) {
    return new OutboxMessage(topic, key, text.getBytes(StandardCharsets.UTF_8), null, null, null);
  }

  private static List<String> payloadsOn(String topic) {
    return db.select(OUTBOX.PAYLOAD)
        .from(OUTBOX)
        .where(OUTBOX.TOPIC.eq(topic))
        .orderBy(OUTBOX.ID)
        .fetch(r -> new String(r.value1(), StandardCharsets.UTF_8));
  }

  @Test
  void theMessagesOfATransactionAppearWithItsCommitInTheOrderTheyWereAdded() {
    String topic = "t-" + UUID.randomUUID();
    List<Integer> seenBeforeCommit = new ArrayList<>();
    tx.executeWithoutResult(
        status -> {
          outbox.addAll(List.of(message(topic, "job-1", "event"), message(topic, "job-2", "a")));
          outbox.addAll(List.of(message(topic, "job-1", "dispatch")));
          seenBeforeCommit.add(otherSession.fetchCount(OUTBOX, OUTBOX.TOPIC.eq(topic)));
          assertThat(published).isEmpty();
        });
    assertThat(seenBeforeCommit).containsExactly(0);
    assertThat(payloadsOn(topic)).containsExactly("event", "a", "dispatch");
    List<Outbox.Written> written =
        published.stream()
            .filter(Outbox.Written.class::isInstance)
            .map(Outbox.Written.class::cast)
            .toList();
    assertThat(written).hasSize(1);
    assertThat(written.get(0).ids())
        .containsExactlyElementsOf(
            db.select(OUTBOX.ID)
                .from(OUTBOX)
                .where(OUTBOX.TOPIC.eq(topic))
                .orderBy(OUTBOX.ID)
                .fetch(r -> r.value1()));
  }

  @Test
  void aTransactionThatRollsBackLeavesNoMessageAndNamesNone() {
    String topic = "t-" + UUID.randomUUID();
    assertThatThrownBy(
            () ->
                tx.executeWithoutResult(
                    status -> {
                      outbox.addAll(List.of(message(topic, "job-1", "event")));
                      throw new IllegalStateException("the caller failed after adding");
                    }))
        .hasMessageContaining("the caller failed");
    assertThat(payloadsOn(topic)).isEmpty();
    assertThat(published).isEmpty();
  }

  @Test
  void outsideATransactionAMessageIsWrittenAtOnce() {
    String topic = "t-" + UUID.randomUUID();
    outbox.addAll(List.of(message(topic, "job-1", "alone")));
    assertThat(payloadsOn(topic)).containsExactly("alone");
    assertThat(published).hasSize(1);
  }
}
