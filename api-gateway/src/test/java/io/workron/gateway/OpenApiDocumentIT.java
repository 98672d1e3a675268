package io.workron.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.workron.testsupport.OpenApiContract;
import io.workron.testsupport.TestInfrastructure;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.SerializationFeature;
import tools.jackson.databind.json.JsonMapper;

/**
 * The OpenAPI document the gateway serves is the one committed as {@code api-gateway/openapi.json},
 * the one client teams are handed and the REST tests check every exchange against ({@link
 * OpenApiContract}). A change to the API that is not in the committed document fails here; after an
 * intended change, write the served one over it with {@code ./mvnw -pl api-gateway verify
 * -Dit.test=OpenApiDocumentIT -Dworkron.openapi.write=true} and review the diff.
 */
class OpenApiDocumentIT {

  private static final JsonMapper JSON =
      JsonMapper.builder()
          .enable(SerializationFeature.INDENT_OUTPUT)
          .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS)
          .build();

  private static FakeSchedulerCore schedulerCore;
  private static GatewayUnderTest gateway;

  @BeforeAll
  static void start() {
    TestInfrastructure infra = TestInfrastructure.get();
    schedulerCore = FakeSchedulerCore.start();
    gateway =
        GatewayUnderTest.start(
            "spring.kafka.bootstrap-servers=" + infra.kafkaBootstrapServers(),
            "workron.topic-prefix=" + infra.newTopicPrefix(),
            "workron.gateway.scheduler-url=" + schedulerCore.url());
  }

  @AfterAll
  static void stop() {
    if (gateway != null) {
      gateway.close();
    }
    if (schedulerCore != null) {
      schedulerCore.close();
    }
  }

  @Test
  void theServedDocumentIsTheCommittedOne() throws Exception {
    HttpResponse<String> served = gateway.get("/v3/api-docs");
    assertThat(served.statusCode()).isEqualTo(200);
    JsonNode document = JSON.readTree(served.body());
    Path committed = OpenApiContract.document();
    String text = JSON.writeValueAsString(JSON.treeToValue(document, Object.class)) + "\n";
    if (Boolean.getBoolean("workron.openapi.write")) {
      Files.writeString(committed, text);
    }
    Path copy = Path.of("target", "openapi.served.json");
    Files.createDirectories(copy.getParent());
    Files.writeString(copy, text);
    assertThat(JSON.readTree(Files.readString(committed)))
        .as(
            "the served document (written to %s) differs from %s; if the change is intended,"
                + " run ./mvnw -pl api-gateway verify -Dit.test=OpenApiDocumentIT"
                + " -Dworkron.openapi.write=true and commit it",
            copy.toAbsolutePath(), committed)
        .isEqualTo(document);
  }

  @Test
  void everyOperationListsItsAnswersAndEveryProblemIsAProblemDocument() throws Exception {
    JsonNode document = JSON.readTree(Files.readString(OpenApiContract.document()));
    assertThat(document.get("openapi").asString()).startsWith("3.0");
    List<String> problems = new ArrayList<>();
    int operations = 0;
    for (Map.Entry<String, JsonNode> path : document.get("paths").properties()) {
      for (Map.Entry<String, JsonNode> op : path.getValue().properties()) {
        operations++;
        String where = op.getKey().toUpperCase(java.util.Locale.ROOT) + " " + path.getKey();
        JsonNode responses = op.getValue().get("responses");
        if (!op.getValue().has("summary")) {
          problems.add(where + " has no summary");
        }
        boolean success = false;
        for (Map.Entry<String, JsonNode> r : responses.properties()) {
          int status = Integer.parseInt(r.getKey());
          success |= status / 100 == 2;
          if (status == 204 && r.getValue().has("content")) {
            problems.add(where + " 204 has no body, but the document gives it one");
          }
          if (status >= 400) {
            JsonNode schema = r.getValue().path("content").path("application/problem+json");
            if (!schema.path("schema").path("$ref").asString("").endsWith("/Problem")) {
              problems.add(where + " " + status + " is not an application/problem+json Problem");
            }
          }
        }
        if (!success) {
          problems.add(where + " lists no success");
        }
        boolean open = path.getKey().equals("/health");
        // open operations say so with an empty security list; the others need the bearer token
        // of the document-wide requirement and list what refusing it looks like
        if (open != (op.getValue().has("security") && op.getValue().get("security").isEmpty())) {
          problems.add(where + (open ? " is open but does not say so" : " must not be open"));
        }
        for (String always : open ? List.of("500") : List.of("401", "403", "500", "503")) {
          if (!responses.has(always)) {
            problems.add(where + " does not list " + always);
          }
        }
        if (path.getKey().contains("{id}") && !responses.has("404")) {
          problems.add(where + " is about one thing but does not list 404");
        }
      }
    }
    assertThat(operations).isGreaterThanOrEqualTo(22);
    assertThat(document.path("security").toString()).isEqualTo("[{\"bearer\":[]}]");
    assertThat(
            document
                .path("components")
                .path("securitySchemes")
                .path("bearer")
                .path("scheme")
                .asString())
        .isEqualTo("bearer");
    assertThat(problems).isEmpty();
  }

  /** The check the REST tests run on every exchange refuses what the document does not allow. */
  @Test
  void theContractCheckRefusesAnswersTheDocumentDoesNotAllow() {
    java.net.URI job = java.net.URI.create("http://127.0.0.1/jobs/job-1");
    // a job without its status and command
    assertThatThrownBy(() -> check("GET", job, 200, "application/json", "{\"id\":\"job-1\"}"))
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("status");
    // an error that is not a problem document
    assertThatThrownBy(() -> check("GET", job, 404, "application/json", "{\"error\":\"gone\"}"))
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("404");
    // while a problem with its request id passes
    check(
        "GET",
        job,
        404,
        "application/problem+json",
        "{\"title\":\"Not Found\",\"status\":404,\"request_id\":\"r-1\"}");
  }

  private static void check(
      String method, java.net.URI uri, int status, String contentType, String body) {
    OpenApiContract.check(method, uri, Map.of(), null, new Answer(uri, status, contentType, body));
  }

  private record Answer(java.net.URI uri, int statusCode, String contentType, String body)
      implements HttpResponse<String> {
    @Override
    public java.net.http.HttpRequest request() {
      return java.net.http.HttpRequest.newBuilder(uri).build();
    }

    @Override
    public java.util.Optional<HttpResponse<String>> previousResponse() {
      return java.util.Optional.empty();
    }

    @Override
    public java.net.http.HttpHeaders headers() {
      return java.net.http.HttpHeaders.of(
          Map.of("Content-Type", List.of(contentType)), (k, v) -> true);
    }

    @Override
    public java.util.Optional<javax.net.ssl.SSLSession> sslSession() {
      return java.util.Optional.empty();
    }

    @Override
    public java.net.http.HttpClient.Version version() {
      return java.net.http.HttpClient.Version.HTTP_1_1;
    }
  }

  @Test
  void theSwaggerUiIsServed() {
    HttpResponse<String> ui = gateway.get("/swagger-ui/index.html");
    assertThat(ui.statusCode()).isEqualTo(200);
    assertThat(ui.headers().firstValue("Content-Type"))
        .hasValueSatisfying(t -> assertThat(t).startsWith("text/html"));
    assertThat(ui.body()).contains("swagger-ui");
  }
}
