package io.workron.scheduler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.workron.schemas.Resources;
import io.workron.schemas.Topics;
import io.workron.testsupport.KafkaFixture;
import io.workron.testsupport.KafkaFixture.TopicReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * Jobs that wait for what may never come say why, and end after their timeout instead of waiting
 * forever (an unschedulable job, a dependency never submitted, a dispatch never acknowledged);
 * dependency input that could never run (a cycle) is refused at ingestion.
 */
class WaitingJobsIT {

  private static final Duration WAIT = Duration.ofSeconds(30);
  private static SchedulerUnderTest sut;
  private static KafkaFixture kafka;
  private static Topics topics;

  @BeforeAll
  static void start() {
    sut =
        new SchedulerUnderTest(
            "--workron.scheduler.reaper-tick=200ms",
            "--workron.scheduler.unschedulable-timeout=3s",
            "--workron.scheduler.dependency-wait-timeout=3s",
            "--workron.scheduler.dispatch-ack-timeout=1s",
            "--workron.scheduler.requeue-delay=0s",
            "--workron.scheduler.max-free-requeues=1",
            "--workron.scheduler.worker-retention=2s");
    kafka = sut.kafka;
    topics = sut.topics;
  }

  @BeforeEach
  void finishWhatOtherTestsLeft() throws Exception {
    sut.finishWhatOtherTestsLeft();
  }

  @AfterAll
  static void stop() {
    sut.close();
  }

  @Test
  void aJobNoRegisteredWorkerCouldHoldSaysWhyThenFailsAfterTheTimeoutAndCancelsItsDependents()
      throws Exception {
    String worker = sut.worker("w-small");
    sut.heartbeat(worker, "inc-1", 2, List.of(), null, new Resources(0, 4096));
    String huge = SchedulerUnderTest.newJobId();
    String after = SchedulerUnderTest.newJobId();
    kafka.send(
        topics.submissions(),
        huge,
        SchedulerUnderTest.submissionJson(
            "{\"id\":\"" + huge + "\",\"command\":\"true\",\"resources\":{\"memory_mb\":999999}}"));
    kafka.send(
        topics.submissions(),
        after,
        SchedulerUnderTest.submissionJson(
            "{\"id\":\"" + after + "\",\"command\":\"true\",\"depends_on\":[\"" + huge + "\"]}"));

    JsonNode waiting =
        await().atMost(WAIT).until(() -> sut.job(huge), j -> j != null && j.has("wait_reason"));
    assertThat(waiting.get("status").asString()).isEqualTo("pending");
    assertThat(waiting.get("wait_reason").asString())
        .isEqualTo("no registered worker offers memory_mb 999999 (the most any offers is 4096)");

    await().atMost(WAIT).until(() -> "failed".equals(sut.status(huge)));
    assertThat(sut.job(huge).get("failure_reason").asString())
        .isEqualTo(
            "unschedulable for PT3S: no registered worker offers memory_mb 999999 (the most any"
                + " offers is 4096)");
    await().atMost(WAIT).until(() -> "cancelled".equals(sut.status(after)));
    assertThat(sut.job(after).get("failure_reason").asString())
        .isEqualTo("upstream job " + huge + " failed");
  }

  @Test
  void aJobWaitingForAnIdNeverSubmittedSaysSoThenIsCancelledAfterTheTimeout() throws Exception {
    String ghost = "job-ghost-" + System.nanoTime();
    String waiting = SchedulerUnderTest.newJobId();
    kafka.send(
        topics.submissions(),
        waiting,
        SchedulerUnderTest.submissionJson(
            "{\"id\":\""
                + waiting
                + "\",\"command\":\"true\",\"depends_on\":[\""
                + ghost
                + "\"]}"));

    JsonNode blocked = await().atMost(WAIT).until(() -> sut.job(waiting), j -> j != null);
    assertThat(blocked.get("status").asString()).isEqualTo("blocked");
    assertThat(blocked.get("wait_reason").asString())
        .startsWith("waiting for " + ghost + ", which has not been submitted; cancelled at ");

    await().atMost(WAIT).until(() -> "cancelled".equals(sut.status(waiting)));
    assertThat(sut.job(waiting).get("failure_reason").asString())
        .isEqualTo("dependency " + ghost + " was never submitted (waited PT3S)");
  }

  @Test
  void aSelfDependencyFromKafkaIsDeadLetteredWithTheReason() {
    String self = SchedulerUnderTest.newJobId();
    try (TopicReader dlq = kafka.read(Topics.deadLetter(topics.submissions()))) {
      kafka.send(
          topics.submissions(),
          self,
          SchedulerUnderTest.submissionJson(
              "{\"id\":\"" + self + "\",\"command\":\"true\",\"depends_on\":[\"" + self + "\"]}"));

      ConsumerRecord<String, byte[]> dead = deadLetterOf(dlq, self);
      assertThat(header(dead, Topics.DLQ_REASON_HEADER)).isEqualTo("DEPENDENCY_CYCLE");
      assertThat(header(dead, Topics.DLQ_ERROR_HEADER))
          .isEqualTo("/payload/depends_on: a job cannot depend on itself");
    }
  }

  @Test
  void aCycleWithinOnePollRefusesTheSubmissionThatClosesItAndKeepsTheOther() throws Exception {
    String a = SchedulerUnderTest.newJobId();
    String b = SchedulerUnderTest.newJobId();
    try (TopicReader dlq = kafka.read(Topics.deadLetter(topics.submissions()))) {
      // one key: same partition, this order, most likely the same poll
      kafka.send(topics.submissions(), a, dependent(a, b));
      kafka.send(topics.submissions(), a, dependent(b, a));

      ConsumerRecord<String, byte[]> dead = deadLetterOf(dlq, a);
      assertThat(header(dead, Topics.DLQ_REASON_HEADER)).isEqualTo("DEPENDENCY_CYCLE");
      assertThat(header(dead, Topics.DLQ_ERROR_HEADER))
          .isEqualTo(
              "/payload/depends_on: depending on these jobs would form a cycle: "
                  + b
                  + " -> "
                  + a
                  + " -> "
                  + b);
      await().atMost(WAIT).until(() -> sut.job(a) != null);
      assertThat(sut.job(b)).isNull();
      assertThat(sut.status(a)).isEqualTo("blocked");
    }
  }

  @Test
  void aCycleAcrossSubmissionsRefusesTheLaterOne() throws Exception {
    String a = SchedulerUnderTest.newJobId();
    String b = SchedulerUnderTest.newJobId();
    String c = SchedulerUnderTest.newJobId();
    try (TopicReader dlq = kafka.read(Topics.deadLetter(topics.submissions()))) {
      kafka.send(topics.submissions(), a, dependent(a, b));
      kafka.send(topics.submissions(), b, dependent(b, c));
      await().atMost(WAIT).until(() -> sut.job(a) != null && sut.job(b) != null);

      kafka.send(topics.submissions(), c, dependent(c, a));

      ConsumerRecord<String, byte[]> dead = deadLetterOf(dlq, c);
      assertThat(header(dead, Topics.DLQ_ERROR_HEADER))
          .endsWith("would form a cycle: " + c + " -> " + a + " -> " + b + " -> " + c);
      assertThat(sut.job(c)).isNull();
    }
  }

  @Test
  void aDispatchThatIsNeverAcknowledgedStopsBeingFreeAfterMaxFreeRequeuesAndFails()
      throws Exception {
    String forgetful = sut.worker("w-forgetful");
    String id = sut.submit("true", 1);
    // the worker heartbeats but never lists what it is sent, and no result ever comes
    java.util.concurrent.ScheduledExecutorService beats =
        java.util.concurrent.Executors.newSingleThreadScheduledExecutor();
    try {
      beats.scheduleAtFixedRate(
          () -> sut.heartbeat(forgetful, "f1", 1, List.of(), null),
          0,
          200,
          java.util.concurrent.TimeUnit.MILLISECONDS);

      await().atMost(WAIT).until(() -> "failed".equals(sut.status(id)));
      JsonNode job = sut.job(id);
      // one free take-back, then the second one counts and max_retries (1) is used up
      assertThat(job.get("attempts").asInt()).isEqualTo(2);
      assertThat(job.get("failure_reason").asString()).isEqualTo("dispatch not acknowledged");
      assertThat(job.get("attempt_history").get(1).get("outcome").asString())
          .isEqualTo("not_acknowledged");
    } finally {
      beats.shutdownNow();
    }
  }

  @Test
  void aWorkerAbsentForLongerThanTheRetentionIsForgottenWithItsDispatchTopics() throws Exception {
    String gone = sut.worker("w-gone");
    sut.heartbeat(gone, "g1", 1, List.of(), null);
    await().atMost(WAIT).until(() -> "active".equals(sut.workerStatus(gone)));
    sut.heartbeat(gone, "g1", 1, List.of(), io.workron.schemas.WorkerHeartbeat.State.STOPPED);
    await().atMost(WAIT).until(() -> "offline".equals(sut.workerStatus(gone)));

    await().atMost(WAIT).until(() -> sut.workerStatus(gone) == null);
    try (org.apache.kafka.clients.admin.Admin admin =
        org.apache.kafka.clients.admin.Admin.create(
            java.util.Map.of("bootstrap.servers", sut.infra.kafkaBootstrapServers()))) {
      await()
          .atMost(WAIT)
          .until(
              () ->
                  !admin.listTopics().names().get().contains(topics.dispatch(gone))
                      && !admin
                          .listTopics()
                          .names()
                          .get()
                          .contains(Topics.deadLetter(topics.dispatch(gone))));
    }
  }

  private static byte[] dependent(String id, String dependsOn) {
    return SchedulerUnderTest.submissionJson(
        "{\"id\":\"" + id + "\",\"command\":\"true\",\"depends_on\":[\"" + dependsOn + "\"]}");
  }

  private static ConsumerRecord<String, byte[]> deadLetterOf(TopicReader dlq, String key) {
    return dlq.until(rs -> rs.stream().anyMatch(r -> key.equals(r.key())), WAIT).stream()
        .filter(r -> key.equals(r.key()))
        .findFirst()
        .orElseThrow();
  }

  private static String header(ConsumerRecord<String, byte[]> r, String name) {
    var h = r.headers().lastHeader(name);
    return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
  }
}
