package io.workron.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.workron.schemas.Envelope;
import io.workron.schemas.Ids;
import io.workron.schemas.JobSubmission;
import io.workron.schemas.MessageType;
import io.workron.schemas.Topics;
import io.workron.schemas.WireCodec;
import io.workron.testsupport.TestInfrastructure;
import java.net.http.HttpResponse;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** The gateway against a real broker, with scheduler-core nowhere to be found. */
class SubmissionIT {

  private static final JsonMapper JSON = JsonMapper.builder().build();
  private static final WireCodec CODEC = new WireCodec();

  private static SubmissionsTopic topic;
  private static GatewayUnderTest gateway;

  @BeforeAll
  static void start() throws Exception {
    TestInfrastructure infra = TestInfrastructure.get();
    String prefix = infra.newTopicPrefix();
    topic = SubmissionsTopic.create(infra.kafkaBootstrapServers(), prefix);
    gateway =
        GatewayUnderTest.start(
            "spring.kafka.bootstrap-servers=" + infra.kafkaBootstrapServers(),
            "workron.topic-prefix=" + prefix,
            "workron.gateway.scheduler-url=http://127.0.0.1:" + GatewayUnderTest.closedPort());
  }

  @AfterAll
  static void stop() {
    if (gateway != null) {
      gateway.close();
    }
    if (topic != null) {
      topic.close();
    }
  }

  @Test
  void acceptsJobIntoKafkaWhenSchedulerCoreCannotConfirmIt() throws Exception {
    String requestId = "req-" + UUID.randomUUID();

    HttpResponse<String> response =
        gateway.post(
            "/jobs",
            // keys of the seed's and this API's job JSON, as a client may send back what it read,
            // are ignored
            "{\"command\": \"echo hello\", \"resources\": {\"memory_mb\": 256},"
                + " \"timeout_seconds\": 90, \"delay_seconds\": 60,"
                + " \"status\": \"done\", \"attempts\": 2, \"last_heart_beat\": null,"
                + " \"exit_code\": 0, \"attempt_history\": []}",
            "X-Request-ID",
            requestId);

    assertThat(response.statusCode()).isEqualTo(202);
    assertThat(response.headers().firstValue("X-Request-ID")).hasValue(requestId);
    String location = response.headers().firstValue("Location").orElseThrow();
    assertThat(location).matches("/jobs/job-[0-9a-f-]{36}");
    String jobId = location.substring("/jobs/".length());
    JsonNode body = JSON.readTree(response.body());
    assertThat(body.path("id").asString()).isEqualTo(jobId);
    assertThat(body.path("status").asString()).isEqualTo("accepted");

    ConsumerRecord<String, byte[]> record = topic.awaitRecord(jobId);
    Envelope<JobSubmission> envelope = CODEC.decode(record.value(), MessageType.JOB_SUBMITTED);
    assertThat(envelope.payload().id()).isEqualTo(jobId);
    assertThat(envelope.payload().command()).isEqualTo("echo hello");
    assertThat(envelope.payload().resources().memoryMb()).isEqualTo(256);
    assertThat(envelope.payload().timeoutSeconds()).isEqualTo(90);
    // the delay is sent as the time it ends, so a redelivery does not move it
    assertThat(envelope.payload().delaySeconds()).isNull();
    assertThat(envelope.payload().runAt())
        .isBetween(envelope.time().plusSeconds(59), envelope.time().plusSeconds(61));
    assertThat(SubmissionsTopic.header(record, Topics.REQUEST_ID_HEADER)).hasValue(requestId);
  }

  @Test
  void acceptsAGangAsOneSubmissionNamingItsTasksInIndexOrder() throws Exception {
    HttpResponse<String> response =
        gateway.post(
            "/jobs", "{\"command\": \"train.sh\", \"gang_size\": 3, \"preemptible\": true}");

    assertThat(response.statusCode()).as(response.body()).isEqualTo(202);
    JsonNode body = JSON.readTree(response.body());
    String gangId = body.path("gang_id").asString();
    assertThat(gangId).matches("gang-[0-9a-f-]{36}");
    assertThat(response.headers().firstValue("Location")).hasValue("/gangs/" + gangId);
    assertThat(body.path("tasks").values().stream().map(JsonNode::asString).toList())
        .containsExactly(gangId + "-0", gangId + "-1", gangId + "-2");
    assertThat(body.path("status").asString()).isEqualTo("accepted");
    JobSubmission sent =
        CODEC.decode(topic.awaitRecord(gangId).value(), MessageType.JOB_SUBMITTED).payload();
    assertThat(sent.id()).isEqualTo(gangId);
    assertThat(sent.gangSize()).isEqualTo(3);
    assertThat(sent.preemptible()).isTrue();
  }

  @Test
  void derivesJobIdFromIdempotencyKeySoARetriedRequestNamesTheSameJob() throws Exception {
    String key = "nightly-report-" + UUID.randomUUID();
    String expectedId = Ids.jobIdForIdempotencyKey(key);

    HttpResponse<String> response =
        gateway.post("/jobs", "{\"command\": \"make report\"}", "Idempotency-Key", key);

    assertThat(response.statusCode()).isEqualTo(202);
    assertThat(response.headers().firstValue("Location")).hasValue("/jobs/" + expectedId);
    Envelope<JobSubmission> envelope =
        CODEC.decode(topic.awaitRecord(expectedId).value(), MessageType.JOB_SUBMITTED);
    assertThat(envelope.payload().idempotencyKey()).isEqualTo(key);
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      textBlock =
          """
          missing command          | {"priority": 1}                                  | command
          blank command            | {"command": "   "}                               | command
          negative VRAM            | {"command": "x", "resources": {"vram_mb": -1}}   | resources.vram_mb
          zero max_retries         | {"command": "x", "max_retries": 0}               | max_retries
          number where text is due | {"command": "x", "max_retries": "many"}          | max_retries
          object where list is due | {"command": "x", "depends_on": {"a": 1}}         | depends_on
          gang too large           | {"command": "x", "gang_size": 300}               | gang_size
          gang with dependencies   | {"command": "x", "gang_size": 2, "depends_on": ["job-a"]} | depends_on
          preemptible not boolean  | {"command": "x", "preemptible": "yes"}           | preemptible
          zero timeout             | {"command": "x", "timeout_seconds": 0}           | timeout_seconds
          negative timeout         | {"command": "x", "timeout_seconds": -5}          | timeout_seconds
          fractional timeout       | {"command": "x", "timeout_seconds": 1.5}         | timeout_seconds
          timeout as text          | {"command": "x", "timeout_seconds": "2s"}        | timeout_seconds
          fractional max_retries   | {"command": "x", "max_retries": 2.5}             | max_retries
          run_at not RFC 3339      | {"command": "x", "run_at": "tomorrow 9am"}       | run_at
          run_at without offset    | {"command": "x", "run_at": "2026-12-01T18:00:00"} | run_at
          negative delay           | {"command": "x", "delay_seconds": -1}            | delay_seconds
          run_at and delay         | {"command": "x", "run_at": "2026-12-01T18:00:00Z", "delay_seconds": 5} | delay_seconds
          unknown field            | {"command": "x", "retries": 5}                   | retries
          unknown resource         | {"command": "x", "resources": {"gpus": 1}}       | resources.gpus
          """)
  void rejectsInvalidSubmissionNamingTheFieldAndProducesNothing(
      String caseName, String body, String field) throws Exception {
    long before = topic.recordCount();

    HttpResponse<String> response = gateway.post("/jobs", body);

    assertThat(response.statusCode()).isEqualTo(400);
    assertThat(response.headers().firstValue("Content-Type"))
        .hasValueSatisfying(type -> assertThat(type).startsWith("application/problem+json"));
    JsonNode problem = JSON.readTree(response.body());
    assertThat(problem.path("status").asInt()).isEqualTo(400);
    assertThat(problem.path("field").asString()).isEqualTo(field);
    assertThat(problem.path("detail").asString()).isNotBlank();
    assertThat(topic.recordCount()).isEqualTo(before);
  }

  @Test
  void rejectsBodyThatIsNotJson() throws Exception {
    long before = topic.recordCount();

    HttpResponse<String> response = gateway.post("/jobs", "{\"command\": \"echo");

    assertThat(response.statusCode()).isEqualTo(400);
    assertThat(response.headers().firstValue("Content-Type"))
        .hasValueSatisfying(type -> assertThat(type).startsWith("application/problem+json"));
    assertThat(JSON.readTree(response.body()).path("detail").asString())
        .startsWith("request body is not valid JSON");
    assertThat(topic.recordCount()).isEqualTo(before);
  }

  @Test
  void listsEveryProblemWhenSeveralFieldsAreWrong() throws Exception {
    HttpResponse<String> response =
        gateway.post("/jobs", "{\"command\": \"\", \"resources\": {\"memory_mb\": -5}}");

    JsonNode problem = JSON.readTree(response.body());
    assertThat(problem.path("field").asString()).isEqualTo("command");
    assertThat(problem.path("errors").valueStream().map(e -> e.path("field").asString()))
        .containsExactly("command", "resources.memory_mb");
  }

  @Test
  void rejectsUnknownStatusFilterAndOutOfRangeLimitWithoutAskingSchedulerCore() throws Exception {
    HttpResponse<String> badStatus = gateway.get("/jobs?status=finished");
    HttpResponse<String> badLimit = gateway.get("/jobs?limit=1001");

    assertThat(badStatus.statusCode()).isEqualTo(400);
    assertThat(badStatus.headers().firstValue("Content-Type"))
        .hasValueSatisfying(type -> assertThat(type).startsWith("application/problem+json"));
    assertThat(JSON.readTree(badStatus.body()).path("field").asString()).isEqualTo("status");
    assertThat(badLimit.statusCode()).isEqualTo(400);
    assertThat(JSON.readTree(badLimit.body()).path("field").asString()).isEqualTo("limit");
  }

  @Test
  void answers503WithRetryAfterWhenSchedulerCoreIsDown() throws Exception {
    HttpResponse<String> job = gateway.get("/jobs/job-1");
    HttpResponse<String> workers = gateway.get("/workers");

    assertThat(job.statusCode()).isEqualTo(503);
    assertThat(job.headers().firstValue("Retry-After")).hasValue("5");
    assertThat(JSON.readTree(job.body()).path("dependency").asString()).isEqualTo("scheduler-core");
    assertThat(workers.statusCode()).isEqualTo(503);
    assertThat(workers.headers().firstValue("Retry-After")).hasValue("5");
  }

  @Test
  void countsSubmissionOutcomesAndBreakerStatesForPrometheus() {
    gateway.post("/jobs", "{\"command\": \"\"}");

    String scrape = gateway.get("/actuator/prometheus").body();

    assertThat(scrape)
        .containsPattern("workron_gateway_submissions_total\\{outcome=\"rejected\"} [1-9]")
        .contains("workron_gateway_submissions_total{outcome=\"unavailable\"}")
        .contains("resilience4j_circuitbreaker_state{name=\"kafka\",state=\"closed\"} 1.0")
        .contains("resilience4j_circuitbreaker_state{name=\"scheduler-core\"");
  }

  @Test
  void healthNamesTheInstanceAndItsUptime() throws Exception {
    HttpResponse<String> response = gateway.get("/health");

    assertThat(response.statusCode()).isEqualTo(200);
    JsonNode health = JSON.readTree(response.body());
    assertThat(health.path("instance_id").asString()).matches("[0-9a-f]{8}");
    assertThat(health.path("uptime").asString()).matches("(\\d+h)?(\\d+m)?\\d+s");
    assertThat(health.path("status").asString()).isEqualTo("ok");
    assertThat(gateway.get("/health").body()).contains(health.path("instance_id").asString());
  }

  @Test
  void replacesRequestIdThatCouldForgeLogLines() {
    HttpResponse<String> response =
        gateway.get("/health", "X-Request-ID", "abc\" level=ERROR msg=\"forged");

    assertThat(response.headers().firstValue("X-Request-ID"))
        .hasValueSatisfying(id -> assertThat(id).matches("[0-9a-f-]{36}"));
  }
}
