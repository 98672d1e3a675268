package io.workron.scheduler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.workron.schemas.JobCancel;
import io.workron.schemas.JobDispatch;
import io.workron.schemas.JobResult;
import io.workron.schemas.JobStop;
import io.workron.schemas.JobSubmission;
import io.workron.schemas.MessageType;
import io.workron.schemas.StopCause;
import io.workron.schemas.WireCodec;
import io.workron.schemas.WorkerHeartbeat;
import io.workron.schemas.WorkerHeartbeat.RunningAttempt;
import io.workron.testsupport.KafkaFixture.TopicReader;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * Cancellation and timeouts on the real database and broker, the test playing the workers: a job
 * not started is cancelled at once with everything downstream; a running one is ordered stopped and
 * ends cancelled when its worker confirms, unless it succeeded first; a worker that ignores the
 * order, or a timeout, is overruled; a cancel sent over Kafka before its job is kept for it.
 */
class JobControlIT {

  private static final Duration WAIT = Duration.ofSeconds(30);
  private static SchedulerUnderTest sut;
  private final ScheduledExecutorService beats = Executors.newScheduledThreadPool(1);

  @BeforeAll
  static void start() {
    sut =
        new SchedulerUnderTest(
            "--workron.scheduler.reaper-tick=200ms",
            "--workron.scheduler.worker-offline-after=2s",
            "--workron.scheduler.tick-interval=200ms",
            "--workron.scheduler.stop-confirm-timeout=2s",
            "--workron.scheduler.queues.bounded.timeout=1500ms",
            "--workron.scheduler.queues.limited.max-running=2");
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
  void aJobNotStartedIsCancelledAtOnceAndSoIsEverythingDownstreamNamingIt() throws Exception {
    // no worker: the job stays pending
    String root = sut.submit("true", 1);
    String child = submitAfter(root);
    String grandchild = submitAfter(child);
    await().atMost(WAIT).until(() -> "blocked".equals(sut.status(grandchild)));

    HttpResponse<String> answer = cancel(root, "{\"reason\":\"superseded by run 42\"}");

    assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
    JsonNode job = sut.codec.mapper().readTree(answer.body());
    assertThat(job.get("status").asString()).isEqualTo("cancelled");
    assertThat(job.get("failure_reason").asString()).isEqualTo("superseded by run 42");
    assertThat(job.has("done_at")).isTrue();
    for (String downstream : List.of(child, grandchild)) {
      assertThat(sut.status(downstream)).isEqualTo("cancelled");
      assertThat(sut.job(downstream).get("failure_reason").asString())
          .isEqualTo("upstream job " + root + " was cancelled");
    }
    // cancelling again changes nothing and says it is cancelled
    HttpResponse<String> again = cancel(root, "");
    assertThat(again.statusCode()).isEqualTo(200);
    assertThat(sut.job(root).get("failure_reason").asString()).isEqualTo("superseded by run 42");
  }

  @Test
  void everyChangeIsAnAuditEventInTheJobsHistoryNamingTheTokenAndTheRequest() throws Exception {
    String id = sut.submit("true", 1); // no worker: it stays pending
    await().atMost(WAIT).until(() -> "pending".equals(sut.status(id)));

    HttpResponse<String> cancelled =
        sut.post("/internal/jobs/" + id + "/cancel", "{}", "req-audit-1", "team-a");
    assertThat(cancelled.statusCode()).as(cancelled.body()).isEqualTo(200);
    HttpResponse<String> retried =
        sut.post("/internal/jobs/" + id + "/retry", "", "req-audit-2", "ops");
    assertThat(retried.statusCode()).as(retried.body()).isEqualTo(200);
    // refused (it is pending again): nothing was changed, so nothing is recorded
    assertThat(sut.post("/internal/jobs/" + id + "/retry", "", "req-audit-3", "ops").statusCode())
        .isEqualTo(409);

    JsonNode audit = sut.job(id).get("audit");
    assertThat(audit).hasSize(2);
    assertThat(audit.get(0).get("action").asString()).isEqualTo("job.cancel");
    assertThat(audit.get(0).get("actor").asString()).isEqualTo("team-a");
    assertThat(audit.get(0).get("request_id").asString()).isEqualTo("req-audit-1");
    assertThat(audit.get(0).has("at")).isTrue();
    assertThat(audit.get(1).get("action").asString()).isEqualTo("job.retry");
    assertThat(audit.get(1).get("actor").asString()).isEqualTo("ops");

    // a change to a queue is no job's: it is recorded with the queue as its subject
    String queue = "audited-" + System.nanoTime();
    assertThat(
            sut.post("/internal/queues/" + queue + "/pause", "", "req-audit-4", "ops").statusCode())
        .isEqualTo(200);
    try (java.sql.Connection c =
            java.sql.DriverManager.getConnection(
                sut.jdbcUrl, sut.infra.username(), sut.infra.password());
        java.sql.PreparedStatement q =
            c.prepareStatement(
                "select action, actor, request_id from audit_events where subject = ?")) {
      q.setString(1, queue);
      try (java.sql.ResultSet r = q.executeQuery()) {
        assertThat(r.next()).isTrue();
        assertThat(r.getString(1)).isEqualTo("queue.pause");
        assertThat(r.getString(2)).isEqualTo("ops");
        assertThat(r.getString(3)).isEqualTo("req-audit-4");
        assertThat(r.next()).isFalse();
      }
    }
  }

  @Test
  void aRunningJobIsOrderedStoppedAndIsCancelledWhenItsWorkerReportsTheStop() throws Exception {
    String worker = sut.worker("w");
    String id = sut.submit("sleep 600", 3);
    try (TopicReader dispatches = sut.readDispatches(worker);
        TopicReader stops = sut.readStops(worker)) {
      JobDispatch d = runningOn(worker, "i1", dispatches);

      HttpResponse<String> answer = cancel(id, "");

      assertThat(answer.statusCode()).as(answer.body()).isEqualTo(202);
      JsonNode stopping = sut.codec.mapper().readTree(answer.body());
      assertThat(stopping.get("status").asString()).isEqualTo("running");
      assertThat(stopping.has("cancel_requested_at")).isTrue();
      JobStop stop = sut.stops(stops.until(r -> !r.isEmpty(), WAIT)).get(0);
      assertThat(stop.jobId()).isEqualTo(id);
      assertThat(stop.attempt()).isEqualTo(d.attempt());
      assertThat(stop.incarnation()).isEqualTo("i1");
      assertThat(stop.cause()).isEqualTo(StopCause.CANCELLED);
      // a second cancel while it stops answers the same and sends no second order
      assertThat(cancel(id, "").statusCode()).isEqualTo(202);

      sut.result(d, JobResult.Outcome.INTERRUPTED, 143, "terminated\n", StopCause.CANCELLED);

      await().atMost(WAIT).until(() -> "cancelled".equals(sut.status(id)));
      JsonNode job = sut.job(id);
      assertThat(job.get("failure_reason").asString()).isEqualTo("cancelled by request");
      assertThat(job.get("attempts").asInt()).isEqualTo(1);
      assertThat(job.get("attempt_history").get(0).get("outcome").asString())
          .isEqualTo("interrupted");
      assertThat(job.get("output").asString()).isEqualTo("terminated\n");
      // never run again: the only dispatch is the first; the only stop, the one above
      assertThat(dispatches.drain(Duration.ofSeconds(1))).hasSize(1);
      assertThat(stops.drain(Duration.ofMillis(200))).hasSize(1);
    }
  }

  @Test
  void anAttemptThatSucceedsBeforeTheStopTakesEffectMakesTheJobDone() throws Exception {
    String worker = sut.worker("w");
    String id = sut.submit("sleep 1", 3);
    try (TopicReader dispatches = sut.readDispatches(worker)) {
      JobDispatch d = runningOn(worker, "i1", dispatches);
      assertThat(cancel(id, "").statusCode()).isEqualTo(202);

      sut.result(d, JobResult.Outcome.SUCCEEDED, 0, "", null);

      await().atMost(WAIT).until(() -> "done".equals(sut.status(id)));
      HttpResponse<String> late = cancel(id, "");
      assertThat(late.statusCode()).as(late.body()).isEqualTo(409);
      JsonNode problem = sut.codec.mapper().readTree(late.body());
      assertThat(problem.get("job_status").asString()).isEqualTo("done");
      assertThat(problem.get("detail").asString()).contains(id).contains("is done");
    }
  }

  @Test
  void anAttemptOfACancelledJobThatFailsFirstIsNotRetried() throws Exception {
    String worker = sut.worker("w");
    String id = sut.submit("exit 1", 5);
    try (TopicReader dispatches = sut.readDispatches(worker)) {
      JobDispatch d = runningOn(worker, "i1", dispatches);
      assertThat(cancel(id, "{\"reason\":\"wrong input\"}").statusCode()).isEqualTo(202);

      sut.result(d, JobResult.Outcome.FAILED, 1, "", null);

      await().atMost(WAIT).until(() -> "cancelled".equals(sut.status(id)));
      assertThat(sut.job(id).get("failure_reason").asString()).isEqualTo("wrong input");
      assertThat(dispatches.drain(Duration.ofSeconds(1))).hasSize(1);
    }
  }

  @Test
  void aWorkerThatKeepsRunningAnAttemptOrderedStoppedIsOverruled() throws Exception {
    String worker = sut.worker("deaf");
    String id = sut.submit("sleep 600", 3);
    try (TopicReader dispatches = sut.readDispatches(worker)) {
      // a worker too old to read stop orders: it keeps listing the attempt in its heartbeats
      runningOn(worker, "old", dispatches);
      assertThat(cancel(id, "").statusCode()).isEqualTo(202);

      await().atMost(WAIT).until(() -> "cancelled".equals(sut.status(id)));
      JsonNode job = sut.job(id);
      assertThat(job.get("failure_reason").asString()).isEqualTo("cancelled by request");
      assertThat(job.get("attempt_history").get(0).get("outcome").asString())
          .isEqualTo("stop_not_confirmed");
      assertThat(dispatches.drain(Duration.ofSeconds(1))).hasSize(1);
    }
  }

  @Test
  void aCancelOverKafkaThatOvertakesItsJobIsAppliedWhenTheJobArrives() throws Exception {
    String id = SchedulerUnderTest.newJobId();
    String gang = "gang-" + id;
    sut.kafka.send(sut.topics.submissions(), id, cancelMessage(id, "gang aborted"));
    await()
        .atMost(WAIT)
        .until(
            () -> sut.count("select count(*) from pending_cancels where job_id = '" + id + "'"),
            n -> n == 1);

    // the job itself comes keyed by its gang, possibly on another partition
    sut.kafka.send(sut.topics.submissions(), gang, sut.submission(id, "true", 1, null));

    await().atMost(WAIT).until(() -> "cancelled".equals(sut.status(id)));
    JsonNode job = sut.job(id);
    assertThat(job.get("failure_reason").asString()).isEqualTo("gang aborted");
    assertThat(job.get("attempts").asInt()).isZero();
    assertThat(sut.count("select count(*) from pending_cancels where job_id = '" + id + "'"))
        .isZero();
  }

  @Test
  void aKeptCancelWhoseJobNeverCameIsForgottenAfterThePendingCancelRetention() throws Exception {
    sut.execute(
        "insert into pending_cancels (job_id, reason, requested_at) values "
            + "('job-gone-long-ago', null, now() - interval '8 days'), "
            + "('job-kept-recently', null, now() - interval '6 days')");

    await()
        .atMost(WAIT)
        .until(
            () ->
                sut.count(
                    "select count(*) from pending_cancels where job_id = 'job-gone-long-ago'"),
            n -> n == 0);
    assertThat(sut.count("select count(*) from pending_cancels where job_id = 'job-kept-recently'"))
        .isEqualTo(1);
  }

  @Test
  void aCancelOverKafkaCancelsAPendingJob() throws Exception {
    String id = sut.submit("true", 1);
    await().atMost(WAIT).until(() -> "pending".equals(sut.status(id)));

    sut.kafka.send(sut.topics.submissions(), id, cancelMessage(id, null));

    await().atMost(WAIT).until(() -> "cancelled".equals(sut.status(id)));
    assertThat(sut.job(id).get("failure_reason").asString()).isEqualTo("cancelled by request");
  }

  @Test
  void aCancelOfAnUnknownJobIs404AndABadReasonIs400() throws Exception {
    HttpResponse<String> unknown = cancel("job-never-submitted", "");
    assertThat(unknown.statusCode()).isEqualTo(404);
    assertThat(sut.codec.mapper().readTree(unknown.body()).get("field").asString()).isEqualTo("id");

    String id = sut.submit("true", 1);
    await().atMost(WAIT).until(() -> "pending".equals(sut.status(id)));
    HttpResponse<String> tooLong = cancel(id, "{\"reason\":\"" + "x".repeat(4097) + "\"}");
    assertThat(tooLong.statusCode()).isEqualTo(400);
    assertThat(sut.codec.mapper().readTree(tooLong.body()).get("field").asString())
        .isEqualTo("reason");
    assertThat(sut.status(id)).isEqualTo("pending");
  }

  @Test
  void aDispatchCarriesTheJobsTimeoutOrElseItsQueuesDefault() throws Exception {
    String worker = sut.worker("w");
    String own = SchedulerUnderTest.newJobId();
    sut.kafka.send(
        sut.topics.submissions(),
        own,
        submission(
            new JobSubmission(
                own, "true", null, null, 9, "bounded", 1, null, 7, null, null, null)));
    String byQueue = SchedulerUnderTest.newJobId();
    sut.kafka.send(
        sut.topics.submissions(),
        byQueue,
        submission(
            new JobSubmission(
                byQueue, "true", null, null, 5, "bounded", 1, null, null, null, null, null)));
    String unbounded = SchedulerUnderTest.newJobId();
    sut.kafka.send(
        sut.topics.submissions(),
        unbounded,
        submission(
            new JobSubmission(
                unbounded, "true", null, null, 1, null, 1, null, null, null, null, null)));
    // each on its own partition: every one must be stored before it is read
    await()
        .atMost(WAIT)
        .until(() -> List.of(own, byQueue, unbounded).stream().allMatch(i -> sut.job(i) != null));
    assertThat(sut.job(own).get("timeout_seconds").asInt()).isEqualTo(7);
    // the queue's 1.5 s, rounded up to whole seconds
    assertThat(sut.job(byQueue).get("timeout_seconds").asInt()).isEqualTo(2);
    assertThat(sut.job(unbounded).has("timeout_seconds")).isFalse();

    try (TopicReader dispatches = sut.readDispatches(worker)) {
      beatAsIdle(worker, 3);
      List<JobDispatch> sent = sut.dispatches(dispatches.until(r -> r.size() >= 3, WAIT));
      java.util.Map<String, Integer> limits = new java.util.HashMap<>();
      sent.forEach(d -> limits.put(d.jobId(), d.timeoutSeconds()));
      assertThat(limits)
          .containsEntry(own, 7)
          .containsEntry(byQueue, 2)
          .containsEntry(unbounded, null);
    }
  }

  @Test
  void anAttemptPastItsTimeoutOnAWorkerThatDoesNotEnforceItIsTakenBackAsAFailure()
      throws Exception {
    String worker = sut.worker("old");
    String id = SchedulerUnderTest.newJobId();
    sut.kafka.send(
        sut.topics.submissions(),
        id,
        submission(
            new JobSubmission(
                id, "sleep 600", null, null, null, null, 1, null, 1, null, null, null)));
    try (TopicReader dispatches = sut.readDispatches(worker)) {
      // a worker too old to know timeout_seconds: it keeps listing the attempt
      runningOn(worker, "old", dispatches);

      await().atMost(WAIT).until(() -> "failed".equals(sut.status(id)));
      JsonNode job = sut.job(id);
      assertThat(job.get("failure_reason").asString()).isEqualTo("timed out after 1 s");
      assertThat(job.get("attempt_history").get(0).get("outcome").asString())
          .isEqualTo("timed_out");
      assertThat(job.get("attempt_history").get(0).get("reason").asString())
          .isEqualTo("timed out after 1 s");
    }
  }

  @Test
  void aTimedOutAttemptIsRetriedWhileAttemptsAreLeftThenFailsSayingSo() throws Exception {
    String worker = sut.worker("w");
    String id = SchedulerUnderTest.newJobId();
    sut.kafka.send(
        sut.topics.submissions(),
        id,
        submission(
            new JobSubmission(
                id, "sleep 600", null, null, null, null, 2, null, 1, null, null, null)));
    try (TopicReader dispatches = sut.readDispatches(worker)) {
      beatAsIdle(worker, 1);
      JobDispatch first = sut.dispatches(dispatches.until(r -> !r.isEmpty(), WAIT)).get(0);
      sut.result(
          first, JobResult.Outcome.FAILED, 137, "", StopCause.TIMED_OUT, "timed out after 1 s");
      JobDispatch second = sut.dispatches(dispatches.until(r -> r.size() >= 2, WAIT)).get(1);
      assertThat(second.attempt()).isEqualTo(2);
      sut.result(
          second, JobResult.Outcome.FAILED, 137, "", StopCause.TIMED_OUT, "timed out after 1 s");

      await().atMost(WAIT).until(() -> "failed".equals(sut.status(id)));
      assertThat(sut.job(id).get("failure_reason").asString()).isEqualTo("timed out after 1 s");
      assertThat(sut.job(id).get("attempts").asInt()).isEqualTo(2);
    }
  }

  @Test
  void aFailedJobRetriedByHandRunsAgainWithAFreshBudgetAndItsHistoryContinues() throws Exception {
    String worker = sut.worker("w");
    String id = sut.submit("exit 1", 2);
    try (TopicReader dispatches = sut.readDispatches(worker)) {
      beatAsIdle(worker, 1);
      failNext(dispatches, 1);
      failNext(dispatches, 2);
      await().atMost(WAIT).until(() -> "failed".equals(sut.status(id)));

      HttpResponse<String> answer = retry(id, "");

      assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
      JsonNode job = sut.codec.mapper().readTree(answer.body());
      assertThat(job.get("status").asString()).isEqualTo("pending");
      assertThat(job.has("failure_reason")).isFalse();
      assertThat(job.has("done_at")).isFalse();
      // a fresh budget of 2: the first attempt after the retry fails and is retried again
      failNext(dispatches, 3);
      JobDispatch fourth = next(dispatches, 4);
      sut.result(fourth, JobResult.Outcome.SUCCEEDED, 0, "ok\n");
      await().atMost(WAIT).until(() -> "done".equals(sut.status(id)));
      JsonNode done = sut.job(id);
      assertThat(done.get("attempts").asInt()).isEqualTo(4);
      assertThat(done.get("attempt_history")).hasSize(4);
      assertThat(done.get("attempt_history").get(3).get("outcome").asString())
          .isEqualTo("succeeded");
    }
  }

  @Test
  void aRetryWithCascadeBringsBackTheJobsCancelledBecauseOfIt() throws Exception {
    String worker = sut.worker("w");
    String root = sut.submit("exit 1", 1);
    String child = submitAfter(root);
    String grandchild = submitAfter(child);
    try (TopicReader dispatches = sut.readDispatches(worker)) {
      beatAsIdle(worker, 1);
      failNext(dispatches, 1);
      await().atMost(WAIT).until(() -> "cancelled".equals(sut.status(grandchild)));
      assertThat(sut.job(child).get("failure_reason").asString())
          .isEqualTo("upstream job " + root + " failed");

      HttpResponse<String> tooEarly = retry(child, "");
      assertThat(tooEarly.statusCode()).as(tooEarly.body()).isEqualTo(409);
      JsonNode problem = sut.codec.mapper().readTree(tooEarly.body());
      assertThat(problem.get("upstream").asString()).isEqualTo(root);
      assertThat(problem.get("upstream_status").asString()).isEqualTo("failed");

      HttpResponse<String> answer = retry(root, "?cascade=true");

      assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
      assertThat(sut.codec.mapper().readTree(answer.body()).get("revived"))
          .extracting(JsonNode::asString)
          .containsExactlyInAnyOrder(child, grandchild);
      assertThat(sut.status(child)).isEqualTo("blocked");
      assertThat(sut.status(grandchild)).isEqualTo("blocked");
      assertThat(sut.job(child).has("failure_reason")).isFalse();
      // the root runs again, and this time its dependents follow it
      sut.result(next(dispatches, 2), JobResult.Outcome.SUCCEEDED, 0, "");
      JobDispatch childRun = next(dispatches, 3);
      assertThat(childRun.jobId()).isEqualTo(child);
      sut.result(childRun, JobResult.Outcome.SUCCEEDED, 0, "");
      JobDispatch grandchildRun = next(dispatches, 4);
      assertThat(grandchildRun.jobId()).isEqualTo(grandchild);
    }
  }

  @Test
  void onlyAFailedOrCancelledJobCanBeRetried() throws Exception {
    String id = sut.submit("true", 1);
    await().atMost(WAIT).until(() -> "pending".equals(sut.status(id)));

    HttpResponse<String> pending = retry(id, "");
    assertThat(pending.statusCode()).isEqualTo(409);
    assertThat(sut.codec.mapper().readTree(pending.body()).get("job_status").asString())
        .isEqualTo("pending");
    assertThat(retry("job-never-submitted", "").statusCode()).isEqualTo(404);
    HttpResponse<String> badFlag = retry(id, "?cascade=maybe");
    assertThat(badFlag.statusCode()).isEqualTo(400);
    assertThat(sut.codec.mapper().readTree(badFlag.body()).get("field").asString())
        .isEqualTo("cascade");

    // a cancelled job runs again
    assertThat(cancel(id, "").statusCode()).isEqualTo(200);
    assertThat(retry(id, "").statusCode()).isEqualTo(200);
    assertThat(sut.status(id)).isEqualTo("pending");
    assertThat(sut.job(id).has("cancel_requested_at")).isFalse();
  }

  @Test
  void aQueueWithMaxRunningTwoNeverRunsMoreThanTwoWhileOtherQueuesProceed() throws Exception {
    String worker = sut.worker("big");
    List<String> limited = new java.util.ArrayList<>();
    for (int i = 0; i < 5; i++) {
      limited.add(submitTo("limited", null, 10));
    }
    List<String> others = new java.util.ArrayList<>();
    for (int i = 0; i < 3; i++) {
      others.add(submitTo("default", null, 0));
    }
    await()
        .atMost(WAIT)
        .until(
            () ->
                java.util.stream.Stream.concat(limited.stream(), others.stream())
                    .allMatch(id -> sut.job(id) != null));
    try (TopicReader dispatches = sut.readDispatches(worker)) {
      beatAsIdle(worker, 10);
      // the limited queue's jobs have the higher priority, yet only two of them start
      List<JobDispatch> first = sut.dispatches(dispatches.until(r -> r.size() >= 5, WAIT));
      assertThat(first).extracting(JobDispatch::jobId).containsAll(others);
      List<JobDispatch> limitedRunning =
          first.stream().filter(d -> limited.contains(d.jobId())).toList();
      assertThat(limitedRunning).hasSize(2);
      JsonNode queue = queue("limited");
      assertThat(queue.get("max_running").asInt()).isEqualTo(2);
      assertThat(queue.get("counts").get("running").asInt()).isEqualTo(2);
      assertThat(queue.get("counts").get("pending").asInt()).isEqualTo(3);

      // one ends: exactly one more starts
      sut.result(limitedRunning.get(0), JobResult.Outcome.SUCCEEDED, 0, "");
      List<JobDispatch> next = sut.dispatches(dispatches.until(r -> r.size() >= 6, WAIT));
      assertThat(limited).contains(next.get(5).jobId());
      assertThat(dispatches.drain(Duration.ofSeconds(1))).hasSize(6);
      await().atMost(WAIT).until(() -> queue("limited").get("counts").get("done").asInt() == 1);
    }
  }

  @Test
  void aQueueLimitedPerKeyRunsOneJobPerKeyAtATime() throws Exception {
    HttpResponse<String> set =
        sut.put("/internal/queues/per-customer", "{\"max_running_per_key\": 1}");
    assertThat(set.statusCode()).as(set.body()).isEqualTo(200);
    String worker = sut.worker("big");
    String a1 = submitTo("per-customer", "cust-a", 3);
    String a2 = submitTo("per-customer", "cust-a", 2);
    String b1 = submitTo("per-customer", "cust-b", 1);
    await()
        .atMost(WAIT)
        .until(() -> List.of(a1, a2, b1).stream().allMatch(i -> sut.job(i) != null));
    try (TopicReader dispatches = sut.readDispatches(worker)) {
      beatAsIdle(worker, 10);
      List<JobDispatch> first = sut.dispatches(dispatches.until(r -> r.size() >= 2, WAIT));
      assertThat(first).extracting(JobDispatch::jobId).containsExactlyInAnyOrder(a1, b1);
      assertThat(dispatches.drain(Duration.ofSeconds(1))).hasSize(2);

      sut.result(
          first.stream().filter(d -> d.jobId().equals(a1)).findFirst().orElseThrow(),
          JobResult.Outcome.SUCCEEDED,
          0,
          "");

      assertThat(next(dispatches, 3).jobId()).isEqualTo(a2);
    }
  }

  @Test
  void whileAQueueIsPausedTheOthersStartInPriorityOrderAcrossQueues() throws Exception {
    HttpResponse<String> paused = sut.post("/internal/queues/held-back/pause", "");
    assertThat(paused.statusCode()).as(paused.body()).isEqualTo(200);
    String worker = sut.worker("w");
    // older and more urgent than everything after it, but its queue is paused
    List<String> held = new java.util.ArrayList<>();
    for (int i = 0; i < 3; i++) {
      held.add(submitTo("held-back", null, 9));
    }
    // distinct priorities: among equals, age is the order of ingestion, not of submission
    String low = submitTo("queue-a", null, 1);
    String high = submitTo("queue-b", null, 7);
    String mid = submitTo("queue-c", null, 5);
    await()
        .atMost(WAIT)
        .until(() -> List.of(low, high, mid).stream().allMatch(i -> sut.job(i) != null));
    try (TopicReader dispatches = sut.readDispatches(worker)) {
      // one slot: each job starts alone, when the one before it has finished, in priority order
      // across the open queues
      beatAsIdle(worker, 1);
      List<String> started = new java.util.ArrayList<>();
      for (int n = 1; n <= 3; n++) {
        JobDispatch d = next(dispatches, n);
        started.add(d.jobId());
        sut.result(d, JobResult.Outcome.SUCCEEDED, 0, "");
      }
      assertThat(started).containsExactly(high, mid, low);
      for (String id : held) {
        assertThat(sut.status(id)).isEqualTo("pending");
      }
      HttpResponse<String> resumed = sut.post("/internal/queues/held-back/resume", "");
      assertThat(resumed.statusCode()).isEqualTo(200);
      assertThat(held).contains(next(dispatches, 4).jobId());
    }
  }

  @Test
  void aPausedQueueHoldsItsJobsUntilResumed() throws Exception {
    HttpResponse<String> paused = sut.post("/internal/queues/held/pause", "");
    assertThat(paused.statusCode()).as(paused.body()).isEqualTo(200);
    assertThat(sut.codec.mapper().readTree(paused.body()).get("paused").asBoolean()).isTrue();
    String worker = sut.worker("w");
    String held = submitTo("held", null, 5);
    await().atMost(WAIT).until(() -> "pending".equals(sut.status(held)));
    String free = submitTo("default", null, 0);
    try (TopicReader dispatches = sut.readDispatches(worker)) {
      beatAsIdle(worker, 4);
      // a round that placed the later, lower-priority job saw the held one and passed it over
      assertThat(next(dispatches, 1).jobId()).isEqualTo(free);
      assertThat(sut.status(held)).isEqualTo("pending");
      assertThat(queue("held").get("counts").get("pending").asInt()).isEqualTo(1);

      HttpResponse<String> resumed = sut.post("/internal/queues/held/resume", "");
      assertThat(resumed.statusCode()).isEqualTo(200);
      assertThat(sut.codec.mapper().readTree(resumed.body()).get("paused").asBoolean()).isFalse();
      assertThat(next(dispatches, 2).jobId()).isEqualTo(held);
    }
  }

  @Test
  void aJobSubmittedToRunLaterWaitsForItsTimeWhileOthersRun() throws Exception {
    String worker = sut.worker("w");
    java.time.Instant runAt =
        Instant.now().plusSeconds(3).truncatedTo(java.time.temporal.ChronoUnit.SECONDS);
    String later = SchedulerUnderTest.newJobId();
    sut.kafka.send(
        sut.topics.submissions(),
        later,
        submission(
            new JobSubmission(
                later, "true", null, null, 9, null, 1, null, null, null, runAt, null)));
    await().atMost(WAIT).until(() -> "pending".equals(sut.status(later)));
    assertThat(java.time.Instant.parse(sut.job(later).get("run_at").asString())).isEqualTo(runAt);
    String now = submitTo("default", null, 0);
    try (TopicReader dispatches = sut.readDispatches(worker)) {
      beatAsIdle(worker, 4);

      assertThat(next(dispatches, 1).jobId()).isEqualTo(now);
      var second = dispatches.until(r -> r.size() >= 2, WAIT).get(1);
      assertThat(second.key()).isEqualTo(later);
      // placed no earlier than asked: the dispatch carries the time of the round that placed it
      assertThat(sut.codec.decode(second.value(), MessageType.JOB_DISPATCH).time())
          .isAfterOrEqualTo(runAt);
    }
  }

  @Test
  void theOutputOfARunningAttemptIsShownUntilItsResultReplacesIt() throws Exception {
    String worker = sut.worker("w");
    String id = sut.submit("train", 3);
    try (TopicReader dispatches = sut.readDispatches(worker)) {
      JobDispatch d = runningOn(worker, "i1", dispatches);

      output(d, d.attempt() + 1, "from the future\n"); // about no attempt that runs: ignored
      output(d, d.attempt(), "epoch 1/3\n");

      await().atMost(WAIT).until(() -> output(id).equals("epoch 1/3\n"));
      assertThat(sut.job(id).get("output").asString()).isEqualTo("epoch 1/3\n");
      sut.result(d, JobResult.Outcome.SUCCEEDED, 0, "epoch 1/3\nepoch 2/3\nepoch 3/3\n");
      // an output that arrives after the attempt's result changes nothing
      output(d, d.attempt(), "epoch 1/3\nepoch 2/3\n");
      await().atMost(WAIT).until(() -> "done".equals(sut.status(id)));
      await().atMost(WAIT).until(() -> sut.staleMessages("output") >= 2);
      assertThat(output(id)).isEqualTo("epoch 1/3\nepoch 2/3\nepoch 3/3\n");
      HttpResponse<String> plain = sut.getResponse("/internal/jobs/" + id + "/output");
      assertThat(plain.headers().firstValue("Content-Type"))
          .hasValueSatisfying(t -> assertThat(t).startsWith("text/plain"));
      assertThat(sut.getResponse("/internal/jobs/job-never-submitted/output").statusCode())
          .isEqualTo(404);
    }
  }

  // --- helpers

  /**
   * Heartbeats as {@code worker} and returns the first dispatch, listed as running from then on.
   */
  private JobDispatch runningOn(String worker, String incarnation, TopicReader dispatches)
      throws Exception {
    List<RunningAttempt> running = new CopyOnWriteArrayList<>();
    beats.scheduleAtFixedRate(
        () -> sut.heartbeat(worker, incarnation, 2, running, WorkerHeartbeat.State.ACTIVE),
        0,
        300,
        TimeUnit.MILLISECONDS);
    JobDispatch d = sut.dispatches(dispatches.until(r -> !r.isEmpty(), WAIT)).get(0);
    running.add(new RunningAttempt(d.jobId(), d.attempt()));
    await().atMost(WAIT).until(() -> sut.job(d.jobId()).has("last_heart_beat"));
    return d;
  }

  private String submitAfter(String upstream) {
    String id = SchedulerUnderTest.newJobId();
    JobSubmission s = new JobSubmission(id, "true", List.of(upstream), null, null, null, 1, null);
    sut.kafka.send(
        sut.topics.submissions(),
        id,
        sut.codec.encode(
            WireCodec.envelope(MessageType.JOB_SUBMITTED, "m-" + id, Instant.now(), s)));
    return id;
  }

  private byte[] submission(JobSubmission s) {
    return sut.codec.encode(
        WireCodec.envelope(MessageType.JOB_SUBMITTED, "m-" + s.id(), Instant.now(), s));
  }

  private void output(JobDispatch d, int attempt, String text) {
    sut.kafka.send(
        sut.topics.results(),
        d.jobId(),
        sut.codec.encode(
            WireCodec.envelope(
                MessageType.JOB_OUTPUT,
                "o-" + java.util.UUID.randomUUID(),
                Instant.now(),
                new io.workron.schemas.JobOutput(
                    d.jobId(), attempt, d.workerId(), d.incarnation(), text, false))));
  }

  private String output(String id) throws Exception {
    HttpResponse<String> r = sut.getResponse("/internal/jobs/" + id + "/output");
    assertThat(r.statusCode()).isEqualTo(200);
    return r.body();
  }

  private byte[] cancelMessage(String id, String reason) {
    return sut.codec.encode(
        WireCodec.envelope(
            MessageType.JOB_CANCEL, "c-" + id, Instant.now(), new JobCancel(id, reason)));
  }

  private String submitTo(String queue, String key, int priority) {
    String id = SchedulerUnderTest.newJobId();
    sut.kafka.send(
        sut.topics.submissions(),
        id,
        submission(
            new JobSubmission(
                id, "true", null, null, priority, queue, 1, null, null, key, null, null)));
    return id;
  }

  private JsonNode queue(String name) throws Exception {
    for (JsonNode q : sut.get("/internal/queues")) {
      if (q.get("name").asString().equals(name)) {
        return q;
      }
    }
    throw new AssertionError("GET /internal/queues does not list " + name);
  }

  /** Heartbeats as incarnation {@code i1} of {@code worker} with {@code slots}, listing nothing. */
  private void beatAsIdle(String worker, int slots) {
    beats.scheduleAtFixedRate(
        () -> sut.heartbeat(worker, "i1", slots, List.of(), WorkerHeartbeat.State.ACTIVE),
        0,
        300,
        TimeUnit.MILLISECONDS);
  }

  /** The {@code n}-th dispatch to the worker, waited for. */
  private JobDispatch next(TopicReader dispatches, int n) {
    return sut.dispatches(dispatches.until(r -> r.size() >= n, WAIT)).get(n - 1);
  }

  /** Waits for the {@code n}-th dispatch and reports it failed with exit code 1. */
  private void failNext(TopicReader dispatches, int n) {
    sut.result(next(dispatches, n), JobResult.Outcome.FAILED, 1, "");
  }

  private HttpResponse<String> retry(String id, String query) throws Exception {
    return sut.post("/internal/jobs/" + id + "/retry" + query, "");
  }

  private HttpResponse<String> cancel(String id, String body) throws Exception {
    return sut.post("/internal/jobs/" + id + "/cancel", body);
  }
}
