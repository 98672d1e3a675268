package io.workron.testsupport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * What a service's actuator health endpoint answered, as an operator or Kubernetes probe sees it:
 * the HTTP status and the status of each component.
 */
public record HealthProbe(int status, JsonNode body) {

  /**
   * How long a probe waits. A probe must answer within this even while a server the service checks
   * is unreachable; one that has not answered by then fails the test.
   */
  public static final Duration PATIENCE = Duration.ofSeconds(5);

  private static final HttpClient HTTP = HttpClient.newHttpClient();
  private static final JsonMapper JSON = JsonMapper.builder().build();

  /**
   * GETs {@code path} (for example {@code /actuator/health/readiness}) on localhost:{@code port}.
   */
  public static HealthProbe read(int port, String path) {
    HttpRequest request =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
            .timeout(PATIENCE)
            .build();
    try {
      HttpResponse<String> response = HTTP.send(request, HttpResponse.BodyHandlers.ofString());
      return new HealthProbe(response.statusCode(), JSON.readTree(response.body()));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** {@code UP}, {@code DOWN}, … of one component, or empty if the answer does not list it. */
  public String component(String name) {
    return body.path("components").path(name).path("status").asString();
  }

  public List<String> componentNames() {
    return new ArrayList<>(body.path("components").propertyNames());
  }
}
