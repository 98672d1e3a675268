package io.workron.scheduler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.workron.scheduler.outbox.OutboxRelay;
import io.workron.testsupport.KafkaFixture.TopicReader;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The outbox relay, driven one round at a time (this replica's own loops are switched off), on rows
 * written as the use cases write them.
 */
class OutboxRelayIT {

  private static final Duration WAIT = Duration.ofSeconds(30);
  private static SchedulerUnderTest sut;
  private static OutboxRelay relay;
  private static String me;

  @BeforeAll
  static void start() {
    me = "replica-" + UUID.randomUUID().toString().substring(0, 6);
    sut =
        new SchedulerUnderTest(
            "--workron.scheduler.replica-id=" + me,
            "--workron.scheduler.outbox-relay-enabled=false",
            "--workron.scheduler.outbox-sweep-age=1s",
            "--workron.scheduler.dispatch-ack-timeout=1s",
            "--workron.scheduler.reaper-tick=200ms",
            // shorter than the blocked send below, so that only renewal keeps a round's rows
            "--workron.scheduler.outbox-lease=600ms",
            // a send to a topic that does not exist fails after this
            "--spring.kafka.producer.properties.max.block.ms=1000");
    relay = sut.app.getBean(OutboxRelay.class);
  }

  @AfterAll
  static void stop() {
    sut.close();
  }

  /**
   * An outbox that sat empty (an idle spell) and was analyzed so, then a burst: the relay's claim,
   * planned once for the empty table and kept, read the whole table for every row it looked at, and
   * a round over 10,000 rows took from 35 s to minutes while every dispatch waited (a bench
   * burn-down stalled on it). Autovacuum is off on the table here so its statistics stay those of
   * the empty table, as they do until the next analyze.
   */
  @Test
  void aBurstIntoAnOutboxLastSeenEmptyIsRelayedWithoutAStall() throws Exception {
    String topic = topic("burst");
    int burst = 10_000;
    sut.execute("delete from outbox");
    sut.execute("alter table outbox set (autovacuum_enabled = false)");
    try {
      sut.execute("analyze outbox");
      // enough rounds on the empty table for PgJDBC to prepare the claim on the server and for
      // PostgreSQL to keep one plan for it
      for (int i = 0; i < 20; i++) {
        assertThat(relay.relayOwnRows()).isZero();
      }
      sut.execute(
          "insert into outbox (topic, msg_key, payload, owner, created_at) "
              + "select '"
              + topic
              + "', 'job-' || g, convert_to('v' || g, 'UTF8'), '"
              + me
              + "', now() from generate_series(1, "
              + burst
              + ") g");
      try (TopicReader reader = sut.kafka.read(topic)) {
        await()
            .atMost(Duration.ofSeconds(60))
            .until(
                () -> {
                  relay.relayOwnRows();
                  return sut.count("select count(*) from outbox") == 0;
                });
        assertThat(reader.until(seen -> seen.size() >= burst, WAIT)).hasSize(burst);
      }
    } finally {
      sut.execute("alter table outbox reset (autovacuum_enabled)");
    }
  }

  @Test
  void aSendFailureHalfwayThroughARoundDoesNotPublishTheAcknowledgedRowsAgain() throws Exception {
    String good = topic("good");
    String missing = sut.topics.prefix() + ".never-created-" + UUID.randomUUID();
    try (TopicReader reader = sut.kafka.read(good)) {
      insert(me, good, "k1", "first", false);
      insert(me, missing, "k2", "lost topic", false);
      insert(me, good, "k3", "third", false);

      assertThatThrownBy(relay::relayOwnRows).hasMessageContaining("1 of 3 outbox rows");
      assertThatThrownBy(relay::relayOwnRows).hasMessageContaining("1 of 1 outbox rows");

      assertThat(values(reader.drain(Duration.ofSeconds(2))))
          .containsExactlyInAnyOrder("first", "third");
      assertThat(sut.count("select count(*) from outbox where topic = '" + missing + "'"))
          .isEqualTo(1);
    } finally {
      sut.execute("delete from outbox where topic = '" + missing + "'");
    }
  }

  @Test
  void theOwnersRelayAndTheSweepNeverPublishTheSameRowTogether() throws Exception {
    String topic = topic("race");
    List<String> written = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      // old enough for the sweep, and this replica's own: both relays want every row
      insert(me, topic, "k" + i, "m" + i, true);
      written.add("m" + i);
    }
    try (TopicReader reader = sut.kafka.read(topic)) {
      CompletableFuture<Void> owner =
          CompletableFuture.runAsync(
              () -> {
                while (relay.relayOwnRows() > 0) {
                  // until this replica's rows are gone
                }
              });
      CompletableFuture<Void> sweep =
          CompletableFuture.runAsync(
              () -> {
                while (relay.sweepOnce() > 0) {
                  // until old rows are gone
                }
              });
      CompletableFuture.allOf(owner, sweep).get();

      List<String> published = values(reader.until(r -> r.size() >= 300, WAIT));
      assertThat(published).containsExactlyInAnyOrderElementsOf(written);
      assertThat(values(reader.drain(Duration.ofSeconds(1)))).hasSize(300);
    }
  }

  @Test
  void aStopForAJobNeverReachesTheWorkerBeforeItsDispatchWrittenByAnotherReplica()
      throws Exception {
    String dispatchTopic =
        sut.topics.dispatch("w-order-" + UUID.randomUUID().toString().substring(0, 6));
    sut.kafka.createTopic(dispatchTopic, 1);
    try (TopicReader reader = sut.kafka.read(dispatchTopic)) {
      // the dispatch was written by a replica that died before relaying it
      insert("replica-that-died", dispatchTopic, "job-1", "dispatch attempt 1", false);
      insert(me, dispatchTopic, "job-1", "stop attempt 1", false);

      relay.relayOwnRows();
      assertThat(reader.drain(Duration.ofSeconds(1))).isEmpty();
      sut.execute(
          "update outbox set created_at = now() - interval '1 minute' "
              + "where owner = 'replica-that-died'");
      relay.sweepOnce();
      relay.relayOwnRows();

      assertThat(values(reader.until(r -> r.size() >= 2, WAIT)))
          .containsExactly("dispatch attempt 1", "stop attempt 1");
    }
  }

  @Test
  void aRowLeasedByAnotherRelayIsLeftAloneUntilItsLeaseExpires() throws Exception {
    String topic = topic("lease");
    insert(me, topic, "k", "leased", true);
    sut.execute(
        "update outbox set leased_by = 'other', leased_until = now() + interval '1 minute' "
            + "where topic = '"
            + topic
            + "'");
    try (TopicReader reader = sut.kafka.read(topic)) {
      relay.relayOwnRows();
      relay.sweepOnce();
      assertThat(reader.drain(Duration.ofSeconds(1))).isEmpty();

      sut.execute(
          "update outbox set leased_until = now() - interval '1 second' where topic = '"
              + topic
              + "'");
      relay.sweepOnce();
      assertThat(values(reader.until(r -> !r.isEmpty(), WAIT))).containsExactly("leased");
    }
  }

  @Test
  void aRoundStillWaitingForTheBrokerKeepsItsRowsPastTheLease() throws Exception {
    // The lease is short so that the rows of a replica killed mid-send go out within seconds; a
    // live relay whose send takes longer must keep them, or another replica sends them as well.
    String missing = sut.topics.prefix() + ".never-created-" + UUID.randomUUID();
    insert(me, missing, "k", "slow", false);
    String lapsed =
        "select count(*) from outbox where topic = '"
            + missing
            + "' and leased_by = '"
            + me
            + "' and leased_until < now()";
    String held =
        "select count(*) from outbox where topic = '"
            + missing
            + "' and leased_by = '"
            + me
            + "' and leased_until >= now()";
    try {
      long started = System.nanoTime();
      // the send waits for the topic's metadata for max.block.ms (1 s), then fails
      CompletableFuture<Void> round = CompletableFuture.runAsync(relay::relayOwnRows);
      List<Long> lapses = new ArrayList<>();
      List<Long> holds = new ArrayList<>();
      await()
          .atMost(WAIT)
          .pollInterval(Duration.ofMillis(50))
          .until(
              () -> {
                holds.add(sut.count(held));
                lapses.add(sut.count(lapsed));
                return round.isDone();
              });
      long tookMillis = (System.nanoTime() - started) / 1_000_000;
      assertThat(round).isCompletedExceptionally();
      assertThat(tookMillis).as("the round outlasted the 600 ms lease").isGreaterThan(600);
      assertThat(holds).as("the row was seen leased by this relay").contains(1L);
      assertThat(lapses)
          .as("the lease lapsed while the round was still sending")
          .doesNotContain(1L);
      // failed, the row is released for the next round
      assertThat(sut.count(held) + sut.count(lapsed)).isZero();
    } finally {
      sut.execute("delete from outbox where topic = '" + missing + "'");
    }
  }

  @Test
  void theDispatchAckClockStartsWhenTheDispatchIsPublishedNotWhenItIsClaimed() throws Exception {
    String worker = sut.worker("w-clock");
    String id = sut.submit("true", 3);
    java.util.concurrent.ScheduledExecutorService beats =
        java.util.concurrent.Executors.newSingleThreadScheduledExecutor();
    try {
      beats.scheduleAtFixedRate(
          () -> sut.heartbeat(worker, "c1", 1, List.of(), null),
          0,
          200,
          java.util.concurrent.TimeUnit.MILLISECONDS);
      await().atMost(WAIT).until(() -> "running".equals(sut.status(id)));
      // claimed, and its worker heartbeats without listing it for far longer than the ack
      // timeout; but the dispatch is still in the outbox, so it cannot have been acknowledged
      String sinceClaim =
          "select count(*) from jobs j join workers w on w.id = j.worker_id where j.id = '"
              + id
              + "' and w.last_heartbeat_at > j.dispatched_at + interval '3 seconds'";
      await().atMost(WAIT).until(() -> sut.count(sinceClaim) == 1);
      assertThat(sut.status(id)).isEqualTo("running");
      assertThat(sut.job(id).get("attempts").asInt()).isEqualTo(1);

      while (relay.relayOwnRows() > 0) {
        // publish what this replica claimed
      }
      await().atMost(WAIT).until(() -> "pending".equals(sut.status(id)));
      assertThat(sut.job(id).get("attempt_history").get(0).get("outcome").asString())
          .isEqualTo("not_acknowledged");
    } finally {
      beats.shutdownNow();
    }
  }

  private static String topic(String name) {
    String topic =
        sut.topics.prefix() + "." + name + "-" + UUID.randomUUID().toString().substring(0, 6);
    sut.kafka.createTopic(topic, 3);
    return topic;
  }

  private static void insert(String owner, String topic, String key, String value, boolean old)
      throws Exception {
    try (Connection c =
            DriverManager.getConnection(sut.jdbcUrl, sut.infra.username(), sut.infra.password());
        PreparedStatement st =
            c.prepareStatement(
                "insert into outbox (topic, msg_key, payload, owner, created_at) values (?, ?, ?, ?, "
                    + (old ? "now() - interval '1 minute'" : "now()")
                    + ")")) {
      st.setString(1, topic);
      st.setString(2, key);
      st.setBytes(3, value.getBytes(StandardCharsets.UTF_8));
      st.setString(4, owner);
      st.executeUpdate();
    }
  }

  private static List<String> values(List<ConsumerRecord<String, byte[]>> records) {
    return records.stream().map(r -> new String(r.value(), StandardCharsets.UTF_8)).toList();
  }
}
