package io.workron.scheduler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.workron.schemas.JobDispatch;
import io.workron.schemas.JobResult;
import io.workron.schemas.Topics;
import io.workron.schemas.WorkerHeartbeat;
import io.workron.testsupport.KafkaFixture;
import io.workron.testsupport.KafkaFixture.TopicReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.context.ConfigurableApplicationContext;
import tools.jackson.databind.JsonNode;

/**
 * scheduler-core against a real PostgreSQL and a real broker, with the test playing the workers and
 * the submitting services on the wire.
 */
class SchedulerCoreIT {

  private static final Duration WAIT = Duration.ofSeconds(30);
  private static SchedulerUnderTest sut;
  private static Topics topics;
  private static KafkaFixture kafka;
  private static ConfigurableApplicationContext app;

  @BeforeAll
  static void start() {
    sut =
        new SchedulerUnderTest(
            "--workron.scheduler.retry-backoff-base=20ms",
            "--workron.scheduler.retry-backoff-max=100ms",
            "--workron.metrics.kafka-refresh=500ms",
            "--workron.metrics.queue-refresh=500ms");
    topics = sut.topics;
    kafka = sut.kafka;
    app = sut.app;
  }

  @BeforeEach
  void finishWhatOtherTestsLeft() throws Exception {
    sut.finishWhatOtherTestsLeft();
  }

  @AfterAll
  static void stop() {
    sut.close();
  }

  // --- ingestion

  @Test
  void storesEachSubmissionOnceEvenWhenItIsDeliveredTwice() throws Exception {
    String id = newJobId();
    byte[] doc = submission(id, "true", null, null);
    kafka.send(topics.submissions(), id, doc);
    kafka.send(topics.submissions(), id, doc);
    String marker = newJobId();
    kafka.send(topics.submissions(), id, submission(marker, "true", null, null));

    await().atMost(WAIT).until(() -> job(marker) != null);
    assertThat(count("select count(*) from jobs where id = '" + id + "'")).isEqualTo(1);
    assertThat(job(id).get("status").asString()).isEqualTo("pending");
    assertThat(job(id).get("max_retries").asInt()).isEqualTo(3);
  }

  @Test
  void sendsAnUnreadableSubmissionToTheDeadLetterTopicAndKeepsConsuming() {
    try (TopicReader dlq = kafka.read(Topics.deadLetter(topics.submissions()))) {
      kafka.send(
          topics.submissions(),
          "bad",
          "{\"type\":\"job.submitted.v1\",".getBytes(StandardCharsets.UTF_8));
      kafka.send(
          topics.submissions(),
          "empty",
          submissionJson("{\"id\":\"job-empty-" + UUID.randomUUID() + "\",\"command\":\"\"}"));
      String good = newJobId();
      kafka.send(topics.submissions(), good, submission(good, "true", null, null));

      List<ConsumerRecord<String, byte[]>> dead = dlq.until(r -> r.size() >= 2, WAIT);
      assertThat(dead)
          .extracting(r -> header(r, Topics.DLQ_REASON_HEADER))
          .containsExactlyInAnyOrder("MALFORMED_JSON", "SCHEMA_INVALID");
      assertThat(dead)
          .extracting(r -> header(r, Topics.DLQ_ERROR_HEADER))
          .anySatisfy(e -> assertThat(e).contains("/payload/command"));
      await().atMost(WAIT).until(() -> job(good) != null);
    }
  }

  @Test
  void deadLettersBadMessagesOnEveryConsumedTopicWithTheReasonAndCountsThem() {
    io.micrometer.core.instrument.MeterRegistry meters =
        app.getBean(io.micrometer.core.instrument.MeterRegistry.class);
    try (TopicReader submissionsDlq = kafka.read(Topics.deadLetter(topics.submissions()));
        TopicReader resultsDlq = kafka.read(Topics.deadLetter(topics.results()));
        TopicReader heartbeatsDlq = kafka.read(Topics.deadLetter(topics.heartbeats()))) {
      kafka.send(
          topics.submissions(),
          "unknown",
          "{\"type\":\"job.exploded.v9\",\"id\":\"m\",\"time\":\"2026-11-29T12:00:00Z\",\"payload\":{}}"
              .getBytes(StandardCharsets.UTF_8));
      String tooLong = "x".repeat(io.workron.schemas.JobSubmission.MAX_COMMAND_LENGTH + 1);
      kafka.send(
          topics.submissions(),
          "oversized",
          submissionJson("{\"id\":\"job-big\",\"command\":\"" + tooLong + "\"}"));
      kafka.send(topics.results(), "bad", "not json".getBytes(StandardCharsets.UTF_8));
      kafka.send(
          topics.heartbeats(),
          "bad",
          "{\"type\":\"worker.heartbeat.v1\",\"id\":\"h\",\"time\":\"2026-11-29T12:00:00Z\",\"payload\":{\"worker_id\":\"w\"}}"
              .getBytes(StandardCharsets.UTF_8));

      assertThat(submissionsDlq.until(r -> r.size() >= 2, WAIT))
          .extracting(
              r -> header(r, Topics.DLQ_REASON_HEADER) + " " + header(r, Topics.DLQ_ERROR_HEADER))
          .anySatisfy(e -> assertThat(e).startsWith("UNKNOWN_TYPE"))
          .anySatisfy(e -> assertThat(e).startsWith("SCHEMA_INVALID /payload/command"));
      assertThat(resultsDlq.until(r -> !r.isEmpty(), WAIT))
          .extracting(r -> header(r, Topics.DLQ_REASON_HEADER))
          .containsExactly("MALFORMED_JSON");
      assertThat(heartbeatsDlq.until(r -> !r.isEmpty(), WAIT))
          .extracting(r -> header(r, Topics.DLQ_REASON_HEADER))
          .containsExactly("SCHEMA_INVALID");
      await()
          .atMost(WAIT)
          .until(
              () ->
                  meters.find("workron_dead_letters_total").tag("topic", topics.results()).counter()
                          != null
                      && meters
                              .find("workron_dead_letters_total")
                              .tag("topic", topics.heartbeats())
                              .counter()
                          != null);
    }
  }

  @Test
  void aSubmissionTheDatabaseRefusesIsDeadLetteredAndTheRestOfItsPollIsStored() throws Exception {
    // a constraint stands in for any refusal the schema cannot foresee
    sut.execute(
        "alter table jobs add constraint test_refuses check (command <> 'the database refuses me')");
    try (TopicReader dlq = kafka.read(Topics.deadLetter(topics.submissions()))) {
      String refused = newJobId();
      String fine = newJobId();
      kafka.send(
          topics.submissions(),
          "one-partition",
          submission(refused, "the database refuses me", null, null));
      kafka.send(topics.submissions(), "one-partition", submission(fine, "true", null, null));

      await().atMost(WAIT).until(() -> job(fine) != null);
      List<ConsumerRecord<String, byte[]>> dead =
          dlq.until(
              r ->
                  r.stream()
                      .anyMatch(
                          m -> "REJECTED_BY_STORE".equals(header(m, Topics.DLQ_REASON_HEADER))),
              WAIT);
      assertThat(dead)
          .filteredOn(m -> "REJECTED_BY_STORE".equals(header(m, Topics.DLQ_REASON_HEADER)))
          .singleElement()
          .satisfies(
              m -> assertThat(header(m, Topics.DLQ_ERROR_HEADER)).contains("SQLSTATE 23514"));
      assertThat(job(refused)).isNull();
    } finally {
      sut.execute("alter table jobs drop constraint test_refuses");
    }
  }

  // --- dispatch and results

  @Test
  void dispatchesToALiveWorkerUpToItsSlotsAndAppliesTheResults() throws Exception {
    String worker = "w-slots-" + UUID.randomUUID().toString().substring(0, 6);
    String dispatchTopic = topics.dispatch(worker);
    kafka.createTopic(dispatchTopic, 1);
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      String id = newJobId();
      ids.add(id);
      kafka.send(topics.submissions(), id, submission(id, "echo " + i, null, "slots-test"));
    }
    await().atMost(WAIT).until(() -> ids.stream().allMatch(id -> job(id) != null));

    try (TopicReader dispatches = kafka.read(dispatchTopic)) {
      heartbeat(worker, "inc-1", 2, List.of());
      List<JobDispatch> first = sut.dispatches(dispatches.until(r -> r.size() >= 2, WAIT));
      assertThat(dispatches.drain(Duration.ofSeconds(1))).as("never more than 2 slots").hasSize(2);
      assertThat(first)
          .allSatisfy(
              d -> {
                assertThat(d.attempt()).isEqualTo(1);
                assertThat(d.incarnation()).isEqualTo("inc-1");
                assertThat(d.env()).containsEntry("WORKRON_JOB_ID", d.jobId());
              });

      JobDispatch d = first.get(0);
      result(d, JobResult.Outcome.SUCCEEDED, 0, "hello\n");
      await().atMost(WAIT).until(() -> "done".equals(status(d.jobId())));
      JsonNode done = job(d.jobId());
      assertThat(done.get("exit_code").asInt()).isZero();
      assertThat(done.get("output").asString()).isEqualTo("hello\n");
      assertThat(done.get("attempt_history").get(0).get("worker_id").asString()).isEqualTo(worker);

      // the freed slot is filled
      assertThat(dispatches.until(r -> r.size() >= 3, WAIT)).hasSize(3);
    }
  }

  @Test
  void ignoresResultsForAnOldAttemptOrAJobAlreadyFinished() throws Exception {
    String worker = "w-fence-" + UUID.randomUUID().toString().substring(0, 6);
    kafka.createTopic(topics.dispatch(worker), 1);
    String id = newJobId();
    kafka.send(topics.submissions(), id, submission(id, "true", 2, null));
    try (TopicReader dispatches = sut.readDispatches(worker)) {
      heartbeat(worker, "inc-1", 1, List.of());
      JobDispatch d = sut.dispatches(dispatches.until(r -> !r.isEmpty(), WAIT)).get(0);

      JobDispatch wrongAttempt =
          new JobDispatch(
              d.jobId(),
              d.attempt() + 1,
              d.workerId(),
              d.incarnation(),
              d.command(),
              Map.of(),
              null);
      result(wrongAttempt, JobResult.Outcome.FAILED, 9, "zombie");
      result(d, JobResult.Outcome.SUCCEEDED, 0, "real");
      result(d, JobResult.Outcome.FAILED, 1, "duplicate after done");

      await().atMost(WAIT).until(() -> "done".equals(status(id)));
      String later = newJobId();
      kafka.send(topics.submissions(), later, submission(later, "true", null, null));
      await().atMost(WAIT).until(() -> job(later) != null);
      JsonNode job = job(id);
      assertThat(job.get("status").asString()).isEqualTo("done");
      assertThat(job.get("exit_code").asInt()).isZero();
      assertThat(job.get("output").asString()).isEqualTo("real");
      assertThat(job.get("attempts").asInt()).isEqualTo(1);
    }
  }

  @Test
  void retriesAFailingJobUntilItsAttemptsAreUsedThenCancelsItsDependents() throws Exception {
    String worker = "w-retry-" + UUID.randomUUID().toString().substring(0, 6);
    kafka.createTopic(topics.dispatch(worker), 1);
    String upstream = newJobId();
    String downstream = newJobId();
    String further = newJobId();
    kafka.send(topics.submissions(), upstream, submission(upstream, "exit 3", 2, null));
    kafka.send(
        topics.submissions(),
        downstream,
        submissionJson(
            "{\"id\":\""
                + downstream
                + "\",\"command\":\"true\",\"depends_on\":[\""
                + upstream
                + "\"]}"));
    kafka.send(
        topics.submissions(),
        further,
        submissionJson(
            "{\"id\":\""
                + further
                + "\",\"command\":\"true\",\"depends_on\":[\""
                + downstream
                + "\"]}"));
    await().atMost(WAIT).until(() -> job(further) != null);
    assertThat(status(downstream)).isEqualTo("blocked");

    try (TopicReader dispatches = sut.readDispatches(worker)) {
      heartbeat(worker, "inc-1", 1, List.of());
      JobDispatch first = sut.dispatches(dispatches.until(r -> !r.isEmpty(), WAIT)).get(0);
      result(first, JobResult.Outcome.FAILED, 3, "boom 1");
      List<JobDispatch> two = sut.dispatches(dispatches.until(r -> r.size() >= 2, WAIT));
      JobDispatch second = two.get(1);
      assertThat(second.jobId()).isEqualTo(upstream);
      assertThat(second.attempt()).isEqualTo(2);
      result(second, JobResult.Outcome.FAILED, 3, "boom 2");

      await().atMost(WAIT).until(() -> "failed".equals(status(upstream)));
      JsonNode failed = job(upstream);
      assertThat(failed.get("exit_code").asInt()).isEqualTo(3);
      assertThat(failed.get("failure_reason").asString()).isEqualTo("exit code 3");
      assertThat(failed.get("attempt_history")).hasSize(2);
      await().atMost(WAIT).until(() -> "cancelled".equals(status(further)));
      assertThat(status(downstream)).isEqualTo("cancelled");
      assertThat(job(further).get("failure_reason").asString()).contains(upstream);
    }
  }

  @Test
  void prometheusCountsClaimsRetriesCompletionsAndFailuresWithTheSeedsNamesAndBuckets()
      throws Exception {
    String worker = "w-metrics-" + UUID.randomUUID().toString().substring(0, 6);
    kafka.createTopic(topics.dispatch(worker), 1);
    Map<String, Double> before = scrape();
    String flaky = newJobId();
    String broken = newJobId();
    kafka.send(topics.submissions(), flaky, submission(flaky, "flaky", 2, null));
    kafka.send(topics.submissions(), broken, submission(broken, "exit 1", 1, null));
    await().atMost(WAIT).until(() -> job(flaky) != null && job(broken) != null);
    try (TopicReader dispatches = sut.readDispatches(worker)) {
      heartbeat(worker, "inc-1", 2, List.of());
      List<JobDispatch> two = sut.dispatches(dispatches.until(r -> r.size() >= 2, WAIT));
      for (JobDispatch d : two) {
        result(d, JobResult.Outcome.FAILED, 1, "no");
      }
      JobDispatch again = sut.dispatches(dispatches.until(r -> r.size() >= 3, WAIT)).get(2);
      assertThat(again.jobId()).isEqualTo(flaky);
      result(again, JobResult.Outcome.SUCCEEDED, 0, "yes");
    }
    await().atMost(WAIT).until(() -> "done".equals(status(flaky)));
    assertThat(status(broken)).isEqualTo("failed");

    await()
        .atMost(WAIT)
        .untilAsserted(
            () -> {
              Map<String, Double> after = scrape();
              assertThat(delta(before, after, "workron_jobs_claimed_total")).isEqualTo(3);
              assertThat(delta(before, after, "workron_jobs_retried_total")).isEqualTo(1);
              assertThat(delta(before, after, "workron_jobs_failed_total")).isEqualTo(1);
              assertThat(delta(before, after, "workron_jobs_completed_total")).isEqualTo(1);
              assertThat(delta(before, after, "workron_job_queue_wait_seconds_count")).isEqualTo(3);
              assertThat(delta(before, after, "workron_job_execution_duration_seconds_count"))
                  .isEqualTo(1);
              assertThat(
                      delta(before, after, "workron_job_transitions_total{transition=\"finish\"}"))
                  .isEqualTo(1);
              // the seed's buckets, as Prometheus reads them
              assertThat(after)
                  .containsKeys(
                      "workron_job_queue_wait_seconds_bucket{le=\"0.1\"}",
                      "workron_job_queue_wait_seconds_bucket{le=\"300.0\"}",
                      "workron_job_execution_duration_seconds_bucket{le=\"300.0\"}",
                      "workron_jobs_reaped_total{outcome=\"requeued\"}",
                      "workron_jobs_reaped_total{outcome=\"failed\"}");
              // counts per queue and status, and the seed's totals
              assertThat(
                      delta(
                          Map.of(), after, "workron_queue_jobs{queue=\"default\",status=\"done\"}"))
                  .isGreaterThanOrEqualTo(1);
              assertThat(after).containsKeys("workron_jobs_pending", "workron_jobs_running");
            });
  }

  @Test
  void theScrapeShowsConsumerLagDeadLettersWorkersAndTheOutboxForTheAlerts() throws Exception {
    String worker = "w-fleet-" + UUID.randomUUID().toString().substring(0, 6);
    kafka.createTopic(topics.dispatch(worker), 1);
    heartbeat(worker, "inc-1", 3, List.of());
    kafka.send(topics.submissions(), "poison", "not json".getBytes(StandardCharsets.UTF_8));
    // a consumer group of ours that has committed one of the three records its topic holds
    String probe = topics.prefix() + ".lag-probe";
    kafka.createTopic(probe, 1);
    for (int i = 0; i < 3; i++) {
      kafka.send(probe, "k", new byte[] {1});
    }
    kafka.commit(topics.prefix() + "-lag-probe", probe, 0, 1);

    await()
        .atMost(WAIT)
        .untilAsserted(
            () -> {
              Map<String, Double> after = scrape();
              String group = "workron_kafka_consumer_lag{group=\"" + topics.prefix();
              assertThat(after.get(group + "-lag-probe\"}")).isEqualTo(2.0);
              assertThat(after.get(group + "-scheduler-submissions\"}")).isZero();
              assertThat(
                      after.get("workron_dlq_records{topic=\"" + topics.submissions() + ".dlq\"}"))
                  .isGreaterThanOrEqualTo(1.0);
              assertThat(after.get("workron_workers{status=\"active\"}"))
                  .isGreaterThanOrEqualTo(1.0);
              assertThat(after.get("workron_worker_slots_offered")).isGreaterThanOrEqualTo(3.0);
              assertThat(after)
                  .containsKeys(
                      "workron_outbox_rows",
                      "workron_outbox_oldest_age_seconds",
                      "workron_jobs_unschedulable",
                      "workron_gangs_unschedulable");
            });
  }

  @Test
  void aCancelsLogLineCarriesTheJobIdAndTheGatewaysRequestIdAsFields() throws Exception {
    String id = newJobId();
    kafka.send(topics.submissions(), id, submission(id, "true", null, null));
    await().atMost(WAIT).until(() -> job(id) != null);
    ch.qos.logback.classic.Logger logger =
        (ch.qos.logback.classic.Logger)
            org.slf4j.LoggerFactory.getLogger("io.workron.scheduler.api.JobControlController");
    ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> seen =
        new ch.qos.logback.core.read.ListAppender<>();
    seen.start();
    logger.addAppender(seen);
    try {
      var answer = sut.post("/internal/jobs/" + id + "/cancel", "{}", "req-cancel-1");
      assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
    } finally {
      logger.detachAppender(seen);
    }
    assertThat(seen.list)
        .filteredOn(e -> e.getFormattedMessage().startsWith("cancel job_id=" + id))
        .singleElement()
        .satisfies(
            e ->
                assertThat(e.getMDCPropertyMap())
                    .containsEntry("job_id", id)
                    .containsEntry("request_id", "req-cancel-1"));
  }

  /** Each sample of scheduler-core's scrape: series (name and labels) to value. */
  private static Map<String, Double> scrape() throws Exception {
    Map<String, Double> samples = new java.util.TreeMap<>();
    sut.getResponse("/actuator/prometheus")
        .body()
        .lines()
        .filter(l -> !l.startsWith("#") && !l.isBlank())
        .forEach(
            l -> {
              int space = l.lastIndexOf(' ');
              samples.put(l.substring(0, space), Double.parseDouble(l.substring(space + 1)));
            });
    return samples;
  }

  private static double delta(
      Map<String, Double> before, Map<String, Double> after, String series) {
    assertThat(after).as("series %s", series).containsKey(series);
    return after.get(series) - before.getOrDefault(series, 0.0);
  }

  @Test
  void releasesADependentJobWhenItsUpstreamIsDone() throws Exception {
    String worker = "w-dag-" + UUID.randomUUID().toString().substring(0, 6);
    kafka.createTopic(topics.dispatch(worker), 1);
    String upstream = newJobId();
    String downstream = newJobId();
    kafka.send(topics.submissions(), upstream, submission(upstream, "true", null, null));
    kafka.send(
        topics.submissions(),
        downstream,
        submissionJson(
            "{\"id\":\""
                + downstream
                + "\",\"command\":\"true\",\"depends_on\":[\""
                + upstream
                + "\"]}"));
    await().atMost(WAIT).until(() -> job(downstream) != null);
    try (TopicReader dispatches = sut.readDispatches(worker)) {
      heartbeat(worker, "inc-1", 1, List.of());
      JobDispatch first = sut.dispatches(dispatches.until(r -> !r.isEmpty(), WAIT)).get(0);
      assertThat(first.jobId()).isEqualTo(upstream);
      assertThat(status(downstream)).isEqualTo("blocked");
      result(first, JobResult.Outcome.SUCCEEDED, 0, "");
      JobDispatch second = sut.dispatches(dispatches.until(r -> r.size() >= 2, WAIT)).get(1);
      assertThat(second.jobId()).isEqualTo(downstream);
    }
  }

  @Test
  void requeuesWhatAPreviousIncarnationHeldWhenAWorkerRestarts() throws Exception {
    String worker = "w-restart-" + UUID.randomUUID().toString().substring(0, 6);
    kafka.createTopic(topics.dispatch(worker), 1);
    String id = newJobId();
    kafka.send(topics.submissions(), id, submission(id, "sleep 100", 2, null));
    try (TopicReader dispatches = sut.readDispatches(worker)) {
      heartbeat(worker, "inc-1-old", 1, List.of());
      JobDispatch first = sut.dispatches(dispatches.until(r -> !r.isEmpty(), WAIT)).get(0);
      assertThat(first.incarnation()).isEqualTo("inc-1-old");

      heartbeat(worker, "inc-2-new", 1, List.of());

      JobDispatch again = sut.dispatches(dispatches.until(r -> r.size() >= 2, WAIT)).get(1);
      assertThat(again.jobId()).isEqualTo(id);
      assertThat(again.incarnation()).isEqualTo("inc-2-new");
      assertThat(again.attempt()).isEqualTo(2);
      // a late result from the old incarnation changes nothing
      result(first, JobResult.Outcome.SUCCEEDED, 0, "zombie");
      result(again, JobResult.Outcome.SUCCEEDED, 0, "fresh");
      await().atMost(WAIT).until(() -> "done".equals(status(id)));
      assertThat(job(id).get("output").asString()).isEqualTo("fresh");
      JsonNode taken = job(id).get("attempt_history").get(0);
      assertThat(taken.get("reason").asString()).isEqualTo("worker restarted");
      assertThat(taken.get("outcome").asString()).isEqualTo("worker_restarted");
    }
  }

  @Test
  void aStoppingWorkerGetsNothingNewAndWhatItLeftReturnsWithoutUsingARetry() throws Exception {
    String leaving = "w-leaving-" + UUID.randomUUID().toString().substring(0, 6);
    String staying = "w-staying-" + UUID.randomUUID().toString().substring(0, 6);
    kafka.createTopic(topics.dispatch(leaving), 1);
    kafka.createTopic(topics.dispatch(staying), 1);
    String held = newJobId();
    try (TopicReader leavingDispatches = sut.readDispatches(leaving);
        TopicReader stayingDispatches = sut.readDispatches(staying)) {
      // inc-0 was this worker's previous process, replaced by inc-1
      heartbeat(leaving, "inc-0", 2, List.of());
      await().atMost(WAIT).until(() -> "active".equals(workerStatus(leaving)));
      heartbeat(leaving, "inc-1", 2, List.of());
      await().atMost(WAIT).until(() -> sut.get("/internal/workers").toString().contains("inc-1"));
      kafka.send(topics.submissions(), held, submission(held, "sleep 100", 1, null));
      JobDispatch first = sut.dispatches(leavingDispatches.until(r -> !r.isEmpty(), WAIT)).get(0);
      List<WorkerHeartbeat.RunningAttempt> holding =
          List.of(new WorkerHeartbeat.RunningAttempt(held, first.attempt()));

      heartbeat(leaving, "inc-1", 2, holding, WorkerHeartbeat.State.STOPPING);
      await().atMost(WAIT).until(() -> "draining".equals(workerStatus(leaving)));
      String fresh = newJobId();
      kafka.send(topics.submissions(), fresh, submission(fresh, "true", null, null));
      heartbeat(staying, "inc-1", 2, List.of());
      assertThat(sut.dispatches(stayingDispatches.until(r -> !r.isEmpty(), WAIT)).get(0).jobId())
          .isEqualTo(fresh);

      heartbeat(leaving, "inc-1", 2, List.of(), WorkerHeartbeat.State.STOPPED);

      JobDispatch again = sut.dispatches(stayingDispatches.until(r -> r.size() >= 2, WAIT)).get(1);
      assertThat(again.jobId()).isEqualTo(held);
      assertThat(again.attempt()).isEqualTo(2);
      assertThat(job(held).get("attempt_history").get(0).get("outcome").asString())
          .isEqualTo("worker_stopped");
      assertThat(sut.dispatches(leavingDispatches.drain(Duration.ofMillis(500)))).hasSize(1);
      assertThat(workerStatus(leaving)).isEqualTo("offline");

      // a heartbeat from the replaced incarnation (a zombie process) does not revive the worker
      double staleBefore = sut.staleMessages("heartbeat");
      heartbeat(leaving, "inc-0", 2, List.of());
      await().atMost(WAIT).until(() -> sut.staleMessages("heartbeat") > staleBefore);
      assertThat(workerStatus(leaving)).isEqualTo("offline");
    }
  }

  @Test
  void tellsAnOlderIncarnationStillTalkingThatANewerOneTookOverItsWorkerId() throws Exception {
    String worker = "w-twice-" + UUID.randomUUID().toString().substring(0, 6);
    kafka.createTopic(topics.dispatch(worker), 1);
    try (TopicReader dispatchTopic = kafka.read(topics.dispatch(worker))) {
      heartbeat(worker, "inc-1", 1, List.of());
      await().atMost(WAIT).until(() -> "active".equals(workerStatus(worker)));
      heartbeat(worker, "inc-2", 1, List.of()); // a second process with the same id
      await().atMost(WAIT).until(() -> sut.get("/internal/workers").toString().contains("inc-2"));
      heartbeat(worker, "inc-1", 1, List.of()); // the first process still talks

      ConsumerRecord<String, byte[]> order = dispatchTopic.until(r -> !r.isEmpty(), WAIT).get(0);
      var control =
          sut.codec.decode(order.value(), io.workron.schemas.MessageType.WORKER_CONTROL).payload();
      assertThat(control.incarnation()).isEqualTo("inc-1");
      assertThat(control.action()).isEqualTo(io.workron.schemas.WorkerControl.Action.SUPERSEDED);
      assertThat(control.reason()).isEqualTo("incarnation inc-2 took over worker id " + worker);
      assertThat(sut.get("/internal/workers").toString()).contains("inc-2");
    }
  }

  // --- query API

  @Test
  void listsJobsPageByPageNewestFirstOrOldestFirstFilteredByQueueIdPrefixAndStatus()
      throws Exception {
    String run = UUID.randomUUID().toString().substring(0, 6);
    String queue = "page-" + run;
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      // a locale's order ignores the dash, so only an exact prefix match keeps "-" from "a"
      String id = "pfx-" + run + (i % 2 == 0 ? "-" : "a") + i;
      ids.add(id);
      kafka.send(topics.submissions(), id, submission(id, "true", null, queue));
    }
    String other = "pfx-" + run + "-other";
    kafka.send(topics.submissions(), other, submission(other, "true", null, null));
    await().atMost(WAIT).until(() -> ids.stream().allMatch(id -> job(id) != null));
    await().atMost(WAIT).until(() -> job(other) != null);

    List<String> newest = pages("/internal/jobs?limit=2&queue=" + queue);
    assertThat(newest).doesNotHaveDuplicates().containsExactlyInAnyOrderElementsOf(ids);
    // newest first: by creation time, then by id (a schedule's ids are not time-ordered)
    List<String> byTime = new ArrayList<>(ids);
    Map<String, java.time.OffsetDateTime> created = new java.util.HashMap<>();
    for (String id : ids) {
      created.put(id, java.time.OffsetDateTime.parse(job(id).get("created_at").asString()));
    }
    byTime.sort(
        java.util.Comparator.comparing((String id) -> created.get(id).toInstant())
            .thenComparing(id -> id)
            .reversed());
    assertThat(newest).containsExactlyElementsOf(byTime);
    List<String> oldest = pages("/internal/jobs?limit=2&order=asc&queue=" + queue);
    List<String> reversed = new ArrayList<>(newest);
    java.util.Collections.reverse(reversed);
    assertThat(oldest).containsExactlyElementsOf(reversed);

    List<String> prefixed = pages("/internal/jobs?limit=3&id_prefix=pfx-" + run + "-");
    assertThat(prefixed).containsExactlyInAnyOrder(ids.get(0), ids.get(2), ids.get(4), other);
    assertThat(pages("/internal/jobs?limit=3&id_prefix=pfx-" + run)).hasSize(6);
    assertThat(pages("/internal/jobs?id_prefix=pfx-" + run + "-&queue=" + queue))
        .containsExactlyInAnyOrder(ids.get(0), ids.get(2), ids.get(4));
    assertThat(pages("/internal/jobs?status=failed&queue=" + queue)).isEmpty();
    assertThat(pages("/internal/jobs?id_prefix=pfx-" + run + "%25")).isEmpty();

    assertThat(sut.statusCode("/internal/jobs?cursor=abc")).as("a made-up cursor").isEqualTo(400);
    JsonNode first = get("/internal/jobs?limit=1&queue=" + queue);
    String newestCursor = first.get("next_cursor").asString();
    assertThat(sut.statusCode("/internal/jobs?order=asc&cursor=" + newestCursor))
        .as("a cursor of the other order")
        .isEqualTo(400);
    assertThat(sut.statusCode("/internal/jobs?order=sideways")).isEqualTo(400);
  }

  @Test
  void theOverviewFoldsEachMinuteOfEndedJobsIntoCountsAndPercentiles() throws Exception {
    // jobs that ended fifty minutes ago, when nothing else of this test class ran
    java.time.OffsetDateTime minute =
        java.time.OffsetDateTime.now(java.time.ZoneOffset.UTC)
            .minusMinutes(50)
            .truncatedTo(java.time.temporal.ChronoUnit.MINUTES);
    String queue = "overview-" + UUID.randomUUID().toString().substring(0, 6);
    int[][] jobs = {{100, 1000}, {300, 3000}, {200, 2000}};
    String[] statuses = {"done", "done", "failed"};
    for (int i = 0; i < jobs.length; i++) {
      java.time.OffsetDateTime created = minute.plusSeconds(10 + i);
      java.time.OffsetDateTime started = created.plusNanos(jobs[i][0] * 1_000_000L);
      java.time.OffsetDateTime finished = started.plusNanos(jobs[i][1] * 1_000_000L);
      sut.execute(
          "insert into jobs (id, command, status, queue_name, created_at, run_at, started_at,"
              + " finished_at) values ('"
              + queue
              + "-"
              + i
              + "', 'true', '"
              + statuses[i]
              + "', '"
              + queue
              + "', '"
              + created
              + "', '"
              + created
              + "', '"
              + started
              + "', '"
              + finished
              + "')");
    }
    sut.app
        .getBean(io.workron.scheduler.overview.Rollups.class)
        .fold(minute.minusMinutes(1), minute.plusMinutes(2));

    JsonNode row = null;
    for (JsonNode m : get("/internal/overview?minutes=60").path("minutes")) {
      if (java.time.OffsetDateTime.parse(m.path("minute").asString()).isEqual(minute)) {
        row = m;
      }
    }
    assertThat(row).as("the minute of those jobs").isNotNull();
    assertThat(row.path("done").asInt()).isEqualTo(2);
    assertThat(row.path("failed").asInt()).isEqualTo(1);
    assertThat(row.path("cancelled").asInt()).isZero();
    assertThat(row.path("wait_p50_ms").asDouble()).isEqualTo(200.0);
    assertThat(row.path("run_p50_ms").asDouble()).isEqualTo(2000.0);
    assertThat(row.path("wait_p95_ms").asDouble()).isBetween(280.0, 300.0);
    assertThat(get("/internal/overview?minutes=60").path("minutes")).hasSize(60);
    assertThat(sut.statusCode("/internal/overview?minutes=0")).isEqualTo(400);
  }

  /** Every id of every page of {@code path}. */
  private List<String> pages(String path) throws Exception {
    List<String> seen = new ArrayList<>();
    String cursor = null;
    do {
      JsonNode page = get(path + (cursor == null ? "" : "&cursor=" + cursor));
      page.get("jobs").forEach(j -> seen.add(j.get("id").asString()));
      cursor = page.get("next_cursor").isNull() ? null : page.get("next_cursor").asString();
    } while (cursor != null);
    return seen;
  }

  @Test
  void answersAWaitForAStoredJobOnceItsSubmissionHasBeenIngested() throws Exception {
    String id = newJobId();
    // ask first, for the offset the submission is about to get: the answer has to wait for it
    long next = kafka.endOffset(topics.submissions(), 0);
    var waiting =
        java.util.concurrent.CompletableFuture.supplyAsync(
            () -> {
              try {
                return sut.getResponse(
                    "/internal/jobs/"
                        + id
                        + "/stored?partition=0&offset="
                        + next
                        + "&wait_ms=10000");
              } catch (Exception e) {
                throw new IllegalStateException(e);
              }
            });
    var stored = kafka.send(topics.submissions(), 0, id, submission(id, "true", null, null));
    assertThat(stored.offset()).isEqualTo(next);

    var response = waiting.get(30, java.util.concurrent.TimeUnit.SECONDS);
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(sut.codec.mapper().readTree(response.body()).get("id").asString()).isEqualTo(id);
  }

  @Test
  void aWaitForASubmissionNotYetWrittenEndsIn404SayingIngestionHasNotGotThere() throws Exception {
    var response =
        sut.getResponse("/internal/jobs/job-never/stored?partition=0&offset=999999&wait_ms=200");

    assertThat(response.statusCode()).isEqualTo(404);
    assertThat(sut.codec.mapper().readTree(response.body()).get("caught_up").asBoolean()).isFalse();
  }

  @Test
  void tellsWhichIdsExistOnceIngestionHasHandledEverythingSubmittedBefore() throws Exception {
    String id = newJobId();
    var stored = kafka.send(topics.submissions(), id, submission(id, "true", null, null));
    String never = "job-never-" + UUID.randomUUID();

    var response =
        sut.post(
            "/internal/jobs/existing",
            "{\"ids\":[\""
                + id
                + "\",\""
                + never
                + "\"],\"submitted_before\":{\""
                + stored.partition()
                + "\":"
                + (stored.offset() + 1)
                + "},\"wait_ms\":10000}");

    assertThat(response.statusCode()).isEqualTo(200);
    JsonNode body = sut.codec.mapper().readTree(response.body());
    assertThat(body.get("existing").toString()).isEqualTo("[\"" + id + "\"]");
    assertThat(body.get("missing").toString()).isEqualTo("[\"" + never + "\"]");
    assertThat(body.get("caught_up").asBoolean()).isTrue();
  }

  @Test
  void namesTheCycleANewJobWouldCloseByWaitingForAStoredJob() throws Exception {
    String later = newJobId();
    String waiting = newJobId();
    kafka.send(
        topics.submissions(),
        waiting,
        submissionJson(
            "{\"id\":\""
                + waiting
                + "\",\"command\":\"true\",\"depends_on\":[\""
                + later
                + "\"]}"));
    await().atMost(WAIT).until(() -> job(waiting) != null);

    var response =
        sut.post(
            "/internal/jobs/existing",
            "{\"ids\":[\"" + waiting + "\"],\"job_id\":\"" + later + "\"}");

    JsonNode body = sut.codec.mapper().readTree(response.body());
    assertThat(body.get("cycle").toString())
        .isEqualTo("[\"" + later + "\",\"" + waiting + "\",\"" + later + "\"]");
  }

  // --- helpers

  private static String newJobId() {
    return SchedulerUnderTest.newJobId();
  }

  private static byte[] submission(String id, String command, Integer maxRetries, String queue) {
    return sut.submission(id, command, maxRetries, queue);
  }

  private static byte[] submissionJson(String payload) {
    return SchedulerUnderTest.submissionJson(payload);
  }

  private static void heartbeat(
      String worker, String incarnation, int slots, List<WorkerHeartbeat.RunningAttempt> running) {
    sut.heartbeat(worker, incarnation, slots, running, null);
  }

  private static void heartbeat(
      String worker,
      String incarnation,
      int slots,
      List<WorkerHeartbeat.RunningAttempt> running,
      WorkerHeartbeat.State state) {
    sut.heartbeat(worker, incarnation, slots, running, state);
  }

  private static void result(
      JobDispatch d, JobResult.Outcome outcome, int exitCode, String output) {
    sut.result(d, outcome, exitCode, output);
  }

  private static String header(ConsumerRecord<String, byte[]> r, String name) {
    return new String(r.headers().lastHeader(name).value(), StandardCharsets.UTF_8);
  }

  private static JsonNode job(String id) {
    return sut.job(id);
  }

  private static String status(String id) {
    return sut.status(id);
  }

  private static JsonNode get(String path) throws Exception {
    return sut.get(path);
  }

  private static String workerStatus(String worker) throws Exception {
    return sut.workerStatus(worker);
  }

  private static long count(String sql) throws Exception {
    return sut.count(sql);
  }
}
