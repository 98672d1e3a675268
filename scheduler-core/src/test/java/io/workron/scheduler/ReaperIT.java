package io.workron.scheduler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.MeterRegistry;
import io.workron.scheduler.liveness.Reaper;
import io.workron.schemas.JobDispatch;
import io.workron.schemas.JobResult;
import io.workron.schemas.Topics;
import io.workron.schemas.WorkerHeartbeat.RunningAttempt;
import io.workron.testsupport.KafkaFixture;
import io.workron.testsupport.KafkaFixture.TopicReader;
import java.sql.Connection;
import java.sql.DriverManager;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.context.ConfigurableApplicationContext;
import tools.jackson.databind.JsonNode;

/**
 * Failure detection: scheduler-core with short timers against a real PostgreSQL and broker, the
 * test playing workers that go silent, never acknowledge, or stop listing an attempt.
 */
class ReaperIT {

  private static final Duration WAIT = Duration.ofSeconds(30);
  private static SchedulerUnderTest sut;
  private static Topics topics;
  private static KafkaFixture kafka;
  private static ConfigurableApplicationContext app;
  private final ScheduledExecutorService beats = Executors.newScheduledThreadPool(2);

  @BeforeAll
  static void start() {
    sut =
        new SchedulerUnderTest(
            "--workron.scheduler.reaper-tick=200ms",
            "--workron.scheduler.worker-offline-after=2s",
            "--workron.scheduler.tick-interval=200ms",
            "--workron.scheduler.dispatch-ack-timeout=2s",
            "--workron.scheduler.job-heartbeat-timeout=2s",
            "--workron.scheduler.retry-backoff-base=20ms",
            "--workron.scheduler.requeue-delay=3s");
    topics = sut.topics;
    kafka = sut.kafka;
    app = sut.app;
  }

  @BeforeEach
  void finishWhatOtherTestsLeft() throws Exception {
    sut.finishWhatOtherTestsLeft();
  }

  @AfterEach
  void stopBeating() throws InterruptedException {
    beats.shutdownNow();
    assertThat(beats.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
  }

  @AfterAll
  static void stop() {
    sut.close();
  }

  @Test
  void marksASilentWorkerOfflineAndRunsItsAttemptElsewhere() throws Exception {
    String silent = worker("silent");
    String healthy = worker("healthy");
    String id = submit("sleep 60", 3);
    List<RunningAttempt> silentRuns = new CopyOnWriteArrayList<>();
    try (TopicReader silentDispatches = sut.readDispatches(silent);
        TopicReader healthyDispatches = sut.readDispatches(healthy)) {
      var silentBeat =
          beats.scheduleAtFixedRate(
              () -> heartbeat(silent, "s1", silentRuns), 0, 300, TimeUnit.MILLISECONDS);
      JobDispatch first = dispatches(silentDispatches.until(r -> !r.isEmpty(), WAIT)).get(0);
      silentRuns.add(new RunningAttempt(first.jobId(), first.attempt()));
      await().atMost(WAIT).until(() -> !job(id).path("last_heart_beat").isMissingNode());

      silentBeat.cancel(false);
      beats.scheduleAtFixedRate(
          () -> heartbeat(healthy, "h1", List.of()), 0, 300, TimeUnit.MILLISECONDS);

      JobDispatch second = dispatches(healthyDispatches.until(r -> !r.isEmpty(), WAIT)).get(0);
      assertThat(second.jobId()).isEqualTo(id);
      assertThat(second.attempt()).isEqualTo(2);
      JsonNode history = job(id).get("attempt_history");
      assertThat(history.get(0).get("outcome").asString()).isEqualTo("worker_lost");
      assertThat(history.get(0).get("reason").asString()).isEqualTo("worker lost");
      assertThat(workerStatus(silent)).isEqualTo("offline");
    }
  }

  @Test
  void requeuesADispatchTheWorkerNeverAcknowledgesWithoutUsingARetryAndOrdersItStopped()
      throws Exception {
    String forgetful = worker("forgetful");
    String id = submit("true", 1);
    try (TopicReader dispatches = sut.readDispatches(forgetful);
        TopicReader everything = kafka.read(topics.dispatch(forgetful))) {
      // it heartbeats, but never lists what it was sent
      beats.scheduleAtFixedRate(
          () -> heartbeat(forgetful, "f1", List.of()), 0, 300, TimeUnit.MILLISECONDS);

      List<JobDispatch> sent = dispatches(dispatches.until(r -> r.size() >= 2, WAIT));
      assertThat(sent).extracting(JobDispatch::attempt).startsWith(1, 2);
      JsonNode job = job(id);
      assertThat(job.get("status").asString()).isIn("running", "pending");
      assertThat(job.get("attempt_history").get(0).get("outcome").asString())
          .isEqualTo("not_acknowledged");
      // the first attempt may still run there: it is ordered stopped, after its own dispatch and
      // before the next attempt's
      List<ConsumerRecord<String, byte[]>> onTopic =
          everything.until(r -> r.size() >= 3 && !stopsIn(r).isEmpty(), WAIT);
      List<String> order = onTopic.stream().map(r -> isStop(r) ? "stop" : "dispatch").toList();
      assertThat(order).startsWith("dispatch", "stop", "dispatch");
      io.workron.schemas.JobStop stop = sut.stops(stopsIn(onTopic)).get(0);
      assertThat(stop.jobId()).isEqualTo(id);
      assertThat(stop.attempt()).isEqualTo(1);
      assertThat(stop.incarnation()).isEqualTo("f1");
      assertThat(stop.cause()).isEqualTo(io.workron.schemas.StopCause.TAKEN_BACK);
      assertThat(stop.reason()).isEqualTo("dispatch not acknowledged");
      // max_retries is 1: had the unacknowledged attempt counted, the job would have failed
      JobDispatch last = sent.get(sent.size() - 1);
      result(last, JobResult.Outcome.SUCCEEDED, 0);
      await().atMost(WAIT).until(() -> "done".equals(job(id).get("status").asString()));
    }
  }

  @Test
  void aResultThatArrivesAfterTheAttemptWasTakenBackStillCountsUntilItIsDispatchedAgain()
      throws Exception {
    String slow = worker("slow");
    String id = submit("true", 1);
    try (TopicReader dispatches = sut.readDispatches(slow)) {
      // the worker ran the job so fast that no heartbeat listed it, and its result is late
      beats.scheduleAtFixedRate(
          () -> heartbeat(slow, "l1", List.of()), 0, 300, TimeUnit.MILLISECONDS);
      JobDispatch d = dispatches(dispatches.until(r -> !r.isEmpty(), WAIT)).get(0);
      await().atMost(WAIT).until(() -> "pending".equals(job(id).get("status").asString()));

      result(d, JobResult.Outcome.SUCCEEDED, 0);

      await().atMost(WAIT).until(() -> "done".equals(job(id).get("status").asString()));
      JsonNode job = job(id);
      assertThat(job.get("attempts").asInt()).isEqualTo(1);
      assertThat(job.get("attempt_history")).hasSize(1);
      assertThat(job.get("attempt_history").get(0).get("outcome").asString())
          .isEqualTo("succeeded");
    }
  }

  @Test
  void aDispatchIsNotTakenBackWhileItsResultsPartitionIsBehindTheHeartbeatsThatOmitIt()
      throws Exception {
    String quick = worker("quick");
    String id = submit("true", 1);
    var results =
        app.getBean(org.springframework.kafka.config.KafkaListenerEndpointRegistry.class)
            .getListenerContainer("results");
    try (TopicReader dispatches = sut.readDispatches(quick)) {
      // the worker ran the job between two heartbeats, so none listed it; its result is in
      // Kafka, but scheduler-core's results consumer is behind
      beats.scheduleAtFixedRate(
          () -> heartbeat(quick, "q1", List.of()), 0, 300, TimeUnit.MILLISECONDS);
      JobDispatch d = dispatches(dispatches.until(r -> !r.isEmpty(), WAIT)).get(0);
      results.pause();
      await().atMost(WAIT).until(results::isPauseRequested);
      result(d, JobResult.Outcome.SUCCEEDED, 0);

      // heartbeats omitting the attempt keep coming, well past the dispatch-ack timeout
      await()
          .atMost(WAIT)
          .until(
              () ->
                  sut.count(
                          "select count(*) from jobs j join workers w on w.id = j.worker_id "
                              + "where j.id = '"
                              + id
                              + "' and w.last_heartbeat_at > j.dispatch_published_at "
                              + "+ interval '5 seconds'")
                      == 1);
      assertThat(job(id).get("status").asString()).isEqualTo("running");
      assertThat(job(id).get("attempts").asInt()).isEqualTo(1);

      results.resume();
      await().atMost(WAIT).until(() -> "done".equals(job(id).get("status").asString()));
      assertThat(job(id).get("attempts").asInt()).isEqualTo(1);
    } finally {
      results.resume();
    }
  }

  @Test
  void failsAnAttemptWhoseHeartbeatWentStaleWhenItWasTheLast() throws Exception {
    String w = worker("stale");
    String id = submit("sleep 60", 1);
    List<RunningAttempt> runs = new CopyOnWriteArrayList<>();
    try (TopicReader dispatches = sut.readDispatches(w)) {
      beats.scheduleAtFixedRate(() -> heartbeat(w, "x1", runs), 0, 300, TimeUnit.MILLISECONDS);
      JobDispatch d = dispatches(dispatches.until(r -> !r.isEmpty(), WAIT)).get(0);
      runs.add(new RunningAttempt(d.jobId(), d.attempt()));
      await().atMost(WAIT).until(() -> !job(id).path("last_heart_beat").isMissingNode());
      runs.clear(); // the worker lives on but no longer runs the attempt

      await().atMost(WAIT).until(() -> "failed".equals(job(id).get("status").asString()));
      assertThat(job(id).get("failure_reason").asString()).isEqualTo("heartbeat timeout");
      assertThat(job(id).get("attempt_history").get(0).get("outcome").asString())
          .isEqualTo("heartbeat_timeout");
    }
  }

  @Test
  void countsHeartbeatsAndResultsForAttemptsThatAreNotCurrentAndChangesNothing() throws Exception {
    double staleHeartbeats = sut.staleMessages("heartbeat");
    double staleResults = sut.staleMessages("result");
    String id = submit("true", 3);
    await().atMost(WAIT).until(() -> job(id) != null);

    heartbeat(worker("zombie"), "z1", List.of(new RunningAttempt(id, 7)));
    result(
        new JobDispatch(id, 7, "zombie", "z1", "true", java.util.Map.of(), null),
        JobResult.Outcome.SUCCEEDED,
        0);

    await()
        .atMost(WAIT)
        .until(
            () ->
                sut.staleMessages("heartbeat") > staleHeartbeats
                    && sut.staleMessages("result") > staleResults);
    assertThat(job(id).get("status").asString()).isNotEqualTo("done");
    assertThat(job(id).path("last_heart_beat").isMissingNode()).isTrue();
  }

  @Test
  void onlyTheReplicaHoldingTheAdvisoryLockRunsTheReaper() throws Exception {
    Reaper reaper = app.getBean(Reaper.class);
    MeterRegistry meters = app.getBean(MeterRegistry.class);
    try (Connection other =
        DriverManager.getConnection(sut.jdbcUrl, sut.infra.username(), sut.infra.password())) {
      other.setAutoCommit(false);
      other.createStatement().execute("select pg_advisory_xact_lock(" + Reaper.LOCK_ID + ")");

      assertThat(reaper.tick().leader()).isFalse();
      assertThat(meters.get("workron_reaper_leader").gauge().value()).isZero();

      other.commit();
    }
    // the replica's own reaper loop takes the lock back at its next tick (a tick called from
    // here could lose the lock to that loop, which is the same replica)
    await().atMost(WAIT).until(() -> meters.get("workron_reaper_leader").gauge().value() == 1.0);
  }

  // --- helpers

  private static String worker(String name) {
    return sut.worker(name);
  }

  private static String submit(String command, int maxRetries) {
    return sut.submit(command, maxRetries);
  }

  private static void heartbeat(String worker, String incarnation, List<RunningAttempt> running) {
    sut.heartbeat(worker, incarnation, 1, running, null);
  }

  private static void result(JobDispatch d, JobResult.Outcome outcome, int exitCode) {
    sut.result(d, outcome, exitCode, "");
  }

  private static List<ConsumerRecord<String, byte[]>> stopsIn(
      List<ConsumerRecord<String, byte[]>> records) {
    return records.stream().filter(ReaperIT::isStop).toList();
  }

  private static boolean isStop(ConsumerRecord<String, byte[]> record) {
    return new String(record.value(), java.nio.charset.StandardCharsets.UTF_8)
        .contains("\"type\":\"job.stop.v1\"");
  }

  private static List<JobDispatch> dispatches(List<ConsumerRecord<String, byte[]>> records) {
    return sut.dispatches(records);
  }

  private static JsonNode job(String id) {
    return sut.job(id);
  }

  private static String workerStatus(String worker) throws Exception {
    return sut.workerStatus(worker);
  }
}
