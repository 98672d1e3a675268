package io.workron.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.workron.testsupport.TestInfrastructure;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Bearer tokens as a client meets them: 401 without a good token, 403 without the scope, 200 with
 * it, for each scope; per-queue write tokens held to their queue; health, metrics and the OpenAPI
 * document open; the caller's name and the internal token passed on to scheduler-core.
 */
@ExtendWith(OutputCaptureExtension.class)
class AuthIT {

  private static final JsonMapper JSON = JsonMapper.builder().build();

  private static final String READER = "wrk_reader-token-for-the-auth-test-0001";
  private static final String WRITER = "wrk_writer-token-for-the-auth-test-0002";
  private static final String TEAM_A = "wrk_team-a-token-for-the-auth-test-0003";
  private static final String ADMIN = "wrk_admin-token-for-the-auth-test-00004";
  private static final String INTERNAL = "internal-token-for-the-auth-test";

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
            "workron.gateway.scheduler-url=" + schedulerCore.url(),
            "workron.internal-api.token=" + INTERNAL,
            "workron.auth.tokens[0].name=reader",
            "workron.auth.tokens[0].sha256=" + GatewayUnderTest.sha256(READER),
            "workron.auth.tokens[0].scopes=jobs:read",
            "workron.auth.tokens[1].name=writer",
            "workron.auth.tokens[1].sha256=" + GatewayUnderTest.sha256(WRITER),
            "workron.auth.tokens[1].scopes=jobs:read,jobs:write",
            "workron.auth.tokens[2].name=team-a",
            "workron.auth.tokens[2].sha256=" + GatewayUnderTest.sha256(TEAM_A),
            "workron.auth.tokens[2].scopes=jobs:write:teama",
            "workron.auth.tokens[3].name=ops",
            // upper case hex is the same hash
            "workron.auth.tokens[3].sha256=" + GatewayUnderTest.sha256(ADMIN).toUpperCase(),
            "workron.auth.tokens[3].scopes=admin");
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

  private static String[] bearer(String token) {
    return new String[] {"Authorization", "Bearer " + token};
  }

  private static JsonNode problem(HttpResponse<String> response, int status) {
    assertThat(response.statusCode()).as(response.body()).isEqualTo(status);
    assertThat(response.headers().firstValue("Content-Type")).hasValue("application/problem+json");
    JsonNode body = JSON.readTree(response.body());
    assertThat(body.path("status").asInt()).isEqualTo(status);
    assertThat(body.path("request_id").asString())
        .isEqualTo(response.headers().firstValue("X-Request-ID").orElseThrow());
    return body;
  }

  private static double failures(String reason) {
    String scrape = gateway.exchange("GET", "/actuator/prometheus", null).body();
    String prefix = "workron_auth_failures_total{reason=\"" + reason + "\"} ";
    return scrape
        .lines()
        .filter(l -> l.startsWith(prefix))
        .mapToDouble(l -> Double.parseDouble(l.substring(prefix.length())))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no " + prefix + " in the scrape"));
  }

  @Test
  void noTokenIsRefusedWith401AndAChallengeAndNothingIsSubmitted(CapturedOutput output) {
    double before = failures("missing");
    long records = topic.recordCount();

    HttpResponse<String> submit =
        gateway.exchange("POST", "/jobs", "{\"command\":\"echo no token\"}");
    JsonNode body = problem(submit, 401);
    assertThat(body.path("detail").asString()).contains("Authorization: Bearer");
    assertThat(submit.headers().firstValue("WWW-Authenticate"))
        .hasValue("Bearer realm=\"workron\"");
    assertThat(topic.recordCount()).isEqualTo(records);

    problem(gateway.exchange("GET", "/jobs", null), 401);
    problem(gateway.exchange("POST", "/jobs/job-1/cancel", null), 401);
    problem(gateway.exchange("GET", "/actuator/metrics", null), 401);
    assertThat(failures("missing")).isEqualTo(before + 4);
    assertThat(output.getOut() + output.getErr())
        .contains("refused POST /jobs")
        .contains("no bearer token");
  }

  @Test
  void aWrongTokenIsRefusedWith401InvalidTokenAndIsNeverLogged(CapturedOutput output) {
    String wrong = "wrk_this-token-was-never-configured-anywhere";
    double before = failures("invalid");
    long records = topic.recordCount();

    HttpResponse<String> submit =
        gateway.exchange("POST", "/jobs", "{\"command\":\"echo bad token\"}", bearer(wrong));
    problem(submit, 401);
    assertThat(submit.headers().firstValue("WWW-Authenticate").orElseThrow())
        .startsWith("Bearer realm=\"workron\"")
        .contains("error=\"invalid_token\"");
    assertThat(topic.recordCount()).isEqualTo(records);
    // not a bearer token at all
    problem(gateway.exchange("GET", "/jobs", null, "Authorization", "Basic dXNlcjpwYXNz"), 401);
    assertThat(failures("invalid")).isEqualTo(before + 2);
    String logs = output.getOut() + output.getErr();
    assertThat(logs).contains("the bearer token is not a configured token");
    assertThat(logs).doesNotContain(wrong);
  }

  @Test
  void healthReadinessMetricsAndTheApiDocumentNeedNoToken() {
    for (String path :
        new String[] {
          "/health",
          "/actuator/health/liveness",
          "/actuator/health/readiness",
          "/actuator/prometheus",
          "/v3/api-docs"
        }) {
      assertThat(gateway.exchange("GET", path, null).statusCode()).as(path).isEqualTo(200);
    }
  }

  @Test
  void readScopeReadsButCannotWrite(CapturedOutput output) {
    assertThat(gateway.exchange("GET", "/jobs", null, bearer(READER)).statusCode()).isEqualTo(200);
    assertThat(gateway.exchange("GET", "/jobs/job-r1", null, bearer(READER)).statusCode())
        .isEqualTo(200);
    assertThat(gateway.exchange("GET", "/workers", null, bearer(READER)).statusCode())
        .isEqualTo(200);
    double before = failures("forbidden");
    long records = topic.recordCount();

    JsonNode refused =
        problem(gateway.exchange("POST", "/jobs", "{\"command\":\"echo r\"}", bearer(READER)), 403);
    assertThat(refused.path("required_scope").asString()).isEqualTo("jobs:write");
    assertThat(refused.path("detail").asString()).contains("reader");
    assertThat(topic.recordCount()).isEqualTo(records);
    assertThat(
            problem(gateway.exchange("POST", "/jobs/job-r1/cancel", null, bearer(READER)), 403)
                .path("required_scope")
                .asString())
        .isEqualTo("jobs:write");
    assertThat(failures("forbidden")).isEqualTo(before + 2);
    assertThat(output.getOut() + output.getErr()).contains("token reader lacks scope jobs:write");
  }

  @Test
  void writeScopeSubmitsAndCancelsButAdministersNothing() {
    HttpResponse<String> submitted =
        gateway.exchange("POST", "/jobs", "{\"command\":\"echo w\"}", bearer(WRITER));
    assertThat(submitted.statusCode()).as(submitted.body()).isEqualTo(201);
    assertThat(gateway.exchange("POST", "/jobs/job-w1/cancel", null, bearer(WRITER)).statusCode())
        .isEqualTo(200);
    assertThat(
            gateway
                .exchange("POST", "/jobs/job-q-teama-w2/cancel", null, bearer(WRITER))
                .statusCode())
        .isEqualTo(200);

    for (String[] call :
        new String[][] {
          {"POST", "/jobs/job-w1/retry", null},
          {"PUT", "/queues/default", "{\"max_running\":3}"},
          {"POST", "/queues/default/pause", null},
          {"POST", "/workers/w-1/drain", null},
          {"POST", "/schedules", "{\"name\":\"n\",\"cron\":\"* * * * *\",\"command\":\"true\"}"},
          {"DELETE", "/schedules/n", null},
          {"GET", "/actuator/metrics", null}
        }) {
      JsonNode refused = problem(gateway.exchange(call[0], call[1], call[2], bearer(WRITER)), 403);
      assertThat(refused.path("required_scope").asString()).as(call[1]).isEqualTo("admin");
    }
  }

  @Test
  void anEncodedPathIsJudgedAsTheHandlersSeeIt() {
    // /%61ctuator/metrics is /actuator/metrics: admin, not a read of the API
    JsonNode refused =
        problem(gateway.exchange("GET", "/%61ctuator/metrics", null, bearer(READER)), 403);
    assertThat(refused.path("required_scope").asString()).isEqualTo("admin");
  }

  @Test
  void adminDoesEverything() {
    assertThat(gateway.exchange("GET", "/jobs", null, bearer(ADMIN)).statusCode()).isEqualTo(200);
    assertThat(
            gateway
                .exchange("POST", "/jobs", "{\"command\":\"echo a\"}", bearer(ADMIN))
                .statusCode())
        .isEqualTo(201);
    assertThat(gateway.exchange("POST", "/jobs/job-a1/retry", null, bearer(ADMIN)).statusCode())
        .isEqualTo(200);
    assertThat(
            gateway
                .exchange("PUT", "/queues/default", "{\"max_running\":3}", bearer(ADMIN))
                .statusCode())
        .isEqualTo(200);
    assertThat(gateway.exchange("GET", "/actuator/metrics", null, bearer(ADMIN)).statusCode())
        .isEqualTo(200);
  }

  @Test
  void aQueueTokenWritesOnlyInItsQueue() {
    long records = topic.recordCount();
    HttpResponse<String> own =
        gateway.exchange(
            "POST", "/jobs", "{\"command\":\"echo a\",\"queue_name\":\"teama\"}", bearer(TEAM_A));
    assertThat(own.statusCode()).as(own.body()).isEqualTo(201);
    assertThat(topic.recordCount()).isEqualTo(records + 1);

    JsonNode other =
        problem(gateway.exchange("POST", "/jobs", "{\"command\":\"echo b\"}", bearer(TEAM_A)), 403);
    assertThat(other.path("required_scope").asString()).isEqualTo("jobs:write:default");
    assertThat(other.path("detail").asString()).contains("team-a").contains("queue default");
    assertThat(topic.recordCount()).isEqualTo(records + 1);

    assertThat(
            gateway
                .exchange("POST", "/jobs/job-q-teama-7/cancel", null, bearer(TEAM_A))
                .statusCode())
        .isEqualTo(200);
    // its cancel, sent after the queue was looked up, still names who asked
    assertThat(schedulerCore.seen("cancel actor")).isEqualTo("team-a");
    assertThat(
            problem(
                    gateway.exchange("POST", "/jobs/job-elsewhere/cancel", null, bearer(TEAM_A)),
                    403)
                .path("required_scope")
                .asString())
        .isEqualTo("jobs:write:default");
    assertThat(
            problem(
                    gateway.exchange("POST", "/jobs/job-missing-q/cancel", null, bearer(TEAM_A)),
                    404)
                .path("detail")
                .asString())
        .contains("job-missing-q");
    // another queue's job, named by its Idempotency-Key, is neither shown nor answered with
    JsonNode keyed =
        problem(
            gateway.exchange(
                "POST",
                "/jobs",
                "{\"command\":\"echo c\",\"queue_name\":\"teama\"}",
                "Authorization",
                "Bearer " + TEAM_A,
                "Idempotency-Key",
                "a-key-of-another-team"),
            403);
    assertThat(keyed.path("required_scope").asString()).isEqualTo("jobs:write:default");
    assertThat(keyed.path("command").isMissingNode()).isTrue();
    assertThat(topic.recordCount()).isEqualTo(records + 1);
    // no jobs:read: it cannot list
    assertThat(
            problem(gateway.exchange("GET", "/jobs", null, bearer(TEAM_A)), 403)
                .path("required_scope")
                .asString())
        .isEqualTo("jobs:read");
  }

  @Test
  void schedulerCoreLearnsWhoCalledAndGetsItsOwnToken() {
    assertThat(gateway.exchange("POST", "/jobs/job-who/cancel", null, bearer(WRITER)).statusCode())
        .isEqualTo(200);
    assertThat(schedulerCore.seen("cancel actor")).isEqualTo("writer");
    assertThat(schedulerCore.seen("cancel authorization")).isEqualTo("Bearer " + INTERNAL);
  }
}
