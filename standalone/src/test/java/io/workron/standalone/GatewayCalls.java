package io.workron.standalone;

import static org.assertj.core.api.Assertions.assertThat;

import io.workron.testsupport.OpenApiContract;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Calls to a stack's gateway as a REST client makes them, each checked against the OpenAPI
 * document.
 */
final class GatewayCalls {

  private static final JsonMapper JSON = JsonMapper.builder().build();
  private static final HttpClient http = HttpClient.newHttpClient();

  private final int port;

  GatewayCalls(int port) {
    this.port = port;
  }

  /** One call; {@code headers} are added as given (a token, a request id, a traceparent). */
  HttpResponse<String> call(String method, String path, String body, Map<String, String> headers)
      throws Exception {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
            .timeout(Duration.ofSeconds(30))
            .method(
                method,
                body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body));
    if (body != null) {
      request.header("Content-Type", "application/json");
    }
    headers.forEach(request::header);
    HttpRequest built = request.build();
    HttpResponse<String> response = http.send(built, HttpResponse.BodyHandlers.ofString());
    OpenApiContract.check(built, response);
    return response;
  }

  /** Submits {@code body} and answers the new job's id. */
  String submit(String body, Map<String, String> headers) throws Exception {
    HttpResponse<String> response = call("POST", "/jobs", body, headers);
    assertThat(response.statusCode()).as(response.body()).isIn(201, 202);
    String location = response.headers().firstValue("Location").orElseThrow();
    return location.substring(location.lastIndexOf('/') + 1);
  }

  /** The job as {@code GET /jobs/{id}} shows it; an empty object while it is not yet known. */
  JsonNode job(String id, Map<String, String> headers) throws Exception {
    HttpResponse<String> response = call("GET", "/jobs/" + id, null, headers);
    if (response.statusCode() == 404) {
      return JSON.createObjectNode();
    }
    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    return JSON.readTree(response.body());
  }

  /** The {@code Authorization} header of a bearer token, or none for a null token. */
  static Map<String, String> bearer(String token) {
    return token == null ? Map.of() : Map.of("Authorization", "Bearer " + token);
  }
}
