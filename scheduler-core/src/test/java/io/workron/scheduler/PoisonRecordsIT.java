package io.workron.scheduler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.workron.schemas.JobDispatch;
import io.workron.schemas.JobResult;
import io.workron.schemas.MessageType;
import io.workron.schemas.Resources;
import io.workron.schemas.Topics;
import io.workron.schemas.WireCodec;
import io.workron.schemas.WorkerHeartbeat;
import io.workron.testsupport.KafkaFixture;
import io.workron.testsupport.KafkaFixture.TopicReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * No record wedges a partition of any topic scheduler-core consumes: what cannot be applied for its
 * data ends in the dead-letter topic and the rest of the poll is applied; what fails for the
 * environment (a bad deploy) is retried, never dead-lettered, while readiness is down.
 */
class PoisonRecordsIT {

  private static final Duration WAIT = Duration.ofSeconds(30);
  private static SchedulerUnderTest sut;
  private static KafkaFixture kafka;
  private static Topics topics;

  @BeforeAll
  static void start() {
    sut = new SchedulerUnderTest();
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
  void aResultTheDatabaseRefusesIsDeadLetteredAndTheOtherResultsOfThePollAreApplied()
      throws Exception {
    String worker = sut.worker("w-poison");
    List<JobDispatch> running = runJobs(worker, 2);
    sut.execute(
        "alter table job_outputs add constraint test_refuses check (output <> 'refuse me')");
    try (TopicReader dlq = kafka.read(Topics.deadLetter(topics.results()))) {
      // one key, so both land on the same partition, in this order
      String key = "k-" + UUID.randomUUID();
      result(running.get(0), "refuse me", key);
      result(running.get(1), "fine", key);

      await().atMost(WAIT).until(() -> "done".equals(sut.status(running.get(1).jobId())));
      ConsumerRecord<String, byte[]> dead = deadLetterOf(dlq, key);
      assertThat(header(dead, Topics.DLQ_REASON_HEADER)).isEqualTo("REJECTED_BY_STORE");
      assertThat(header(dead, Topics.DLQ_ERROR_HEADER)).contains("SQLSTATE 23514");
      assertThat(sut.status(running.get(0).jobId())).isEqualTo("running");
    } finally {
      sut.execute("alter table job_outputs drop constraint test_refuses");
    }
  }

  @Test
  void aHeartbeatTheDatabaseRefusesIsDeadLetteredAndTheOtherWorkersOfThePollAreRecorded()
      throws Exception {
    sut.execute("alter table workers add constraint test_refuses check (exec_addr <> 'refuse-me')");
    try (TopicReader dlq = kafka.read(Topics.deadLetter(topics.heartbeats()))) {
      String refused = "w-refused-" + UUID.randomUUID().toString().substring(0, 6);
      String fine = "w-fine-" + UUID.randomUUID().toString().substring(0, 6);
      String key = "k-" + UUID.randomUUID();
      kafka.send(topics.heartbeats(), key, heartbeat(refused, "refuse-me"));
      kafka.send(topics.heartbeats(), key, heartbeat(fine, "10.0.0.1:1"));

      await().atMost(WAIT).until(() -> "active".equals(sut.workerStatus(fine)));
      ConsumerRecord<String, byte[]> dead = deadLetterOf(dlq, key);
      assertThat(header(dead, Topics.DLQ_REASON_HEADER)).isEqualTo("REJECTED_BY_STORE");
      assertThat(sut.workerStatus(refused)).isNull();
    } finally {
      sut.execute("alter table workers drop constraint test_refuses");
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"submissions", "results", "heartbeats"})
  void aRecordTooLargeToSendBackIsDeadLetteredAsABoundedCopyAndTheTopicKeepsMoving(String which)
      throws Exception {
    String topic =
        switch (which) {
          case "submissions" -> topics.submissions();
          case "results" -> topics.results();
          default -> topics.heartbeats();
        };
    byte[] huge = KafkaFixture.oversizedDocument(2 * 1024 * 1024);
    try (TopicReader dlq = kafka.read(Topics.deadLetter(topic))) {
      String key = "k-" + UUID.randomUUID();
      kafka.sendCompressed(topic, key, huge);
      // something valid after it on the same partition must still be applied
      String worker = "w-after-" + UUID.randomUUID().toString().substring(0, 6);
      String job = SchedulerUnderTest.newJobId();
      switch (which) {
        case "submissions" -> kafka.send(topic, key, sut.submission(job, "true", null, null));
        case "results" -> {
          JobDispatch d = runJobs(sut.worker("w-big"), 1).get(0);
          job = d.jobId();
          result(d, "after the big one", key);
        }
        default -> kafka.send(topic, key, heartbeat(worker, ""));
      }

      ConsumerRecord<String, byte[]> dead = deadLetterOf(dlq, key);
      assertThat(header(dead, Topics.DLQ_REASON_HEADER)).isEqualTo("TOO_LARGE");
      assertThat(header(dead, "workron-dlq-truncated")).isEqualTo("true");
      assertThat(header(dead, "workron-dlq-original-size"))
          .isEqualTo(Integer.toString(huge.length));
      assertThat(dead.value()).hasSize(64 * 1024);
      String id = job;
      switch (which) {
        case "submissions" -> await().atMost(WAIT).until(() -> sut.job(id) != null);
        case "results" -> await().atMost(WAIT).until(() -> "done".equals(sut.status(id)));
        default -> await().atMost(WAIT).until(() -> "active".equals(sut.workerStatus(worker)));
      }
    }
  }

  @Test
  void submissionsAndResultsConsumedDuringABadDeployAreRetriedNotDeadLetteredWhileUnready()
      throws Exception {
    JobDispatch running = runJobs(sut.worker("w-deploy"), 1).get(0);
    String job = SchedulerUnderTest.newJobId();
    try (TopicReader submissionsDlq = kafka.read(Topics.deadLetter(topics.submissions()));
        TopicReader resultsDlq = kafka.read(Topics.deadLetter(topics.results()))) {
      sut.execute("alter table jobs rename to jobs_elsewhere");
      try {
        kafka.send(topics.submissions(), job, sut.submission(job, "true", null, null));
        result(running, "done during the outage", running.jobId());

        await().atMost(WAIT).until(() -> sut.statusCode("/actuator/health/readiness") == 503);
        assertThat(sut.getResponse("/actuator/health/readiness").body())
            .contains("\"consumers\"")
            .contains("42P01");
      } finally {
        sut.execute("alter table jobs_elsewhere rename to jobs");
      }

      await().atMost(WAIT).until(() -> sut.job(job) != null);
      await().atMost(WAIT).until(() -> "done".equals(sut.status(running.jobId())));
      await().atMost(WAIT).until(() -> sut.statusCode("/actuator/health/readiness") == 200);
      assertThat(submissionsDlq.drain(Duration.ofSeconds(1))).noneMatch(r -> job.equals(r.key()));
      assertThat(resultsDlq.drain(Duration.ofSeconds(1)))
          .noneMatch(r -> running.jobId().equals(r.key()));
    }
  }

  // --- helpers

  /** Submits {@code n} jobs and lets {@code worker} take them; returns their dispatches. */
  private static List<JobDispatch> runJobs(String worker, int n) throws Exception {
    for (int i = 0; i < n; i++) {
      String id = SchedulerUnderTest.newJobId();
      kafka.send(topics.submissions(), id, sut.submission(id, "true", 1, null));
    }
    try (TopicReader dispatches = sut.readDispatches(worker)) {
      sut.heartbeat(worker, "inc-1", n, List.of(), null);
      return sut.dispatches(dispatches.until(r -> r.size() >= n, WAIT));
    }
  }

  private static void result(JobDispatch d, String output, String key) {
    Instant now = Instant.now();
    JobResult r =
        new JobResult(
            d.jobId(),
            d.attempt(),
            d.workerId(),
            d.incarnation(),
            JobResult.Outcome.SUCCEEDED,
            0,
            now,
            now,
            0L,
            output,
            false,
            null);
    kafka.send(
        topics.results(),
        key,
        sut.codec.encode(
            WireCodec.envelope(MessageType.JOB_RESULT, "r-" + UUID.randomUUID(), now, r)));
  }

  private static byte[] heartbeat(String worker, String execAddr) {
    WorkerHeartbeat hb =
        new WorkerHeartbeat(
            worker, "inc-1", 1, Resources.NONE, List.of(), execAddr, List.of(), null);
    return sut.codec.encode(
        WireCodec.envelope(
            MessageType.WORKER_HEARTBEAT, "hb-" + UUID.randomUUID(), Instant.now(), hb));
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
