package io.workron.standalone;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.workron.embedded.EmbeddedKafka;
import io.workron.testsupport.TestInfrastructure;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * The whole stack with authentication on, configured the documented way: tokens made by {@code
 * scripts/new-token.sh}, whose printed lines configure the gateway. A token's job runs on a real
 * worker; its cancel is an audit event in the job's history naming the token and the request;
 * scheduler-core's internal API refuses a caller without the gateway's shared token. The broker
 * asks every client for a SASL/PLAIN login, and every service logs in with {@code
 * workron.kafka.username} and {@code .password}: a job that runs shows that each Kafka client of
 * the gateway, scheduler-core and the worker did.
 */
class AuthenticatedStackIT {

  private static final HttpClient http = HttpClient.newHttpClient();

  private static EmbeddedKafka kafka;
  private static StandaloneStack stack;
  private static GatewayCalls gateway;
  private static String ciToken;
  private static String readerToken;

  /** What {@code scripts/new-token.sh NAME SCOPES} printed: the token and its env lines. */
  private record Made(String token, String sha256, Map<String, String> env) {}

  private static Made newToken(String name, String scopes) throws Exception {
    Path script = ComposeFileTest.repositoryRoot().resolve("scripts/new-token.sh");
    Process p =
        new ProcessBuilder("bash", script.toString(), name, scopes)
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
    String token = field(out, "token");
    String sha256 = field(out, "sha256");
    Map<String, String> env = new LinkedHashMap<>();
    Matcher line = Pattern.compile("(?m)^\\s+(WORKRON_AUTH_TOKENS_N_\\w+)=(\\S+)$").matcher(out);
    while (line.find()) {
      env.put(line.group(1), line.group(2));
    }
    return new Made(token, sha256, env);
  }

  private static String field(String out, String name) {
    Matcher m = Pattern.compile("(?m)^" + name + ":\\s+(\\S+)$").matcher(out);
    assertThat(m.find()).as("%s: in %s", name, out).isTrue();
    return m.group(1);
  }

  /** The script's {@code WORKRON_AUTH_TOKENS_N_*} lines as properties of token number {@code n}. */
  private static void configure(Map<String, String> properties, int n, Made made) {
    made.env()
        .forEach(
            (variable, value) ->
                properties.put(
                    "workron.auth.tokens["
                        + n
                        + "]."
                        + variable.substring("WORKRON_AUTH_TOKENS_N_".length()).toLowerCase(),
                    value));
  }

  @BeforeAll
  static void start() throws Exception {
    Made ci = newToken("ci", "jobs:read,jobs:write");
    Made reader = newToken("dashboard", "jobs:read");
    ciToken = ci.token();
    readerToken = reader.token();
    Map<String, String> properties = new LinkedHashMap<>();
    properties.put("workron.auth.enabled", "true");
    configure(properties, 0, ci);
    configure(properties, 1, reader);

    String kafkaPassword = newSecret();
    Path dir = Files.createTempDirectory("workron-auth");
    kafka =
        EmbeddedKafka.start(
            dir.resolve("kafka"),
            "127.0.0.1",
            0,
            new EmbeddedKafka.Sasl("PLAIN", Map.of("workron", kafkaPassword)));
    properties.put("workron.kafka.username", "workron");
    properties.put("workron.kafka.password", kafkaPassword);
    properties.put("workron.kafka.sasl-mechanism", "PLAIN");

    TestInfrastructure infra = TestInfrastructure.get();
    stack =
        StandaloneStack.start(
            new StandaloneStack.Options(
                dir,
                kafka.bootstrapServers(),
                0,
                infra.newDatabase(),
                infra.username(),
                infra.password(),
                0,
                0,
                0,
                1,
                2,
                infra.newTopicPrefix(),
                properties));
    gateway = new GatewayCalls(stack.gatewayPort());
  }

  @AfterAll
  static void stop() {
    if (stack != null) {
      stack.close();
    }
    if (kafka != null) {
      kafka.close();
    }
  }

  /** A secret as {@code scripts/new-token.sh --internal} makes one. */
  private static String newSecret() throws Exception {
    Path script = ComposeFileTest.repositoryRoot().resolve("scripts/new-token.sh");
    Process p = new ProcessBuilder("bash", script.toString(), "--internal").start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).isZero();
    assertThat(out).matches("[A-Za-z0-9_-]{43}");
    return out;
  }

  @Test
  void theScriptsTokenIsOfTheHashItPrintsAndEachRunMakesANewOne() throws Exception {
    Made made = newToken("x", "jobs:write:batch");
    assertThat(made.token()).startsWith("wrk_").hasSizeGreaterThanOrEqualTo(4 + 43);
    assertThat(made.sha256())
        .isEqualTo(
            HexFormat.of()
                .formatHex(
                    MessageDigest.getInstance("SHA-256")
                        .digest(made.token().getBytes(StandardCharsets.UTF_8))));
    assertThat(made.env())
        .containsEntry("WORKRON_AUTH_TOKENS_N_NAME", "x")
        .containsEntry("WORKRON_AUTH_TOKENS_N_SHA256", made.sha256())
        .containsEntry("WORKRON_AUTH_TOKENS_N_SCOPES", "jobs:write:batch");
    assertThat(newToken("x", "jobs:write:batch").token()).isNotEqualTo(made.token());
  }

  @Test
  void aTokensJobRunsAndItsCancelIsInTheJobsHistory() throws Exception {
    assertThat(call("POST", "/jobs", "{\"command\":\"true\"}", null, null).statusCode())
        .isEqualTo(401);
    assertThat(call("POST", "/jobs", "{\"command\":\"true\"}", readerToken, null).statusCode())
        .isEqualTo(403);

    String done = submit("{\"command\":\"echo hello\"}");
    await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> "done".equals(job(done, readerToken).path("status").asString()));
    assertThat(job(done, readerToken).path("output").asString()).contains("hello");

    String running = submit("{\"command\":\"sleep 600\"}");
    await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> "running".equals(job(running, ciToken).path("status").asString()));
    HttpResponse<String> cancel =
        call("POST", "/jobs/" + running + "/cancel", "", ciToken, "req-cancel-by-ci");
    assertThat(cancel.statusCode()).as(cancel.body()).isEqualTo(202);
    await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> "cancelled".equals(job(running, ciToken).path("status").asString()));

    JsonNode audit = job(running, readerToken).path("audit");
    assertThat(audit).hasSize(1);
    assertThat(audit.get(0).path("action").asString()).isEqualTo("job.cancel");
    assertThat(audit.get(0).path("actor").asString()).isEqualTo("ci");
    assertThat(audit.get(0).path("request_id").asString()).isEqualTo("req-cancel-by-ci");
    assertThat(job(done, readerToken).path("audit")).isEmpty();
  }

  @Test
  void everyServicesKafkaHealthCheckLoggedInToo() throws Exception {
    // the readiness groups hold each service's own admin-client check of the broker
    List<Integer> ports = new java.util.ArrayList<>(stack.workerPorts());
    ports.add(stack.gatewayPort());
    ports.add(stack.schedulerPort());
    for (int port : ports) {
      HttpResponse<String> ready =
          http.send(
              HttpRequest.newBuilder(
                      URI.create("http://127.0.0.1:" + port + "/actuator/health/readiness"))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(ready.statusCode()).as("port %d: %s", port, ready.body()).isEqualTo(200);
    }
  }

  @Test
  void schedulerCoresInternalApiRefusesCallersWithoutTheGatewaysToken() throws Exception {
    HttpResponse<String> direct =
        http.send(
            HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + stack.schedulerPort() + "/internal/jobs"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(direct.statusCode()).isEqualTo(401);
  }

  private static String submit(String body) throws Exception {
    return gateway.submit(body, GatewayCalls.bearer(ciToken));
  }

  private static JsonNode job(String id, String token) throws Exception {
    return gateway.job(id, GatewayCalls.bearer(token));
  }

  private static HttpResponse<String> call(
      String method, String path, String body, String token, String requestId) throws Exception {
    Map<String, String> headers = new LinkedHashMap<>(GatewayCalls.bearer(token));
    if (requestId != null) {
      headers.put("X-Request-ID", requestId);
    }
    return gateway.call(method, path, body, headers);
  }
}
