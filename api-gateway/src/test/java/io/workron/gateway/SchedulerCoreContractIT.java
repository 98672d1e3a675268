package io.workron.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.workron.schemas.Ids;
import io.workron.testsupport.TestInfrastructure;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** The gateway with a real broker and a scheduler-core that answers its query contract. */
class SchedulerCoreContractIT {

  private static final JsonMapper JSON = JsonMapper.builder().build();

  private static FakeSchedulerCore schedulerCore;
  private static SubmissionsTopic topic;
  private static GatewayUnderTest gateway;

  @BeforeAll
  static void start() throws Exception {
    TestInfrastructure infra = TestInfrastructure.get();
    String prefix = infra.newTopicPrefix();
    schedulerCore = FakeSchedulerCore.start();
    topic = SubmissionsTopic.create(infra.kafkaBootstrapServers(), prefix);
    gateway =
        GatewayUnderTest.start(
            "spring.kafka.bootstrap-servers=" + infra.kafkaBootstrapServers(),
            "workron.topic-prefix=" + prefix,
            "workron.gateway.scheduler-url=" + schedulerCore.url());
  }

  @AfterAll
  static void stop() {
    if (gateway != null) {
      gateway.close();
    }
    if (topic != null) {
      topic.close();
    }
    if (schedulerCore != null) {
      schedulerCore.close();
    }
  }

  @Test
  void answers201WithTheStoredJobOnceSchedulerCoreHasIt() throws Exception {
    HttpResponse<String> response =
        gateway.post("/jobs", "{\"command\": \"echo hi\", \"depends_on\": [\"job-a\"]}");

    assertThat(response.statusCode()).isEqualTo(201);
    String jobId = response.headers().firstValue("Location").orElseThrow().substring(6);
    assertThat(JSON.readTree(response.body()).path("id").asString()).isEqualTo(jobId);
    assertThat(topic.awaitRecord(jobId).value()).isNotEmpty();
  }

  @Test
  void rejectsDependencyThatSchedulerCoreDoesNotKnowAndProducesNothing() throws Exception {
    long before = topic.recordCount();

    HttpResponse<String> response =
        gateway.post(
            "/jobs", "{\"command\": \"echo hi\", \"depends_on\": [\"job-a\", \"job-missing-7\"]}");

    assertThat(response.statusCode()).isEqualTo(400);
    JsonNode problem = JSON.readTree(response.body());
    assertThat(problem.path("field").asString()).isEqualTo("depends_on");
    assertThat(problem.path("detail").asString())
        .isEqualTo("dependency \"job-missing-7\" does not exist");
    assertThat(topic.recordCount()).isEqualTo(before);
  }

  @Test
  void acceptsADependencyThatIsStoredOnlyOnceIngestionCatchesUp() throws Exception {
    HttpResponse<String> response =
        gateway.post("/jobs", "{\"command\": \"echo hi\", \"depends_on\": [\"job-late-1\"]}");

    assertThat(response.statusCode()).as(response.body()).isEqualTo(201);
    String jobId = response.headers().firstValue("Location").orElseThrow().substring(6);
    assertThat(topic.awaitRecord(jobId).value()).isNotEmpty();
  }

  @Test
  void refusesADependencyThatWouldCloseACycleAndProducesNothing() throws Exception {
    long before = topic.recordCount();
    String self = Ids.jobIdForIdempotencyKey("cycle-1");
    schedulerCore.doesNotKnow(self);

    HttpResponse<String> response =
        gateway.post(
            "/jobs",
            "{\"command\": \"echo hi\", \"depends_on\": [\"job-closes-cycle\"]}",
            "Idempotency-Key",
            "cycle-1");

    assertThat(response.statusCode()).isEqualTo(400);
    JsonNode problem = JSON.readTree(response.body());
    assertThat(problem.path("field").asString()).isEqualTo("depends_on");
    assertThat(problem.path("detail").asString())
        .isEqualTo(
            "depending on these jobs would form a cycle: "
                + self
                + " -> job-closes-cycle -> "
                + self);
    assertThat(topic.recordCount()).isEqualTo(before);
  }

  @Test
  void refusesAJobThatDependsOnItself() throws Exception {
    String self = Ids.jobIdForIdempotencyKey("self-1");
    schedulerCore.doesNotKnow(self);

    HttpResponse<String> response =
        gateway.post(
            "/jobs",
            "{\"command\": \"echo hi\", \"depends_on\": [\"" + self + "\"]}",
            "Idempotency-Key",
            "self-1");

    assertThat(response.statusCode()).isEqualTo(400);
    assertThat(JSON.readTree(response.body()).path("detail").asString())
        .isEqualTo("a job cannot depend on itself");
  }

  @Test
  void answersTheExistingJobForARepeatedIdempotencyKeyAndProducesNothing() throws Exception {
    long before = topic.recordCount();

    HttpResponse<String> response =
        gateway.post("/jobs", "{\"command\": \"echo once\"}", "Idempotency-Key", "once-42");

    String expectedId = Ids.jobIdForIdempotencyKey("once-42");
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("Location")).hasValue("/jobs/" + expectedId);
    assertThat(JSON.readTree(response.body()).path("id").asString()).isEqualTo(expectedId);
    assertThat(topic.recordCount()).isEqualTo(before);
  }

  @Test
  void listsJobsAsAnArrayAndOffersTheNextPageInHeaders() throws Exception {
    HttpResponse<String> response = gateway.get("/jobs?status=pending&limit=2");

    assertThat(response.statusCode()).isEqualTo(200);
    JsonNode jobs = JSON.readTree(response.body());
    assertThat(jobs.isArray()).isTrue();
    assertThat(jobs.size()).isEqualTo(2);
    assertThat(jobs.get(0).path("id").asString()).isEqualTo("job-a");
    assertThat(response.headers().firstValue("X-Next-Cursor"))
        .hasValue(FakeSchedulerCore.NEXT_CURSOR);
    String encodedCursor = URLEncoder.encode(FakeSchedulerCore.NEXT_CURSOR, StandardCharsets.UTF_8);
    assertThat(response.headers().firstValue("Link"))
        .hasValue("</jobs?limit=2&cursor=" + encodedCursor + "&status=pending>; rel=\"next\"");
    assertThat(schedulerCore.lastListQuery()).contains("status=pending", "limit=2");
  }

  @Test
  void passesTheCursorBackToSchedulerCoreIntact() {
    String encodedCursor = URLEncoder.encode(FakeSchedulerCore.NEXT_CURSOR, StandardCharsets.UTF_8);

    HttpResponse<String> response = gateway.get("/jobs?limit=2&cursor=" + encodedCursor);

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(schedulerCore.lastListQuery()).contains("cursor=" + encodedCursor);
  }

  @Test
  void answers404ProblemForAnUnknownJob() throws Exception {
    HttpResponse<String> response = gateway.get("/jobs/job-missing-1");

    assertThat(response.statusCode()).isEqualTo(404);
    assertThat(response.headers().firstValue("Content-Type"))
        .hasValueSatisfying(type -> assertThat(type).startsWith("application/problem+json"));
    assertThat(JSON.readTree(response.body()).path("detail").asString())
        .isEqualTo("job \"job-missing-1\" does not exist");
  }

  @Test
  void passesJobsAndWorkersThroughAsSchedulerCoreServesThem() throws Exception {
    HttpResponse<String> job = gateway.get("/jobs/job-a");
    HttpResponse<String> workers = gateway.get("/workers");

    assertThat(job.statusCode()).isEqualTo(200);
    assertThat(job.body()).isEqualTo(FakeSchedulerCore.storedJob("job-a"));
    assertThat(workers.statusCode()).isEqualTo(200);
    assertThat(JSON.readTree(workers.body()).get(0).path("id").asString()).isEqualTo("w1");
  }

  @Test
  void aCancelReachesSchedulerCoreWithTheCallersRequestIdSoBothServicesLogTheSameOne() {
    HttpResponse<String> cancelled =
        gateway.post("/jobs/job-pending-2/cancel", "", "X-Request-ID", "req-through-1");
    assertThat(cancelled.statusCode()).as(cancelled.body()).isEqualTo(200);
    assertThat(cancelled.headers().firstValue("X-Request-ID")).hasValue("req-through-1");
    assertThat(schedulerCore.lastCancelRequestId()).isEqualTo("req-through-1");
  }

  @Test
  void aCancelIsAnsweredAsSchedulerCoreDecidesIt() throws Exception {
    HttpResponse<String> cancelled = gateway.post("/jobs/job-pending-1/cancel", "");
    assertThat(cancelled.statusCode()).as(cancelled.body()).isEqualTo(200);
    assertThat(JSON.readTree(cancelled.body()).path("status").asString()).isEqualTo("cancelled");

    HttpResponse<String> stopping =
        gateway.post("/jobs/job-running-1/cancel", "{\"reason\": \"wrong input\"}");
    assertThat(stopping.statusCode()).as(stopping.body()).isEqualTo(202);
    JsonNode job = JSON.readTree(stopping.body());
    assertThat(job.path("cancel_requested_at").asString()).isEqualTo("2026-12-01T12:00:00Z");
    assertThat(schedulerCore.seen("cancel reason")).isEqualTo("wrong input");

    HttpResponse<String> finished = gateway.post("/jobs/job-done-1/cancel", "");
    assertThat(finished.statusCode()).isEqualTo(409);
    assertThat(finished.headers().firstValue("Content-Type"))
        .hasValueSatisfying(t -> assertThat(t).startsWith("application/problem+json"));
    JsonNode conflict = JSON.readTree(finished.body());
    assertThat(conflict.path("job_status").asString()).isEqualTo("done");
    assertThat(conflict.path("detail").asString()).contains("job-done-1 is done");

    HttpResponse<String> unknown = gateway.post("/jobs/job-missing-1/cancel", "");
    assertThat(unknown.statusCode()).isEqualTo(404);
    assertThat(JSON.readTree(unknown.body()).path("detail").asString())
        .isEqualTo("job \"job-missing-1\" does not exist");
  }

  @Test
  void aCancelOfAJobAcceptedMomentsAgoWaitsForIngestionBeforeSayingItDoesNotExist()
      throws Exception {
    HttpResponse<String> response = gateway.post("/jobs/job-late-1/cancel", "");

    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
  }

  @Test
  void aCancelBodyWithAFieldOtherThanReasonIsRefusedNamingIt() throws Exception {
    HttpResponse<String> unknownField =
        gateway.post("/jobs/job-pending-1/cancel", "{\"reason\": \"x\", \"force\": true}");
    assertThat(unknownField.statusCode()).isEqualTo(400);
    assertThat(JSON.readTree(unknownField.body()).path("field").asString()).isEqualTo("force");

    HttpResponse<String> notAString =
        gateway.post("/jobs/job-pending-1/cancel", "{\"reason\": 42}");
    assertThat(notAString.statusCode()).isEqualTo(400);
    assertThat(JSON.readTree(notAString.body()).path("field").asString()).isEqualTo("reason");

    HttpResponse<String> notJson = gateway.post("/jobs/job-pending-1/cancel", "please");
    assertThat(notJson.statusCode()).isEqualTo(400);
    assertThat(JSON.readTree(notJson.body()).path("detail").asString()).contains("not valid JSON");
  }

  @Test
  void aRetryIsRelayedWithItsCascadeFlagAndAnUnknownFlagIsRefused() throws Exception {
    HttpResponse<String> retried = gateway.post("/jobs/job-failed-1/retry?cascade=true", "");
    assertThat(retried.statusCode()).as(retried.body()).isEqualTo(200);
    assertThat(JSON.readTree(retried.body()).path("status").asString()).isEqualTo("pending");
    assertThat(schedulerCore.seen("retry query")).isEqualTo("cascade=true");

    HttpResponse<String> finished = gateway.post("/jobs/job-done-1/retry", "");
    assertThat(finished.statusCode()).isEqualTo(409);
    assertThat(JSON.readTree(finished.body()).path("job_status").asString()).isEqualTo("done");

    HttpResponse<String> badFlag = gateway.post("/jobs/job-failed-1/retry?cascade=yes", "");
    assertThat(badFlag.statusCode()).isEqualTo(400);
    assertThat(JSON.readTree(badFlag.body()).path("field").asString()).isEqualTo("cascade");
  }

  @Test
  void queueChangesAreCheckedAndRelayed() throws Exception {
    HttpResponse<String> list = gateway.get("/queues");
    assertThat(list.statusCode()).isEqualTo(200);
    assertThat(JSON.readTree(list.body()).get(0).path("name").asString()).isEqualTo("default");

    HttpResponse<String> set =
        gateway.put("/queues/reports", "{\"max_running\": 2, \"max_running_per_key\": 1}");
    assertThat(set.statusCode()).as(set.body()).isEqualTo(200);
    assertThat(JSON.readTree(set.body()).path("name").asString()).isEqualTo("reports");
    assertThat(schedulerCore.seen("queue method")).isEqualTo("PUT");
    JsonNode relayed = JSON.readTree(schedulerCore.seen("queue body"));
    assertThat(relayed.path("max_running").asInt()).isEqualTo(2);
    assertThat(relayed.path("max_running_per_key").asInt()).isEqualTo(1);

    HttpResponse<String> paused = gateway.post("/queues/reports/pause", "");
    assertThat(paused.statusCode()).isEqualTo(200);
    assertThat(JSON.readTree(paused.body()).path("name").asString()).isEqualTo("reports/pause");
  }

  @org.junit.jupiter.params.ParameterizedTest(name = "{0}")
  @org.junit.jupiter.params.provider.CsvSource(
      delimiter = '|',
      textBlock =
          """
          zero limit      | PUT  | /queues/reports       | {"max_running": 0}          | max_running
          fractional      | PUT  | /queues/reports       | {"max_running": 1.5}        | max_running
          text limit      | PUT  | /queues/reports       | {"max_running_per_key": "1"} | max_running_per_key
          unknown setting | PUT  | /queues/reports       | {"max_concurrency": 3}      | max_concurrency
          unknown action  | POST | /queues/reports/flush | {}                          | action
          """)
  void aBadQueueRequestIsRefusedNamingTheField(
      String caseName, String method, String path, String body, String field) throws Exception {
    HttpResponse<String> response =
        method.equals("PUT") ? gateway.put(path, body) : gateway.post(path, body);

    assertThat(response.statusCode()).as(response.body()).isEqualTo(400);
    assertThat(JSON.readTree(response.body()).path("field").asString()).isEqualTo(field);
  }

  @Test
  void aScheduleIsRelayedAndOneWithAKeyTheApiDoesNotKnowIsRefusedNamingIt() throws Exception {
    HttpResponse<String> created =
        gateway.post(
            "/schedules",
            "{\"name\":\"nightly\",\"cron\":\"0 2 * * *\",\"time_zone\":\"Europe/Paris\","
                + "\"job\":{\"command\":\"make nightly\",\"timeout_seconds\":3600}}");
    assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
    assertThat(JSON.readTree(created.body()).path("job").path("timeout_seconds").asInt())
        .isEqualTo(3600);

    HttpResponse<String> typo =
        gateway.post("/schedules", "{\"name\":\"n\",\"crontab\":\"* * * * *\"}");
    assertThat(typo.statusCode()).isEqualTo(400);
    assertThat(JSON.readTree(typo.body()).path("field").asString()).isEqualTo("crontab");
    HttpResponse<String> jobTypo =
        gateway.post(
            "/schedules",
            "{\"name\":\"n\",\"cron\":\"* * * * *\",\"job\":{\"command\":\"x\",\"timeout\":5}}");
    assertThat(jobTypo.statusCode()).isEqualTo(400);
    assertThat(JSON.readTree(jobTypo.body()).path("field").asString()).isEqualTo("job.timeout");
    HttpResponse<String> action = gateway.post("/schedules/nightly/skip", "");
    assertThat(action.statusCode()).isEqualTo(400);
    assertThat(JSON.readTree(action.body()).path("field").asString()).isEqualTo("action");
  }
}
